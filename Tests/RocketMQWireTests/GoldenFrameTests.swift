import NIOCore
import Testing

@testable import RocketMQWire

@Suite("Golden frames (Java 5.3.3)")
struct GoldenFrameTests {
    static let frames: [JSONValue] = (try? Golden.lines("frames")) ?? []

    @Test func allFramesLoaded() { #expect(Self.frames.count == 70) }

    @Test(arguments: frames)
    func decodesAndReencodes(_ line: JSONValue) throws {
        let name = (line["name"]?.stringValue ?? "?") + "/" + (line["serialize_type"]?.stringValue ?? "?")
        let wire = try Golden.bytes(hex: line["hex"]?.stringValue ?? "")
        let cmd = try RemotingFrame.decodeWithLengthPrefix(ByteBuffer(bytes: wire))
        let d = try #require(line["decoded"])
        #expect(cmd.code == d["code"]?.int32Value, "\(name)")
        #expect(cmd.flag == d["flag"]?.int32Value, "\(name)")
        #expect(cmd.opaque == d["opaque"]?.int32Value, "\(name)")
        #expect(cmd.version == d["version"]?.int32Value, "\(name)")
        #expect(cmd.language.name == d["language"]?.stringValue, "\(name)")
        #expect(cmd.remark == d["remark"]?.stringValue, "\(name)")
        #expect((cmd.body?.readableBytes ?? 0) == d["body_len"]?.intValue, "\(name)")
        if let ext = d["extFields"]?.objectMembers {
            var expected = ExtFields()
            for m in ext { expected[m.key.stringValue ?? ""] = m.value.stringValue }
            #expect(cmd.extFields == expected, "\(name)")
        } else {
            #expect(cmd.extFields == nil || cmd.extFields?.isEmpty == true, "\(name)")
        }
        // Re-encode: Java's socket bytes (NettyEncoder) or RemotingCommand.encode() bytes.
        var again = cmd
        if line["serialize_type"]?.stringValue == "ROCKETMQ", line["encode_same_as_wire"]?.boolValue == false {
            again.extFields?.binaryOrder = .insertion
        }
        if let explicit = line["input"]?["explicit_extFields"]?.objectMembers, !explicit.isEmpty {
            again.extFields?.javaInitialCapacity = 256  // Java's addExtField allocates HashMap(256)
        }
        let reencoded = Golden.hex(try RemotingFrame.encode(again).readableBytesView)
        #expect(reencoded == line["hex"]?.stringValue, "\(name)")
    }
}

// MARK: - Typed headers

extension GoldenFrameTests {
    /// Decodes extFields into the typed header named by `header_class`.
    typealias TypedDecoder = @Sendable (ExtFields) throws -> any RemotingHeader

    /// Every `header_class` that appears in frames.jsonl, mapped to its Swift type.
    static let typedDecoders: [String: TypedDecoder] = [
        "GetRouteInfoRequestHeader": { try GetRouteInfoRequestHeader(fields: $0) },
        "SendMessageRequestHeaderV2": { try SendMessageRequestHeader(v2Fields: $0) },
        "SendMessageResponseHeader": { try SendMessageResponseHeader(fields: $0) },
        "PullMessageRequestHeader": { try PullMessageRequestHeader(fields: $0) },
        "PullMessageResponseHeader": { try PullMessageResponseHeader(fields: $0) },
        "QueryConsumerOffsetRequestHeader": { try QueryConsumerOffsetRequestHeader(fields: $0) },
        "QueryConsumerOffsetResponseHeader": { try QueryConsumerOffsetResponseHeader(fields: $0) },
        "UpdateConsumerOffsetRequestHeader": { try UpdateConsumerOffsetRequestHeader(fields: $0) },
        "HeartbeatRequestHeader": { try HeartbeatRequestHeader(fields: $0) },
        "UnregisterClientRequestHeader": { try UnregisterClientRequestHeader(fields: $0) },
        "UnregisterClientResponseHeader": { try UnregisterClientResponseHeader(fields: $0) },
        "GetConsumerListByGroupRequestHeader": { try GetConsumerListByGroupRequestHeader(fields: $0) },
        "GetConsumerListByGroupResponseHeader": { try GetConsumerListByGroupResponseHeader(fields: $0) },
        "NotifyConsumerIdsChangedRequestHeader": { try NotifyConsumerIdsChangedRequestHeader(fields: $0) },
        "ConsumerSendMsgBackRequestHeader": { try ConsumerSendMsgBackRequestHeader(fields: $0) },
        "GetMaxOffsetRequestHeader": { try GetMaxOffsetRequestHeader(fields: $0) },
        "GetMaxOffsetResponseHeader": { try OffsetResponseHeader(fields: $0) },
        "LockBatchMqRequestHeader": { try LockBatchMQRequestHeader(fields: $0) },
        "EndTransactionRequestHeader": { try EndTransactionRequestHeader(fields: $0) },
        "CheckTransactionStateRequestHeader": { try CheckTransactionStateRequestHeader(fields: $0) },
    ]

