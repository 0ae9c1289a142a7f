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

@Suite("Message records: malformed input")
struct MessageRecordMalformedTests {
    static let records = MessageRecordTests.records
    typealias Support = MessageTestSupport

    /// plain_ipv4 field offsets: body length 84, body 88..<102, topic length 102, topic 103..<114, properties
    /// length 114.
    static var plainHex: String { records.first { $0["name"]?.stringValue == "plain_ipv4" }?["hex"]?.stringValue ?? "" }

    @Test(arguments: MessageRecordTests.recordNames)
    func everyTruncationThrows(_ name: String) throws {
        let line = try MessageRecordTests.record(named: name)
        let bytes = try Golden.bytes(hex: try #require(line["hex"]?.stringValue))
        for length in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes[0..<length])
            Support.expectWireError(.truncated, "prefix of \(length) bytes") {
                _ = try MessageRecord.decode(from: &buffer)
            }
            #expect(buffer.readerIndex == 0)
            let (records, error) = MessageRecord.decodeAll(buffer)
            #expect(records.isEmpty)
            #expect((error == nil) == (length == 0))
        }
    }

    @Test func recordLongerThanItsFieldsThrows() throws {
        // TOTALSIZE one larger, with a spare byte present: the fields no longer add up.
        var buffer = try Support.patched(Self.plainHex) { bytes in
            Support.setInt32(Int32(bytes.count + 1), at: 0, in: &bytes)
            bytes.append(0)
        }
        Support.expectWireError(.corruptMessage) { _ = try MessageRecord.decode(from: &buffer) }
    }

    @Test func recordShorterThanItsFieldsThrows() throws {
        var buffer = try Support.patched(Self.plainHex) { bytes in
            Support.setInt32(Int32(bytes.count - 1), at: 0, in: &bytes)
        }
        Support.expectWireError(.corruptMessage) { _ = try MessageRecord.decode(from: &buffer) }
    }

    @Test(arguments: [Int32(-1), Int32.min, 0, 90])
    func tooSmallTotalSizeThrows(_ size: Int32) throws {
        var buffer = try Support.patched(Self.plainHex) { Support.setInt32(size, at: 0, in: &$0) }
        Support.expectWireError(.invalidLength) { _ = try MessageRecord.decode(from: &buffer) }
    }

    @Test func hugeTotalSizeThrowsWithoutAllocating() throws {
        var buffer = try Support.patched(Self.plainHex) { Support.setInt32(.max, at: 0, in: &$0) }
        Support.expectWireError(.truncated) { _ = try MessageRecord.decode(from: &buffer) }
    }

    @Test func wrongMagicThrows() throws {
        for magic in [Int32(0), Int32(bitPattern: 0xCBD4_3194), Int32(bitPattern: 0xDAA3_20A8)] {
            var buffer = try Support.patched(Self.plainHex) { Support.setInt32(magic, at: 4, in: &$0) }
            Support.expectWireError(.corruptMessage) { _ = try MessageRecord.decode(from: &buffer) }
        }
    }

    @Test(arguments: [Int32(-1), Int32.min, 15, 1000, Int32.max])
    func badBodyLengthThrows(_ length: Int32) throws {
        var buffer = try Support.patched(Self.plainHex) { Support.setInt32(length, at: 84, in: &$0) }
        Support.expectWireError(length < 0 ? .invalidLength : nil) { _ = try MessageRecord.decode(from: &buffer) }
    }

    @Test func topicLengthBeyondTheRecordThrows() throws {
        var buffer = try Support.patched(Self.plainHex) { $0[102] = 0x7F }
        Support.expectWireError(.corruptMessage) { _ = try MessageRecord.decode(from: &buffer) }
    }

    @Test func negativeV1TopicLengthThrows() throws {
        // Java reads the V1 topic length as a signed byte: 0x80..0xFF cannot be decoded.
        var buffer = try Support.patched(Self.plainHex) { $0[102] = 0x80 }
        Support.expectWireError(.invalidLength) { _ = try MessageRecord.decode(from: &buffer) }
    }

    @Test func badV2TopicLengthThrows() throws {
        let hex = try #require(Self.records.first { $0["name"]?.stringValue == "short_topic_forced_v2" }?["hex"]?.stringValue)
        // Body of 8 bytes: topic length (int16) at 96.
        for length in [Int16(-1), Int16.min, 200, Int16.max] {
            var buffer = try Support.patched(hex) { Support.setInt16(length, at: 96, in: &$0) }
            Support.expectWireError(length < 0 ? .invalidLength : .corruptMessage) {
                _ = try MessageRecord.decode(from: &buffer)
            }
        }
    }

    @Test func propertiesLengthBeyondTheRecordThrows() throws {
        for length in [Int16(102), Int16(200), Int16.max] {
            var buffer = try Support.patched(Self.plainHex) { Support.setInt16(length, at: 114, in: &$0) }
            Support.expectWireError(.corruptMessage) { _ = try MessageRecord.decode(from: &buffer) }
        }
    }

    @Test func negativePropertiesLengthThrows() throws {
        for length in [Int16(-1), Int16.min] {
            var buffer = try Support.patched(Self.plainHex) { Support.setInt16(length, at: 114, in: &$0) }
            Support.expectWireError(.invalidLength) { _ = try MessageRecord.decode(from: &buffer) }
        }
    }

    @Test func portOutsideTheValidRangeThrows() throws {
        // Born port at 52 (Java's InetSocketAddress rejects it, so the record is undecodable there too).
        for port in [Int32(-1), 65536] {
            var buffer = try Support.patched(Self.plainHex) { Support.setInt32(port, at: 52, in: &$0) }
            Support.expectWireError(.corruptMessage) { _ = try MessageRecord.decode(from: &buffer) }
        }
    }

    @Test func ipv6FlagWithoutRoomForTheAddressThrows() throws {
        // Claiming IPv6 hosts in an IPv4 record shifts every later field: the lengths no longer add up.
        var buffer = try Support.patched(Self.plainHex) { $0[39] |= 0x30 }
        Support.expectWireError { _ = try MessageRecord.decode(from: &buffer) }
    }

    @Test func decodeAllStopsAtTheFirstBadRecord() throws {
        let good = try Golden.bytes(hex: Self.plainHex)
        var bad = good
        Support.setInt32(0x1234_5678, at: 4, in: &bad)
        let (records, error) = MessageRecord.decodeAll(ByteBuffer(bytes: good + bad + good))
        #expect(records.count == 1)
        #expect(error?.kind == .corruptMessage)
    }

    /// Every single-byte corruption of every golden record either decodes or throws a WireError, never traps; what
    /// decodes consumed exactly TOTALSIZE and can be encoded again (invalid UTF-8 comes back as U+FFFD, as in Java,
    /// so the bytes may differ).
    @Test(arguments: MessageRecordTests.recordNames)
    func singleByteCorruptionNeverTraps(_ name: String) throws {
        let line = try MessageRecordTests.record(named: name)
        let bytes = try Golden.bytes(hex: try #require(line["hex"]?.stringValue))
        for position in 0..<bytes.count {
            for mask in [UInt8(0xFF), 0x80, 0x01] {
                var corrupt = bytes
                corrupt[position] ^= mask
                var buffer = ByteBuffer(bytes: corrupt)
                do {
                    let record = try MessageRecord.decode(from: &buffer)
                    #expect(buffer.readerIndex == Int(record.storeSize))
                    #expect(throws: Never.self) { _ = try record.encoded() }
                } catch is WireError {
                    #expect(buffer.readerIndex == 0)
                }
            }
        }
    }

    @Test func randomBytesNeverTrap() {
        var rng = MessageTestRandom(seed: 20_231_114)
        for _ in 0..<3000 {
            let count = Int(rng.next() % 300)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if count >= 8 && rng.next() % 2 == 0 {  // plausible size and magic, to get past the first checks
                MessageTestSupport.setInt32(Int32(count), at: 0, in: &bytes)
                MessageTestSupport.setInt32(Int32(bitPattern: 0xDAA3_20A7), at: 4, in: &bytes)
            }
            _ = MessageRecord.decodeAll(ByteBuffer(bytes: bytes))
        }
    }
}

