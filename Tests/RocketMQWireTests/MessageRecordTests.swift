import NIOCore
import Testing

@testable import RocketMQWire

/// Helpers shared by the message-side test files.
enum MessageTestSupport {
    /// Expects `body` to throw a `WireError`, of `kind` when given.
    static func expectWireError(
        _ kind: WireError.Kind? = nil, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) {
        let error = #expect(throws: WireError.self, comment, sourceLocation: sourceLocation) { try body() }
        if let kind, let error {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        }
    }

    static func host(_ json: JSONValue?) throws -> MessageHost {
        let ip = try Golden.bytes(hex: try #require(json?["ip_bytes_hex"]?.stringValue))
        return MessageHost(ip: ip, port: try #require(json?["port"]?.int32Value))
    }

    static func properties(_ json: JSONValue?) -> [String: String] {
        var result: [String: String] = [:]
        for member in json?.objectMembers ?? [] {
            result[member.key.stringValue ?? ""] = member.value.stringValue
        }
        return result
    }

    /// A golden record's bytes with `patch` applied.
    static func patched(_ hex: String, _ patch: (inout [UInt8]) -> Void) throws -> ByteBuffer {
        var bytes = try Golden.bytes(hex: hex)
        patch(&bytes)
        return ByteBuffer(bytes: bytes)
    }

    static func setInt32(_ value: Int32, at offset: Int, in bytes: inout [UInt8]) {
        let v = UInt32(bitPattern: value)
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (24 - 8 * i)) }
    }

    static func setInt16(_ value: Int16, at offset: Int, in bytes: inout [UInt8]) {
        let v = UInt16(bitPattern: value)
        bytes[offset] = UInt8(v >> 8)
        bytes[offset + 1] = UInt8(v & 0xFF)
    }

    /// Checks every field of `record` against a golden `decoded` object.
    static func expectFields(
        _ record: MessageRecord, _ d: JSONValue, _ name: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(record.storeSize == d["storeSize"]?.int32Value, "\(name)", sourceLocation: sourceLocation)
        #expect(record.bodyCRC == d["bodyCRC"]?.int32Value, "\(name)", sourceLocation: sourceLocation)
        #expect(record.queueId == d["queueId"]?.int32Value, "\(name)", sourceLocation: sourceLocation)
        #expect(record.flag == d["flag"]?.int32Value, "\(name)", sourceLocation: sourceLocation)
        #expect(record.queueOffset == d["queueOffset"]?.int64Value, "\(name)", sourceLocation: sourceLocation)
        #expect(record.commitLogOffset == d["commitLogOffset"]?.int64Value, "\(name)", sourceLocation: sourceLocation)
        #expect(record.sysFlag == d["sysFlag"]?.int32Value, "\(name)", sourceLocation: sourceLocation)
        #expect(record.bornTimestamp == d["bornTimestamp"]?.int64Value, "\(name)", sourceLocation: sourceLocation)
        #expect(record.storeTimestamp == d["storeTimestamp"]?.int64Value, "\(name)", sourceLocation: sourceLocation)
        #expect(record.reconsumeTimes == d["reconsumeTimes"]?.int32Value, "\(name)", sourceLocation: sourceLocation)
        #expect(
            record.preparedTransactionOffset == d["preparedTransactionOffset"]?.int64Value, "\(name)",
            sourceLocation: sourceLocation)
        #expect(record.bornHost == (try host(d["bornHost"])), "\(name)", sourceLocation: sourceLocation)
        #expect(record.storeHost == (try host(d["storeHost"])), "\(name)", sourceLocation: sourceLocation)
        #expect(record.bornHost.javaIPString == d["bornHost"]?["ip"]?.stringValue, "\(name)", sourceLocation: sourceLocation)
        #expect(
            record.storeHost.javaIPString == d["storeHost"]?["ip"]?.stringValue, "\(name)", sourceLocation: sourceLocation)
        let bodyHex = d["body_hex"]?.stringValue ?? ""  // null = Java's null body = empty
        #expect(Golden.hex(record.body.readableBytesView) == bodyHex, "\(name)", sourceLocation: sourceLocation)
        #expect(record.body.readableBytes == d["body_len"]?.intValue, "\(name)", sourceLocation: sourceLocation)
        #expect(record.topic == d["topic"]?.stringValue, "\(name)", sourceLocation: sourceLocation)
        #expect(record.properties.dictionary == properties(d["properties"]), "\(name)", sourceLocation: sourceLocation)
        if let offsetMsgId = d["offsetMsgId"]?.stringValue {  // client decode: msgId is the UNIQ_KEY
            #expect(record.offsetMessageID == offsetMsgId, "\(name)", sourceLocation: sourceLocation)
            #expect(record.messageID == d["msgId"]?.stringValue, "\(name)", sourceLocation: sourceLocation)
        } else {
            #expect(record.offsetMessageID == d["msgId"]?.stringValue, "\(name)", sourceLocation: sourceLocation)
        }
    }
}