    static let typedFrames: [JSONValue] = frames.filter { $0["input"]?["header_class"]?.stringValue != nil }

    /// `name/SERIALIZE_TYPE` of each typed frame (readable test-case names).
    static let typedFrameIDs: [String] = typedFrames.map(frameID)

    static func frameID(_ line: JSONValue) -> String {
        (line["name"]?.stringValue ?? "?") + "/" + (line["serialize_type"]?.stringValue ?? "?")
    }

    /// `header_fields` as Java's `toString()` puts them in extFields.
    static func expectedFields(_ input: JSONValue) -> ExtFields {
        var fields = ExtFields()
        for member in input["header_fields"]?.objectMembers ?? [] {
            if let key = member.key.stringValue, let text = member.value.scalarText { fields[key] = text }
        }
        return fields
    }

    @Test func everyGoldenHeaderClassIsTyped() {
        #expect(Self.typedFrames.count == 54)
        for line in Self.typedFrames {
            let cls = line["input"]?["header_class"]?.stringValue ?? ""
            #expect(Self.typedDecoders[cls] != nil, "\(cls)")
        }
    }

    @Test(arguments: typedFrameIDs)
    func typedHeaderDecodesAndRebuildsTheWireBytes(_ name: String) throws {
        let line = try #require(Self.typedFrames.first { Self.frameID($0) == name })
        let type: SerializeType = line["serialize_type"]?.stringValue == "ROCKETMQ" ? .rocketmq : .json
        let input = try #require(line["input"])
        let cls = try #require(input["header_class"]?.stringValue)
        let decode = try #require(Self.typedDecoders[cls], "\(cls)")
        let wire = try Golden.bytes(hex: line["hex"]?.stringValue ?? "")
        let decoded = try RemotingFrame.decodeWithLengthPrefix(ByteBuffer(bytes: wire))
        let expected = Self.expectedFields(input)

        // Decode the frame's extFields into the typed header; its fields must be Java's header_fields.
        var header: (any RemotingHeader)?
        do {
            header = try decode(decoded.extFields ?? ExtFields())
        } catch let error as WireError {
            // Only a response whose Java header object had no fields set (QUERY_NOT_FOUND) may fail: its required
            // field is absent.
            #expect(error.kind == .invalidHeaderField, "\(name)")
            #expect(expected.isEmpty, "\(name): \(error)")
        }
        var explicit = ExtFields()
        for member in input["explicit_extFields"]?.objectMembers ?? [] {
            if let key = member.key.stringValue, let value = member.value.stringValue { explicit[key] = value }
        }
        let fields: ExtFields
        if let header {
            let typedFields = cls == "SendMessageRequestHeaderV2"
                ? (header as? SendMessageRequestHeader)?.v2Fields ?? ExtFields() : header.fields
            #expect(typedFields == expected, "\(name)")
            if cls == "SendMessageRequestHeaderV2" {
                fields = typedFields
            } else {
                fields = header.wireFields(for: type, adding: explicit.isEmpty ? nil : explicit)
            }
        } else {
            fields = explicit
        }

        // Rebuild the command from the typed header and re-encode it: Java's socket bytes.
        var command = RemotingCommand(
            code: try #require(input["code"]?.int32Value), language: LanguageCode(name: input["language"]?.stringValue ?? "") ?? .java,
            version: try #require(input["version"]?.int32Value), opaque: try #require(input["opaque"]?.int32Value),
            flag: try #require(input["flag"]?.int32Value), remark: input["remark"]?.stringValue, extFields: fields,
            body: decoded.body, serializeType: type)
        #expect(Golden.hex(try RemotingFrame.encode(command).readableBytesView) == line["hex"]?.stringValue, "\(name)")

        // Where Java's RemotingCommand.encode() differs (FastCodesHeader in ROCKETMQ form), the HashMap-ordered fields
        // give those bytes.
        if let encodeHex = line["encode_hex"]?.stringValue, let header, cls != "SendMessageRequestHeaderV2" {
            command.extFields = header.wireFields(for: .json, adding: explicit.isEmpty ? nil : explicit)
            #expect(Golden.hex(try RemotingFrame.encode(command).readableBytesView) == encodeHex, "\(name) encode()")
        }
    }
}
