import NIOCore
import Testing

@testable import RocketMQWire

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
        var rng = SplitMix64(seed: 20_231_114)
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