/// A small deterministic generator for test inputs.
struct MessageTestRandom: RandomNumberGenerator {
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

@Suite("Message records: encoding")
struct MessageRecordEncodingTests {
    static let v4 = MessageHost(ip: [192, 168, 0, 10], port: 10911)
    static let v6 = MessageHost(ip: [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1], port: 10911)

    @Test func roundTripsWithIPv6HostsAndSetsTheHostFlags() throws {
        let record = MessageRecord(
            topic: "T", body: ByteBuffer(string: "hi"), properties: ["TAGS": "A", "KEYS": "k1 k2"], queueId: 3,
            flag: 9, queueOffset: 5, commitLogOffset: 1 << 40, sysFlag: MessageSysFlag.transactionPreparedType,
            bornTimestamp: 1, bornHost: Self.v6, storeTimestamp: 2, storeHost: Self.v4, reconsumeTimes: 4,
            preparedTransactionOffset: 77)
        var buffer = try record.encoded()
        let decoded = try MessageRecord.decode(from: &buffer)
        #expect(decoded.sysFlag == MessageSysFlag.transactionPreparedType | MessageSysFlag.bornHostV6)
        var expected = record
        expected.sysFlag = decoded.sysFlag
        expected.storeSize = Int32(record.encodedSize)
        #expect(decoded == expected)
        #expect(decoded.tags == "A")
        #expect(decoded.keys == ["k1", "k2"])
        #expect(decoded.messageID == decoded.offsetMessageID)  // no UNIQ_KEY
    }