@Suite("Message records (golden messages.jsonl)")
struct MessageRecordTests {
    static let records: [JSONValue] = (try? Golden.lines("messages", where: "kind", is: "record")) ?? []
    /// The record names, as test arguments (readable in test output).
    static let recordNames: [String] = records.compactMap { $0["name"]?.stringValue }
    static func record(named name: String) throws -> JSONValue {
        try #require(records.first { $0["name"]?.stringValue == name })
    }
    static let pullBodies: [JSONValue] = (try? Golden.lines("messages", where: "kind", is: "pull_body")) ?? []

    @Test func allLinesLoaded() {
        #expect(Self.records.count == 10)
        #expect(Self.pullBodies.count == 2)
    }

    @Test(arguments: MessageRecordTests.recordNames)
    func decodesFieldByField(_ name: String) throws {
        let line = try MessageRecordTests.record(named: name)
        let hex = try #require(line["hex"]?.stringValue)
        var buffer = try Golden.buffer(hex: hex)
        let record = try MessageRecord.decode(from: &buffer)
        #expect(buffer.readableBytes == 0)
        #expect(Int(record.storeSize) == line["total_size"]?.intValue)
        let magic = line["magic"]?.stringValue
        #expect(record.version == (magic == "0xDAA320AB" ? .v2 : .v1))
        #expect(String(UInt32(bitPattern: record.version.magicCode), radix: 16, uppercase: true) == magic?.dropFirst(2).description)
        #expect(record.offsetMessageID == line["offset_msg_id"]?.stringValue)
        #expect(record.uniqueKey == line["input"]?["properties"]?["UNIQ_KEY"]?.stringValue)

        // The stored view (decoded_without_decompress where Java's decode would have inflated the body).
        let stored = try #require(line["decoded_without_decompress"] ?? line["decoded"])
        try MessageTestSupport.expectFields(record, stored, name)
        // Java's client view: body inflated, COMPRESSED_FLAG cleared.
        try MessageTestSupport.expectFields(try record.decompressed(), try #require(line["decoded"]), name)
        #expect(record.properties.encoded == line["input"]?["properties_string"]?.stringValue)
        #expect(CRC32.bodyCRC(record.body) == line["input"]?["bodyCRC"]?.int32Value)
    }

    @Test(arguments: MessageRecordTests.recordNames)
    func reencodesByteForByte(_ name: String) throws {
        let line = try MessageRecordTests.record(named: name)
        let hex = try #require(line["hex"]?.stringValue)
        var buffer = try Golden.buffer(hex: hex)
        let record = try MessageRecord.decode(from: &buffer)
        #expect(Golden.hex(try record.encoded().readableBytesView) == hex)
        #expect(record.encodedSize == line["total_size"]?.intValue)
    }

    /// Builds each record from the `input` fields alone (not from a decode) and encodes it.
    @Test(arguments: MessageRecordTests.recordNames)
    func encodesFromInputFields(_ name: String) throws {
        let line = try MessageRecordTests.record(named: name)
        let input = try #require(line["input"])
        let topic = try #require(input["topic"]?.stringValue)
        // Forced V2 only for the short topic: the long one must switch to V2 by itself.
        let version: MessageRecord.Version =
            line["magic"]?.stringValue == "0xDAA320AB" && topic.utf8.count <= 127 ? .v2 : .v1
        let record = MessageRecord(
            topic: topic, body: try Golden.buffer(hex: try #require(input["body_hex"]?.stringValue)),
            properties: MessageProperties(parsing: try #require(input["properties_string"]?.stringValue)),
            queueId: try #require(input["queueId"]?.int32Value), flag: try #require(input["flag"]?.int32Value),
            queueOffset: try #require(input["queueOffset"]?.int64Value),
            commitLogOffset: try #require(input["commitLogOffset"]?.int64Value),
            sysFlag: try #require(input["sysFlag"]?.int32Value),
            bornTimestamp: try #require(input["bornTimestamp"]?.int64Value),
            bornHost: try MessageTestSupport.host(input["bornHost"]),
            storeTimestamp: try #require(input["storeTimestamp"]?.int64Value),
            storeHost: try MessageTestSupport.host(input["storeHost"]),
            reconsumeTimes: try #require(input["reconsumeTimes"]?.int32Value),
            preparedTransactionOffset: try #require(input["preparedTransactionOffset"]?.int64Value),
            version: version)
        #expect(record.bodyCRC == input["bodyCRC"]?.int32Value)  // computed by the initializer
        #expect(Golden.hex(try record.encoded().readableBytesView) == line["hex"]?.stringValue)
        if let uncompressed = input["uncompressed_body_hex"]?.stringValue {
            #expect(Golden.hex(try record.decompressedBody().readableBytesView) == uncompressed)
        }
    }

    @Test func pullBodyDecodesAllRecords() throws {
        let line = try #require(Self.pullBodies.first { $0["name"]?.stringValue == "pull_body_3_records" })
        let hex = try #require(line["hex"]?.stringValue)
        let (records, error) = MessageRecord.decodeAll(try Golden.buffer(hex: hex))
        #expect(error == nil)
        let decoded = try #require(line["decoded"]?.arrayValue)
        try #require(records.count == 3 && decoded.count == 3)
        for (record, expected) in zip(records, decoded) {
            try MessageTestSupport.expectFields(record, expected, "pull_body_3_records")
        }
        #expect(records.map { Int($0.storeSize) } == line["record_sizes"]?.arrayValue?.compactMap(\.intValue))
        // Re-encoding the records one after the other gives the body back.
        var again = ByteBuffer()
        for record in records { try record.encode(into: &again) }
        #expect(Golden.hex(again.readableBytesView) == hex)
    }

    @Test func truncatedPullBodyReturnsTheCompleteRecords() throws {
        let line = try #require(Self.pullBodies.first { $0["name"]?.stringValue == "pull_body_truncated_third_record" })
        let buffer = try Golden.buffer(hex: try #require(line["hex"]?.stringValue))
        #expect(buffer.readableBytes == line["len"]?.intValue)
        let (records, error) = MessageRecord.decodeAll(buffer)
        #expect(records.count == line["decoded_count"]?.intValue)
        #expect(error?.kind == .truncated)
        for (record, expected) in zip(records, line["decoded"]?.arrayValue ?? []) {
            try MessageTestSupport.expectFields(record, expected, "pull_body_truncated_third_record")
        }
    }

    @Test func decodeAllOfNothingIsEmpty() {
        let (records, error) = MessageRecord.decodeAll(ByteBuffer())
        #expect(records.isEmpty && error == nil)
    }

    @Test func bodyIsASliceOfTheInput() throws {
        let hex = try #require(Self.records.first?["hex"]?.stringValue)
        var buffer = try Golden.buffer(hex: hex)
        let record = try MessageRecord.decode(from: &buffer)
        // A slice shares the input's storage: same base address at the body's offset.
        let inputBase = buffer.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        let bodyBase = record.body.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(bodyBase == inputBase + 88)
    }
}
