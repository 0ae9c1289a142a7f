import NIOCore
import Testing

@testable import RocketMQWire

/// A small deterministic PRNG (SplitMix64) so fuzz runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Malformed frames")
struct MalformedFrameTests {
    static let frames: [JSONValue] = (try? Golden.lines("frames")) ?? []

    /// A mix of small and large, request and response, with and without remark, extFields and body.
    static let sampleNames = [
        "get_routeinfo_request", "get_routeinfo_response_topic_not_exist", "send_message_v2_request",
        "pull_message_response_found", "heart_beat_request", "check_transaction_state_request", "go_away_response",
        "unregister_client_response",
    ]
    static let sampleIDs = sampleNames.flatMap { ["\($0)/JSON", "\($0)/ROCKETMQ"] }

    static func wire(_ id: String) throws -> [UInt8] {
        let parts = id.split(separator: "/").map(String.init)
        let line = try #require(frames.first {
            $0["name"]?.stringValue == parts.first && $0["serialize_type"]?.stringValue == parts.last
        })
        return try Golden.bytes(hex: line["hex"]?.stringValue ?? "")
    }

    /// Bytes 8..<8+H of a frame: its header.
    static func headerLength(_ wire: [UInt8]) -> Int {
        Int(wire[5]) << 16 | Int(wire[6]) << 8 | Int(wire[7])
    }

    /// A complete frame around `header` and `body`.
    static func frame(type: UInt8, header: [UInt8], body: [UInt8] = [], headerLength: Int? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(4 + header.count + body.count))
        buffer.writeInteger(UInt32(type) << 24 | UInt32(headerLength ?? header.count))
        buffer.writeBytes(header)
        buffer.writeBytes(body)
        return buffer
    }

    static func jsonFrame(_ header: String) -> ByteBuffer { frame(type: 0, header: Array(header.utf8)) }

    /// Decodes `bytes` as a stream: split frames until more bytes are needed. Only `WireError`s may escape.
    static func consume(_ bytes: [UInt8]) -> (frames: Int, error: WireError?) {
        var buffer = ByteBuffer(bytes: bytes)
        var count = 0
        do {
            while let frame = try RemotingFrame.split(&buffer) {
                _ = try RemotingFrame.decode(frame)
                count += 1
            }
            return (count, nil)
        } catch let error as WireError {
            return (count, error)
        } catch {
            Issue.record("non-WireError \(error)")
            return (count, nil)
        }
    }

    static func expectWireError(
        _ kind: WireError.Kind, _ buffer: ByteBuffer, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try RemotingFrame.decodeWithLengthPrefix(buffer)
            Issue.record("decoded a malformed frame", sourceLocation: sourceLocation)
        } catch let error as WireError {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("non-WireError \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: Truncation

    @Test(arguments: sampleIDs)
    func everyTruncatedStreamWaitsForMoreBytes(_ id: String) throws {
        let wire = try Self.wire(id)
        for cut in 0..<wire.count {
            var buffer = ByteBuffer(bytes: wire[0..<cut])
            #expect(try RemotingFrame.split(&buffer) == nil, "\(id) cut at \(cut)")
            #expect(buffer.readerIndex == 0)
        }
        var whole = ByteBuffer(bytes: wire)
        #expect(try RemotingFrame.split(&whole) != nil)
    }

    @Test(arguments: sampleIDs)
    func everyTruncatedFrameIsRejectedOrLosesOnlyBody(_ id: String) throws {
        let wire = try Self.wire(id)
        let full = try RemotingFrame.decodeWithLengthPrefix(ByteBuffer(bytes: wire))
        let headerEnd = 8 + Self.headerLength(wire)
        for cut in 4..<wire.count {
            // The frame split off with a length prefix that agrees with the cut: decode sees a short frame.
            var prefixed = ByteBuffer()
            prefixed.writeInteger(Int32(cut - 4))
            prefixed.writeBytes(wire[4..<cut])
            do {
                let command = try RemotingFrame.decodeWithLengthPrefix(prefixed)
                #expect(cut >= headerEnd, "\(id): decoded a frame cut inside its header at \(cut)")
                #expect((command.body?.readableBytes ?? 0) == cut - headerEnd)
                #expect(command.code == full.code && command.extFields == full.extFields && command.remark == full.remark)
            } catch let error as WireError {
                #expect(cut < headerEnd, "\(id): cut at \(cut) in the body threw \(error)")
            }
        }
    }

    @Test(arguments: sampleIDs)
    func everyStrictPrefixOfAHeaderIsRejected(_ id: String) throws {
        let wire = try Self.wire(id)
        let length = Self.headerLength(wire)
        let header = Array(wire[8..<(8 + length)])
        for k in 0..<length {
            // The header-length word claims exactly the shortened header.
            let buffer = Self.frame(type: wire[4], header: Array(header[0..<k]))
            #expect(throws: WireError.self, "\(id): header prefix of \(k) bytes") {
                try RemotingFrame.decodeWithLengthPrefix(buffer)
            }
        }
    }

    @Test func goldenStreamSplitsAtEveryChunkSize() throws {
        let all = try Self.sampleIDs.flatMap { try Self.wire($0) }
        for chunk in [1, 2, 3, 7, 64, 1000] {
            var buffer = ByteBuffer()
            var decoded = 0
            var offset = 0
            while offset < all.count {
                buffer.writeBytes(all[offset..<min(all.count, offset + chunk)])
                offset += chunk
                while let frame = try RemotingFrame.split(&buffer) {
                    _ = try RemotingFrame.decode(frame)
                    decoded += 1
                }
            }
            #expect(decoded == Self.sampleIDs.count && buffer.readableBytes == 0, "chunk \(chunk)")
        }
    }

    // MARK: Corrupted length fields

    @Test func frameLengthOutOfRange() throws {
        for length: Int32 in [-1, Int32.min, 0, 1, 3] {
            var buffer = ByteBuffer()
            buffer.writeInteger(length)
            buffer.writeBytes([0, 0, 0, 0])
            let error = try #require(throws: WireError.self) { try RemotingFrame.split(&buffer) }
            #expect(error.kind == .invalidLength)
            #expect(buffer.readerIndex == 0)
        }
        for length: Int32 in [Int32.max, 16_777_213] {
            var buffer = ByteBuffer()
            buffer.writeInteger(length)
            let error = try #require(throws: WireError.self) { try RemotingFrame.split(&buffer) }
            #expect(error.kind == .frameTooLarge)
        }
        // A smaller configured limit applies too.
        var small = ByteBuffer(bytes: try Self.wire("heart_beat_request/JSON"))
        #expect(throws: WireError.self) { try RemotingFrame.split(&small, maxFrameLength: 100) }
        // Trailing bytes after a complete frame are rejected by the single-frame decoder.
        Self.expectWireError(.invalidLength, ByteBuffer(bytes: try Self.wire("go_away_response/JSON") + [0]))
    }

    @Test(arguments: ["get_routeinfo_request/JSON", "get_routeinfo_request/ROCKETMQ", "pull_message_response_found/ROCKETMQ"])
    func headerLengthWordBeyondTheFrame(_ id: String) throws {
        var wire = try Self.wire(id)
        let available = wire.count - 8
        for claimed in [available + 1, available + 1000, 0xFF_FFFF] {
            wire[5] = UInt8(truncatingIfNeeded: claimed >> 16)
            wire[6] = UInt8(truncatingIfNeeded: claimed >> 8)
            wire[7] = UInt8(truncatingIfNeeded: claimed)
            Self.expectWireError(.badHeaderLength, ByteBuffer(bytes: wire))
        }
    }

    @Test func unknownSerializeTypes() throws {
        let wire = try Self.wire("get_routeinfo_request/JSON")
        for type in 2...255 {
            var bad = wire
            bad[4] = UInt8(type)
            Self.expectWireError(.unknownSerializeType, ByteBuffer(bytes: bad))
        }
    }

    /// Offsets inside a ROCKETMQ frame (length prefix included).
    static let remarkLengthOffset = 8 + 13

    @Test func binaryRemarkLengthCorruptions() throws {
        let wire = try Self.wire("get_routeinfo_response_topic_not_exist/ROCKETMQ")
        let headerLength = Int32(Self.headerLength(wire))
        for length: Int32 in [-1, Int32.min, Int32.max, headerLength, headerLength - 16] {
            var buffer = ByteBuffer(bytes: wire)
            buffer.setInteger(length, at: Self.remarkLengthOffset)
            Self.expectWireError(.invalidLength, buffer)
        }
        // A remark that is not UTF-8.
        var buffer = ByteBuffer(bytes: wire)
        buffer.setBytes([0xC3, 0x28], at: Self.remarkLengthOffset + 4)
        Self.expectWireError(.invalidUTF8, buffer)
    }

    @Test func binaryExtFieldsCorruptions() throws {
        let wire = try Self.wire("get_routeinfo_request/ROCKETMQ")  // no remark; one entry "topic" -> "GoldenTopic"
        let extLengthOffset = Self.remarkLengthOffset + 4
        let keyLengthOffset = extLengthOffset + 4
        let valueLengthOffset = keyLengthOffset + 2 + 5
        let extLength = ByteBuffer(bytes: wire).getInteger(at: extLengthOffset, as: Int32.self) ?? 0
        #expect(extLength == 2 + 5 + 4 + 11)
        for length: Int32 in [-1, Int32.min, Int32.max, extLength + 1] {
            var buffer = ByteBuffer(bytes: wire)
            buffer.setInteger(length, at: extLengthOffset)
            Self.expectWireError(.invalidLength, buffer)
        }
        for length: Int16 in [-1, Int16.min, Int16.max, 6 + 4 + 11 + 1] {
            var buffer = ByteBuffer(bytes: wire)
            buffer.setInteger(length, at: keyLengthOffset)
            Self.expectWireError(.invalidLength, buffer)
        }
        for length: Int32 in [-1, Int32.min, Int32.max, 12] {
            var buffer = ByteBuffer(bytes: wire)
            buffer.setInteger(length, at: valueLengthOffset)
            Self.expectWireError(.invalidLength, buffer)
        }
        // An entry cut off inside the map block: shrink the block so it ends in the middle of the value.
        var cut = ByteBuffer(bytes: wire)
        cut.setInteger(extLength - 3, at: extLengthOffset)
        Self.expectWireError(.invalidLength, cut)
        // Invalid UTF-8 in a key and in a value.
        var badKey = ByteBuffer(bytes: wire)
        badKey.setBytes([0xFF], at: keyLengthOffset + 2)
        Self.expectWireError(.invalidUTF8, badKey)
        var badValue = ByteBuffer(bytes: wire)
        badValue.setBytes([0xED, 0xA0, 0x80], at: valueLengthOffset + 4)  // an encoded surrogate
        Self.expectWireError(.invalidUTF8, badValue)
    }

    // MARK: JSON headers

    @Test(arguments: [
        "", " ", "null", "[]", "\"header\"", "42", "{", "{\"code\":", "{\"code\":105", "{\"code\":105,}", "{,}",
        "{\"code\":\"abc\"}", "{\"code\":1e400}", "{\"code\":2147483648}", "{\"code\":1.5}", "{\"opaque\":[]}",
        "{\"flag\":{}}", "{\"version\":true}", "{\"extFields\":{\"a\":{\"b\":1}}}", "{\"extFields\":[1]}",
        "{\"extFields\":{\"a\":[\"x\"]}}", "{\"extFields\":{{\"k\":1}:\"v\"}}", "{\"language\":{}}", "{\"language\":300}",
        "{\"language\":-1}", "{\"remark\":[]}", "{\"remark\":\"\\u12\"}", "{\"remark\":\"\\x\"}", "{\"remark\":\"open}",
        "{\"code\":105}}", "{\"code\":105} x", "{'code':105}", "{code:105}", "{\"code\":tru}", "{\"code\":-}",
        "{\"code\":01x}", "{\"code\":1.}", "{\"code\":1e}",
    ])
    func malformedJSONHeadersAreRejected(_ header: String) {
        do {
            _ = try RemotingFrame.decodeWithLengthPrefix(Self.jsonFrame(header))
            Issue.record("decoded \(header.debugDescription)")
        } catch let error as WireError {
            #expect(error.kind == .malformedJSON || error.kind == .invalidUTF8, "\(header): \(error)")
        } catch {
            Issue.record("non-WireError \(error)")
        }
    }

    @Test func invalidUTF8InJSONHeaders() {
        let prefix = Array(#"{"code":0,"remark":""#.utf8)
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80]] {
            let header = prefix + bad + Array(#""}"#.utf8)
            Self.expectWireError(.invalidUTF8, Self.frame(type: 0, header: header))
            let escaped = prefix + Array(#"\n"#.utf8) + bad + Array(#""}"#.utf8)  // the slow (escape) path
            Self.expectWireError(.invalidUTF8, Self.frame(type: 0, header: escaped))
        }
        // Outside a string a non-ASCII byte is a syntax error.
        Self.expectWireError(.malformedJSON, Self.frame(type: 0, header: [UInt8(ascii: "{"), 0xFF, UInt8(ascii: "}")]))
    }

    @Test func deeplyNestedJSONIsRejectedWithoutRecursingDeeply() {
        let depth = 100_000
        let cases: [[UInt8]] = [
            Array(repeating: UInt8(ascii: "["), count: depth),
            Array(String(repeating: "{\"a\":", count: depth).utf8),
            Array(("{\"extFields\":{\"k\":" + String(repeating: "[", count: depth)).utf8),
            Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8),
            Array(("{\"code\":0,\"remark\":" + String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth) + "}").utf8),
        ]
        for header in cases {
            Self.expectWireError(.malformedJSON, Self.frame(type: 0, header: header))
        }
        // Nesting up to the parser's limit is fine.
        let limit = JSONParser.maxDepth
        let ok = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        let over = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(throws: WireError.self) { try JSONParser.parse(over) }
    }

    @Test func jsonHeaderScalarsAreCoercedLikeFastjson() throws {
        // fastjson puts numbers and booleans into Map<String,String> as text; typed decoding then applies Java's parse.
        let command = try RemotingFrame.decodeWithLengthPrefix(
            Self.jsonFrame(#"{"code":"14","extFields":{"consumerGroup":"G","topic":"T","queueId":2,"setZeroIfNotFound":true,"bname":null},"language":1}"#))
        #expect(command.code == 14 && command.language == .cpp)
        let header = try QueryConsumerOffsetRequestHeader(command: command)
        #expect(header.queueId == 2 && header.setZeroIfNotFound == true && header.bname == nil)
    }

    @Test func jsonHeaderReaderAcceptsWhatTheTreeAccepts() throws {
        // Whitespace anywhere, unknown members of any shape (skipped), numeric and object keys (ignored), repeated
        // keys (last wins), explicit nulls, extremes of Int32, escapes, and keys in any order.
        let text = #"""
             { "unknown" : { "a" : [ 1 , { "b" : null } , "x" ] } , 7 : "numeric key" , {"k":1} : 2 ,
               "opaque" : -2147483648 , "flag" : "2147483647" , "code" : 1 , "code" : 310 ,
               "remark" : null , "remark" : "a\"b\u00e9\ud83d\ude00" , "language" : "GO" , "version" : 0 ,
               "extFields" : null , "extFields" : { "b" : "2" , "a" : 1.5 , "c" : false , "d" : null , "b" : "3" ,
               "e" : "" , "" : "empty key" , "ms\u0067Id" : "escaped known key" , 12 : "numeric key" ,
               "msgIdX" : "unknown key" , "z\u00e9" : "non-ASCII key" } , "serializeTypeCurrentRPC" : "JSON" }
            """#
        let command = try RemotingFrame.decodeWithLengthPrefix(Self.jsonFrame(text))
        #expect(command.code == 310 && command.opaque == Int32.min && command.flag == Int32.max && command.version == 0)
        #expect(command.remark == "a\"b\u{e9}\u{1F600}")
        #expect(command.language == .go)
        #expect(command.extFields == [
            "b": "3", "a": "1.5", "c": "false", "e": "", "": "empty key", "msgId": "escaped known key",
            "12": "numeric key", "msgIdX": "unknown key", "z\u{e9}": "non-ASCII key",
        ])
        #expect(command.extFields?.keys == ["b", "a", "c", "e", "", "msgId", "12", "msgIdX", "z\u{e9}"])
        // The same text through the generic tree parser is valid JSON in our dialect.
        #expect(throws: Never.self) { try JSONParser.parse(text) }
    }

    // MARK: Typed header decoding of wrong-typed fields

    @Test(arguments: [
        ("queueOffset", "x"), ("queueOffset", "1.0"), ("queueOffset", "9223372036854775808"), ("queueId", "true"),
        ("maxMsgNums", ""), ("sysFlag", "0x7"),
    ])
    func wrongTypedHeaderFieldsGiveTypedErrors(_ field: String, _ value: String) throws {
        for type in ["JSON", "ROCKETMQ"] {
            var command = try RemotingFrame.decodeWithLengthPrefix(ByteBuffer(bytes: try Self.wire("pull_message_request/\(type)")))
            #expect(throws: Never.self) { try PullMessageRequestHeader(command: command) }
            command.extFields?[field] = value
            // Survives the wire in both serializations, then fails typed decoding.
            command = try RemotingFrame.decodeWithLengthPrefix(try RemotingFrame.encode(command))
            let error = try #require(throws: WireError.self) { try PullMessageRequestHeader(command: command) }
            #expect(error.kind == .invalidHeaderField)
            #expect(error.message.hasPrefix(field))
        }
    }

    // MARK: Fuzz

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        var kinds = Set<WireError.Kind>()
        var errors = 0
        for i in 0..<4000 {
            let length = Int.random(in: 0...300, using: &rng)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if i % 2 == 0, bytes.count >= 8 {
                // A plausible frame prefix so the header decoders get exercised.
                let total = bytes.count - 4
                bytes[0] = 0
                bytes[1] = UInt8(truncatingIfNeeded: total >> 16)
                bytes[2] = UInt8(truncatingIfNeeded: total >> 8)
                bytes[3] = UInt8(truncatingIfNeeded: total)
                bytes[4] = UInt8.random(in: 0...2, using: &rng)
                let headerLength = Int.random(in: 0...(total + 4), using: &rng)  // sometimes too long
                bytes[5] = 0
                bytes[6] = UInt8(truncatingIfNeeded: headerLength >> 8)
                bytes[7] = UInt8(truncatingIfNeeded: headerLength)
                if bytes[4] == 0, headerLength > 0, bytes.count > 8 { bytes[8] = UInt8(ascii: "{") }
                if bytes[4] == 1, headerLength >= 21, 8 + headerLength <= bytes.count, i % 4 == 0 {
                    // No remark and an extFields block spanning the rest: random map entries.
                    var header = ByteBuffer(bytes: bytes)
                    header.setInteger(Int32(0), at: 8 + 13)
                    header.setInteger(Int32(headerLength - 21), at: 8 + 17)
                    bytes = Array(header.readableBytesView)
                }
            }
            if let error = Self.consume(bytes).error {
                errors += 1
                kinds.insert(error.kind)
            }
        }
        #expect(errors > 1000)
        // The inputs reached every layer: framing, both header parsers, UTF-8 validation.
        for kind in [WireError.Kind.frameTooLarge, .invalidLength, .badHeaderLength, .unknownSerializeType, .truncated,
                     .malformedJSON] {
            #expect(kinds.contains(kind), "\(kind)")
        }
    }

    @Test func mutatedGoldenFramesNeverCrash() throws {
        var rng = SplitMix64(seed: 0x5EED_0002)
        var outcomes = (decoded: 0, rejected: 0)
        for line in Self.frames {
            let wire = try Golden.bytes(hex: line["hex"]?.stringValue ?? "")
            for _ in 0..<60 {
                var bytes = wire
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    // Favour the length words and the header, where the parsers are.
                    let limit = min(bytes.count, 8 + Self.headerLength(wire) + 8)
                    bytes[Int.random(in: 0..<limit, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if Int.random(in: 0..<4, using: &rng) == 0 {
                    bytes.removeLast(Int.random(in: 0...min(16, bytes.count), using: &rng))
                }
                let result = Self.consume(bytes)
                if result.error == nil { outcomes.decoded += result.frames } else { outcomes.rejected += 1 }
            }
        }
        #expect(outcomes.decoded > 0 && outcomes.rejected > 0)
    }

    @Test func mutatedGoldenBodiesNeverCrash() throws {
        let decoders: [String: @Sendable ([UInt8]) throws -> Void] = [
            "get_routeinfo_response_standard_json": { _ = try TopicRouteData(bytes: $0) },
            "get_routeinfo_response_legacy_json": { _ = try TopicRouteData(bytes: $0) },
            "heart_beat_request": { _ = try HeartbeatData(bytes: $0) },
            "get_consumer_list_by_group_response": { _ = try ConsumerListBody(bytes: $0) },
            "lock_batch_mq_request": { _ = try LockBatchRequestBody(bytes: $0) },
            "lock_batch_mq_response": { _ = try LockBatchResponseBody(bytes: $0) },
        ]
        var rng = SplitMix64(seed: 0x5EED_0003)
        var rejected = 0
        for (name, decode) in decoders.sorted(by: { $0.key < $1.key }) {
            let body = try BodyTests.goldenBody(name)
            #expect(throws: Never.self) { try decode(body) }
            for _ in 0..<400 {
                var bytes = body
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let structural: [UInt8] = Array("{}[]\":,0-9\\ntfe".utf8) + [0xFF, 0x00]
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = structural.randomElement(using: &rng) ?? 0
                }
                do {
                    try decode(bytes)
                } catch is WireError {
                    rejected += 1
                } catch {
                    Issue.record("\(name): non-WireError \(error)")
                }
            }
        }
        #expect(rejected > 0)
    }
}