    @Test func protocolSheetExampleRecord() throws {
        // PROTOCOL.md §5.1 test vector.
        let record = MessageRecord(
            topic: "T", body: ByteBuffer(string: "hi"), properties: ["TAGS": "A"], queueId: 1, queueOffset: 5,
            commitLogOffset: 1024, bornTimestamp: 1_700_000_000_000,
            bornHost: MessageHost(ip: [127, 0, 0, 1], port: 54321), storeTimestamp: 1_700_000_000_100,
            storeHost: MessageHost(ip: [127, 0, 0, 1], port: 10911))
        let hex = [
            "00 00 00 65 da a3 20 a7 58 93 2a ac 00 00 00 01", "00 00 00 00 00 00 00 00 00 00 00 05 00 00 00 00",
            "00 00 04 00 00 00 00 00 00 00 01 8b cf e5 68 00", "7f 00 00 01 00 00 d4 31 00 00 01 8b cf e5 68 64",
            "7f 00 00 01 00 00 2a 9f 00 00 00 00 00 00 00 00", "00 00 00 00 00 00 00 02 68 69 01 54 00 07 54 41",
            "47 53 01 41 02",
        ].joined().filter { $0 != " " }
        #expect(Golden.hex(try record.encoded().readableBytesView) == hex)
        #expect(record.offsetMessageID == "7F00000100002A9F0000000000000400")
    }

    @Test func longTopicSwitchesToV2() throws {
        let topic = String(repeating: "t", count: 128)
        let record = MessageRecord(topic: topic, bornHost: Self.v4, storeHost: Self.v4)
        #expect(record.encodedVersion == .v2)
        var buffer = try record.encoded()
        #expect(buffer.getInteger(at: 4, as: UInt32.self) == 0xDAA3_20AB)
        let decoded = try MessageRecord.decode(from: &buffer)
        #expect(decoded.version == .v2)
        #expect(decoded.topic == topic)
        let short = MessageRecord(topic: String(repeating: "t", count: 127), bornHost: Self.v4, storeHost: Self.v4)
        #expect(short.encodedVersion == .v1)
    }

