import NIOCore
import Testing

@testable import RocketMQWire

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
