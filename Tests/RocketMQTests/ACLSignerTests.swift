import NIOCore
import RocketMQWire
import Testing

@testable import RocketMQ

@Suite("ACL 1.0 signing: golden (Java 5.3.3 AclClientRPCHook)")
struct ACLSignerGoldenTests {
    static let cases = GoldenCase.all("acl")
    /// Header classes whose ROCKETMQ encoding writes their own fields first (Java `FastCodesHeader`).
    static let fastCodesHeaders: Set<String> = [
        "SendMessageRequestHeaderV2", "SendMessageResponseHeader", "PullMessageRequestHeader",
        "PullMessageResponseHeader",
    ]

    @Test func allCasesLoaded() { #expect(Self.cases.count == 5) }

    /// The request as the Java generator built it, before the hook ran.
    static func request(_ line: JSONValue, serializeType: SerializeType) throws -> RemotingCommand {
        let input = try #require(line["input"])
        var fields = ExtFields()
        // Java's map gets the explicit addExtField entries first; header fields are copied in by the hook.
        for member in input["explicit_extFields"]?.objectMembers ?? [] {
            let key = try #require(member.key.stringValue)
            let value: String = try #require(member.value.scalarText)
            fields[key] = value
        }
        for member in try #require(input["header_fields"]?.objectMembers) {
            let key = try #require(member.key.stringValue)
            let value: String = try #require(member.value.scalarText)
            fields[key] = value
        }
        if serializeType == .rocketmq, Self.fastCodesHeaders.contains(input["header_class"]?.stringValue ?? "") {
            fields.binaryOrder = .insertion
        }
        var body: ByteBuffer?
        if let hex = input["body_hex"]?.stringValue {
            body = ByteBuffer(bytes: try Golden.bytes(hex: hex))
        }
        let decoded = try #require(line["frames"]?["JSON"]?["decoded"])
        return RemotingCommand(
            code: try #require(input["code"]?.int32Value), version: try #require(decoded["version"]?.int32Value),
            opaque: try #require(decoded["opaque"]?.int32Value), extFields: fields, body: body,
            serializeType: serializeType)
    }

    static func credentials(_ line: JSONValue) throws -> SessionCredentials {
        let input = try #require(line["input"])
        return SessionCredentials(
            accessKey: try #require(input["access_key"]?.stringValue),
            secretKey: try #require(input["secret_key"]?.stringValue),
            securityToken: input["security_token"]?.stringValue)
    }

    static func stringMap(_ value: JSONValue?) throws -> [String: String] {
        var map: [String: String] = [:]
        for member in try #require(value?.objectMembers) {
            let key = try #require(member.key.stringValue)
            let value: String = try #require(member.value.stringValue)
            map[key] = value
        }
        return map
    }

    @Test(arguments: cases)
    func signsLikeJava(_ golden: GoldenCase) throws {
        let line = golden.line
        let name = line["name"]?.stringValue ?? "?"
        var command = try Self.request(line, serializeType: .json)
        let credentials = try Self.credentials(line)
        ACLSigner.sign(&command, credentials: credentials)
        let fields = try #require(command.extFields)

        let content = ACLSigner.signedContent(fields: fields, body: command.body)
        let expectedKeys = try #require(line["signed_keys_in_order"]?.arrayValue).compactMap(\.stringValue)
        #expect(content.keys == expectedKeys, "\(name)")
        let signedString = try #require(line["signed_string"]?.stringValue)
        #expect(expectedKeys.compactMap { fields[$0] }.joined() == signedString, "\(name)")
        #expect(Golden.hex(content.bytes) == line["signed_bytes_hex"]?.stringValue, "\(name)")
        #expect(fields[ACLSigner.signatureField] == line["signature"]?.stringValue, "\(name)")
        #expect(line["signature_recomputed_matches"]?.boolValue == true, "\(name)")
        #expect(fields.dictionary == (try Self.stringMap(line["final_extFields"])), "\(name)")
    }

    /// The signed JSON frame is Java's, byte for byte.
    @Test(arguments: cases)
    func jsonFrameIsByteExact(_ golden: GoldenCase) throws {
        let line = golden.line
        let name = line["name"]?.stringValue ?? "?"
        var command = try Self.request(line, serializeType: .json)
        ACLSigner.sign(&command, credentials: try Self.credentials(line))
        let frame = try RemotingFrame.encode(command)
        let golden = try #require(line["frames"]?["JSON"])
        #expect(Golden.hex(frame.readableBytesView) == golden["hex"]?.stringValue, "\(name)")
        let decoded = try RemotingFrame.decodeWithLengthPrefix(frame)
        #expect(decoded.extFields?.dictionary == (try Self.stringMap(golden["decoded"]?["extFields"])), "\(name)")
    }

    /// The signed ROCKETMQ frame is Java's, byte for byte, except that Java writes a `FastCodesHeader`'s fields
    /// twice (its own encoder, then the extFields the hook filled): with those second copies removed from Java's
    /// bytes, the frames are identical.
    @Test(arguments: cases)
    func rocketMQFrameMatches(_ golden: GoldenCase) throws {
        let line = golden.line
        let name = line["name"]?.stringValue ?? "?"
        var command = try Self.request(line, serializeType: .rocketmq)
        ACLSigner.sign(&command, credentials: try Self.credentials(line))
        let frame = try RemotingFrame.encode(command)
        let golden = try #require(line["frames"]?["ROCKETMQ"])
        let javaBytes = try Golden.bytes(hex: try #require(golden["hex"]?.stringValue))
        let duplicates = try #require(golden["duplicate_keys_on_wire"]?.arrayValue).compactMap(\.stringValue)
        let wireOrder = try #require(golden["ext_key_order"]?.arrayValue).compactMap(\.stringValue)

        let java = try BinaryFrame(javaBytes)
        #expect(java.entries.map(\.key) == wireOrder, "\(name)")
        #expect(Set(java.entries.map(\.key)).count == wireOrder.count - duplicates.count, "\(name)")
        let ours = try BinaryFrame(Array(frame.readableBytesView))
        #expect(ours.bytes == java.removingRepeatedKeys().bytes, "\(name)")
        if duplicates.isEmpty {
            #expect(Golden.hex(frame.readableBytesView) == golden["hex"]?.stringValue, "\(name)")
        }
        let decoded = try RemotingFrame.decodeWithLengthPrefix(frame)
        #expect(decoded.extFields?.dictionary == (try Self.stringMap(golden["decoded"]?["extFields"])), "\(name)")
        #expect(decoded.extFields == (try RemotingFrame.decodeWithLengthPrefix(ByteBuffer(bytes: javaBytes))).extFields)
    }
}