    @Test func emptyRecordHasTheMinimumSize() throws {
        let record = MessageRecord(topic: "", bornHost: Self.v4, storeHost: Self.v4)
        var buffer = try record.encoded()
        #expect(buffer.readableBytes == MessageRecord.minimumSize)
        let decoded = try MessageRecord.decode(from: &buffer)
        #expect(decoded.topic.isEmpty && decoded.body.readableBytes == 0 && decoded.properties.isEmpty)
    }

    @Test func unencodableValuesThrowAndWriteNothing() {
        let base = MessageRecord(topic: "T", bornHost: Self.v4, storeHost: Self.v4)
        var cases: [MessageRecord] = []
        var r = base
        r.topic = String(repeating: "x", count: 32768)
        cases.append(r)
        r = base
        r.properties["big"] = String(repeating: "v", count: 32763)  // 3 + 32763 + 2 = 32768 bytes
        cases.append(r)
        r = base
        r.properties["a\u{1}b"] = "c"
        cases.append(r)
        r = base
        r.properties["a"] = "b\u{2}c"
        cases.append(r)
        r = base
        r.properties[""] = "v"
        cases.append(r)
        r = base
        r.bornHost = MessageHost(ip: [1, 2, 3], port: 1)
        cases.append(r)
        r = base
        r.storeHost = MessageHost(ip: [1, 2, 3, 4], port: 65536)
        cases.append(r)
        for record in cases {
            var buffer = ByteBuffer(string: "x")
            MessageTestSupport.expectWireError(.unencodable) { try record.encode(into: &buffer) }
            #expect(buffer.readableBytes == 1)
        }
        // The largest encodable properties string: 32767 bytes.
        r = base
        r.properties["big"] = String(repeating: "v", count: 32762)
        #expect(throws: Never.self) { _ = try r.encoded() }
    }

    @Test func compressedBodyDecompressesAndUnknownTypesThrow() throws {
        let plain = Array(String(repeating: "hello rocketmq ", count: 400).utf8)
        for type in CompressionType.allCases {
            let stored = try Compression.compress(plain, type: type, level: 5)
            let record = MessageRecord(
                topic: "T", body: ByteBuffer(bytes: stored), sysFlag: MessageSysFlag.flag(for: type),
                bornHost: Self.v4, storeHost: Self.v4)
            #expect(Array(try record.decompressedBody().readableBytesView) == plain)
            let view = try record.decompressed()
            #expect(view.sysFlag == MessageSysFlag.flag(for: type) & ~MessageSysFlag.compressed)
            #expect(Array(view.body.readableBytesView) == plain)
            MessageTestSupport.expectWireError(.decompressedTooLarge) {
                _ = try record.decompressedBody(maxSize: plain.count - 1)
            }
        }
        var unknown = MessageRecord(
            topic: "T", body: ByteBuffer(string: "x"), sysFlag: 0x401, bornHost: Self.v4, storeHost: Self.v4)
        MessageTestSupport.expectWireError(.unknownCompressionType) { _ = try unknown.decompressedBody() }
        // Java decompresses only a non-empty body.
        unknown.body = ByteBuffer()
        #expect(try unknown.decompressedBody().readableBytes == 0)
        // An uncompressed body comes back as is, whatever the type bits say.
        let plainRecord = MessageRecord(
            topic: "T", body: ByteBuffer(string: "raw"), sysFlag: 0x300, bornHost: Self.v4, storeHost: Self.v4)
        #expect(try plainRecord.decompressedBody() == ByteBuffer(string: "raw"))
        #expect(try plainRecord.decompressed() == plainRecord)
    }

    @Test func innerBatchUnwrapsLikeJava() throws {
        let entries = [
            BatchEntry(body: ByteBuffer(string: "one"), flag: 1, properties: ["UNIQ_KEY": "A", "WAIT": "true"]),
            BatchEntry(body: ByteBuffer(string: "two"), flag: 2, properties: ["UNIQ_KEY": "B"]),
        ]
        let outer = MessageRecord(
            topic: "T", body: try MessageBatch.encode(entries), properties: ["WAIT": "false"], queueId: 2,
            queueOffset: 10, commitLogOffset: 4096, sysFlag: MessageSysFlag.innerBatch | MessageSysFlag.needUnwrap,
            bornTimestamp: 1, bornHost: Self.v4, storeTimestamp: 2, storeHost: Self.v4)
        #expect(outer.isInnerBatch)
        let inner = try outer.unwrappedInnerBatch()
        #expect(inner.count == 2)
        #expect(inner.map(\.queueOffset) == [10, 11])
        #expect(inner.map(\.flag) == [1, 2])
        #expect(inner.map(\.uniqueKey) == ["A", "B"])
        #expect(inner.allSatisfy { $0.properties["WAIT"] == "false" && $0.commitLogOffset == 4096 && $0.queueId == 2 })
        #expect(inner.map { String(buffer: $0.body) } == ["one", "two"])
        var notBatch = outer
        notBatch.sysFlag = MessageSysFlag.innerBatch
        #expect(try notBatch.unwrappedInnerBatch() == [notBatch])
    }
}

@Suite("Message properties")
struct MessagePropertiesTests {
    @Test func parsesWithJavasRules() {
        let cases: [(String, [String: String], Int)] = [
            ("a\u{1}b\u{2}", ["a": "b"], 1),
            ("a\u{1}b", ["a": "b"], 1),  // last pair without terminator
            ("\u{1}b\u{2}", [:], 0),  // empty name
            ("a\u{1}\u{2}", [:], 0),  // empty value
            ("ab\u{2}", [:], 0),  // no separator
            ("\u{1}\u{1}x\u{2}", [:], 0),  // first \u{1} is first
            ("ab\u{1}\u{2}", [:], 0),  // first \u{1} is last
            ("a\u{1}b\u{1}c\u{2}", ["a": "b\u{1}c"], 1),  // value keeps later \u{1}
            ("x\u{2}\u{2}k\u{1}v\u{2}", ["k": "v"], 1),
            ("k\u{1}1\u{2}k\u{1}2\u{2}", ["k": "2"], 2),  // last value wins on read
            ("", [:], 0),
            ("\u{2}\u{2}\u{2}", [:], 0),
            ("名\u{1}値🚀\u{2}", ["名": "値🚀"], 1),
        ]
        for (text, expected, count) in cases {
            let properties = MessageProperties(parsing: text)
            #expect(properties.dictionary == expected, "\(text.debugDescription)")
            #expect(properties.count == count, "\(text.debugDescription)")
        }
    }

    @Test func keepsOrderAndDuplicatesForReencoding() {
        let text = "UNIQ_KEY\u{1}A\u{2}WAIT\u{1}true\u{2}UNIQ_KEY\u{1}B\u{2}"
        var properties = MessageProperties(parsing: text)
        #expect(properties.encoded == text)
        #expect(properties.encodedByteCount == text.utf8.count)
        #expect(properties["UNIQ_KEY"] == "B")
        #expect(properties.map(\.key) == ["UNIQ_KEY", "WAIT", "UNIQ_KEY"])
        properties["UNIQ_KEY"] = "C"  // replaces the first in place, drops the duplicate
        #expect(properties.encoded == "UNIQ_KEY\u{1}C\u{2}WAIT\u{1}true\u{2}")
        properties["NEW"] = "n"
        #expect(properties.keys == ["UNIQ_KEY", "WAIT", "NEW"])
        #expect(properties.removeValue(forKey: "WAIT") == "true")
        #expect(properties.keys == ["UNIQ_KEY", "NEW"])
        properties.append(key: "NEW", value: "m")
        #expect(properties["NEW"] == "m" && properties.count == 3)
        properties["NEW"] = nil
        #expect(properties.keys == ["UNIQ_KEY"])
    }