/// A ROCKETMQ-serialized frame split into its parts, to compare the extFields entries.
struct BinaryFrame {
    var fixed: [UInt8]  // code .. flag (13 bytes) + remark length and remark
    var entries: [(key: String, bytes: [UInt8])]
    var body: [UInt8]

    init(_ frame: [UInt8]) throws {
        func int(_ at: Int, _ width: Int) throws -> Int {
            guard at + width <= frame.count else { throw GoldenError("truncated frame") }
            return frame[at..<(at + width)].reduce(0) { $0 << 8 | Int($1) }
        }
        guard try int(4, 1) == 1 else { throw GoldenError("not a ROCKETMQ frame") }
        let headerLength = try int(5, 3)
        let remarkLength = try int(8 + 13, 4)
        let extStart = 8 + 17 + remarkLength
        fixed = Array(frame[8..<extStart])
        let extLength = try int(extStart, 4)
        var at = extStart + 4
        entries = []
        while at < extStart + 4 + extLength {
            let keyLength = try int(at, 2)
            let valueLength = try int(at + 2 + keyLength, 4)
            let end = at + 2 + keyLength + 4 + valueLength
            let key = String(decoding: frame[(at + 2)..<(at + 2 + keyLength)], as: UTF8.self)
            entries.append((key, Array(frame[at..<end])))
            at = end
        }
        guard at == 8 + headerLength else { throw GoldenError("extFields do not end the header") }
        body = Array(frame[at...])
    }

    /// Keeps the first occurrence of each key.
    func removingRepeatedKeys() -> BinaryFrame {
        var copy = self
        var seen: Set<String> = []
        copy.entries = entries.filter { seen.insert($0.key).inserted }
        return copy
    }

    /// The frame re-assembled with its lengths recomputed.
    var bytes: [UInt8] {
        let ext = entries.flatMap(\.bytes)
        let header = fixed + be32(ext.count) + ext
        return be32(4 + header.count + body.count) + [1] + be32(header.count).dropFirst() + header + body
    }

    private func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
}

@Suite("ACL 1.0 signing: behaviour")
struct ACLSignerTests {
    static let credentials = SessionCredentials(accessKey: "RocketMQ", secretKey: "12345678")

    @Test func resigningKeepsPositionsAndSignature() throws {
        var command = RemotingCommand.request(.getRouteInfoByTopic, extFields: ["topic": "GoldenTopic"])
        ACLSigner.sign(&command, credentials: Self.credentials)
        let first = try #require(command.extFields)
        #expect(first.keys == ["AccessKey", "topic", "Signature"])
        #expect(first["Signature"] == "PtiCK/y2Jd4MyAfJlo/Eh+7XR98=")
        #expect(first.javaInitialCapacity == 256)
        ACLSigner.sign(&command, credentials: Self.credentials)
        #expect(command.extFields?.keys == first.keys)
        #expect(command.extFields == first)
    }

    @Test func noFieldsAtAll() throws {
        var command = RemotingCommand(code: 34, extFields: nil)
        ACLSigner.sign(&command, credentials: SessionCredentials(accessKey: "ak", secretKey: "sk", securityToken: "t"))
        let fields = try #require(command.extFields)
        #expect(fields.keys == ["AccessKey", "SecurityToken", "Signature"])
        #expect(ACLSigner.signedContent(fields: fields, body: nil).bytes == Array("akt".utf8))
    }

    @Test func insertionOrderAppendsAfterHeaderFields() throws {
        var fields: ExtFields = ["b": "1", "a": "2"]
        fields.binaryOrder = .insertion
        var command = RemotingCommand(code: 310, extFields: fields, serializeType: .rocketmq)
        ACLSigner.sign(&command, credentials: Self.credentials)
        #expect(command.extFields?.keys == ["b", "a", "AccessKey", "Signature"])
        #expect(command.extFields?.binaryOrder == .insertion)
    }

    @Test func bodyReaderIndexIsRespected() {
        var body = ByteBuffer(bytes: [0xFF, 0xFE, 1, 2, 3])
        body.moveReaderIndex(forwardBy: 2)
        let content = ACLSigner.signedContent(fields: ["k": "v"], body: body)
        #expect(content.bytes == [UInt8(ascii: "v"), 1, 2, 3])
    }

    @Test func credentialsDescriptionHidesSecrets() {
        let text = "\(SessionCredentials(accessKey: "ak", secretKey: "very-secret", securityToken: "tok"))"
        #expect(text.contains("ak"))
        #expect(!text.contains("very-secret"))
        #expect(!text.contains("tok"))
    }
}