    @Test func literalAndEquality() {
        let a: MessageProperties = ["A": "1", "B": "2"]
        let b = MessageProperties([("A", "1"), ("B", "2")])
        #expect(a == b)
        #expect(a != MessageProperties([("B", "2"), ("A", "1")]))  // order is part of the wire form
        #expect(MessageProperties().isEmpty)
        #expect(MessageProperties(parsing: a.encoded) == a)
    }

    @Test func goldenPropertiesStringsRoundTrip() throws {
        for line in MessageRecordTests.records {
            let text = try #require(line["input"]?["properties_string"]?.stringValue)
            let properties = MessageProperties(parsing: text)
            #expect(properties.encoded == text)
            #expect(properties.dictionary == MessageTestSupport.properties(line["input"]?["properties"]))
            let hex = line["input"]?["properties_string_hex"]?.stringValue
            #expect(Golden.hex(Array(properties.encoded.utf8)) == hex)
        }
    }

    @Test func wellKnownNames() {
        #expect(MessageProperty.uniqueKey == "UNIQ_KEY")
        #expect(MessageProperty.transactionId == "__transactionId__")
        #expect(MessageProperty.shardingKey == "__SHARDINGKEY")
        #expect(MessageProperty.reserved.contains("DELAY"))
        #expect(!MessageProperty.reserved.contains(MessageProperty.transactionId))
    }
}

@Suite("Message hosts")
struct MessageHostTests {
    @Test func parsesAndPrints() throws {
        let cases: [(String, [UInt8], Int32, String)] = [
            ("1.2.3.4:10911", [1, 2, 3, 4], 10911, "1.2.3.4:10911"),
            ("[::1]:10911", [UInt8](repeating: 0, count: 15) + [1], 10911, "[::1]:10911"),
            ("[2001:DB8::10]:0", [0x20, 1, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [0x10], 0, "[2001:db8::10]:0"),
            ("[fe80::1:2:3:4]:30911", [0xFE, 0x80] + [UInt8](repeating: 0, count: 6) + [0, 1, 0, 2, 0, 3, 0, 4], 30911,
             "[fe80::1:2:3:4]:30911"),
            ("[::ffff:10.0.0.7]:65535", [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 10, 0, 0, 7], 65535,
             "[::ffff:10.0.0.7]:65535"),
            ("[1:0:0:2:0:0:0:3]:1", [0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3], 1, "[1:0:0:2::3]:1"),
            ("[1:2:3:4:5:6:7:8]:1", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8], 1, "[1:2:3:4:5:6:7:8]:1"),
        ]
        for (text, ip, port, printed) in cases {
            let host = try #require(MessageHost(text), "\(text)")
            #expect(host.ip == ip, "\(text)")
            #expect(host.port == port)
            #expect(host.description == printed)
            #expect(MessageHost(host.description) == host)
        }
        #expect(MessageHost("[::1]:1")?.javaIPString == "0:0:0:0:0:0:0:1")
        #expect(MessageHost("[::1]:1")?.isIPv6 == true)
        #expect(MessageHost("1.2.3.4:1")?.isIPv6 == false)
    }

    @Test func rejectsMalformedText() {
        for text in [
            "", "1.2.3.4", "1.2.3:1", "1.2.3.4.5:1", "1.2.3.256:1", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+1",
            "1.2.3.4:", "a.b.c.d:1", "::1:80", "[::1]", "[::1]80", "[1::2::3]:1", "[12345::]:1", "[1:2:3:4:5:6:7]:1",
            "[1:2:3:4:5:6:7:8:9]:1", "[::g]:1", "[1.2.3.4]:1", "[::1.2.3]:1", "1.2.3.4:999999",
        ] {
            #expect(MessageHost(text) == nil, "\(text)")
        }
    }
}
