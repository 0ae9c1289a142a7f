import NIOCore
import Testing

@testable import RocketMQWire

@Suite("Batch bodies (golden messages.jsonl batch_body)")
struct BatchTests {
    typealias Support = MessageTestSupport
    static let line: JSONValue? = (try? Golden.lines("messages", where: "kind", is: "batch_body"))?.first

    static func inputEntries() throws -> [BatchEntry] {
        try (try #require(line?["input"]?.arrayValue)).map { input in
            BatchEntry(
                body: try Golden.buffer(hex: try #require(input["body_hex"]?.stringValue)),
                flag: try #require(input["flag"]?.int32Value),
                properties: MessageProperties(parsing: try #require(input["properties_string"]?.stringValue)))
        }
    }

    @Test func encodesByteExact() throws {
        let line = try #require(Self.line)
        let encoded = try MessageBatch.encode(try Self.inputEntries())
        #expect(Golden.hex(encoded.readableBytesView) == line["hex"]?.stringValue)
        #expect(encoded.readableBytes == line["len"]?.intValue)
    }

    @Test func decodesLikeJava() throws {
        let line = try #require(Self.line)
        let entries = try MessageBatch.decode(try Golden.buffer(hex: try #require(line["hex"]?.stringValue)))
        let decoded = try #require(line["decoded"]?.arrayValue)
        try #require(entries.count == decoded.count)
        for (entry, expected) in zip(entries, decoded) {
            #expect(entry.flag == expected["flag"]?.int32Value)
            #expect(Golden.hex(entry.body.readableBytesView) == expected["body_hex"]?.stringValue)
            #expect(entry.properties.dictionary == Support.properties(expected["properties"]))
        }
        #expect(entries == (try Self.inputEntries()))
        // Entry sizes as Java wrote them.
        let sizes = entries.map { MessageBatch.entryOverhead + $0.body.readableBytes + $0.properties.encodedByteCount }
        #expect(sizes == line["record_sizes"]?.arrayValue?.compactMap(\.intValue))
    }

    @Test func emptyBatch() throws {
        #expect(try MessageBatch.encode([]).readableBytes == 0)
        #expect(try MessageBatch.decode(ByteBuffer()).isEmpty)
    }

    @Test func decodeStartsAtTheReaderIndex() throws {
        var buffer = ByteBuffer(string: "junk")
        try MessageBatch.encode([BatchEntry(body: ByteBuffer(string: "b"), flag: 3)], into: &buffer)
        buffer.moveReaderIndex(forwardBy: 4)
        let entries = try MessageBatch.decode(buffer)
        #expect(entries == [BatchEntry(body: ByteBuffer(string: "b"), flag: 3)])
    }

    @Test func everyTruncationThrowsOrEndsOnAnEntryBoundary() throws {
        let line = try #require(Self.line)
        let bytes = try Golden.bytes(hex: try #require(line["hex"]?.stringValue))
        let boundaries: [Int: Int] = [0: 0, 114: 1, 228: 2]
        for length in 0..<bytes.count {
            if let count = boundaries[length] {
                #expect(try MessageBatch.decode(ByteBuffer(bytes: bytes[0..<length])).count == count)
            } else {
                Support.expectWireError(nil, "prefix \(length)") {
                    _ = try MessageBatch.decode(ByteBuffer(bytes: bytes[0..<length]))
                }
            }
        }
    }

    @Test func corruptLengthsThrow() throws {
        let hex = try #require(Self.line?["hex"]?.stringValue)
        // First entry: TOTALSIZE at 0 (114), body length at 16 (17), properties length at 37.
        let cases: [(String, WireError.Kind, (inout [UInt8]) -> Void)] = [
            ("negative size", .invalidLength, { Support.setInt32(-1, at: 0, in: &$0) }),
            ("size below 22", .invalidLength, { Support.setInt32(21, at: 0, in: &$0) }),
            ("huge size", .truncated, { Support.setInt32(.max, at: 0, in: &$0) }),
            ("size one short", .corruptMessage, { Support.setInt32(113, at: 0, in: &$0) }),
            ("negative body length", .invalidLength, { Support.setInt32(-5, at: 16, in: &$0) }),
            ("body beyond the entry", .invalidLength, { Support.setInt32(93, at: 16, in: &$0) }),
            ("body length off by one", .corruptMessage, { Support.setInt32(18, at: 16, in: &$0) }),
            ("negative properties length", .corruptMessage, { Support.setInt16(-1, at: 37, in: &$0) }),
            ("properties length off", .corruptMessage, { Support.setInt16(80, at: 37, in: &$0) }),
        ]
        for (name, kind, patch) in cases {
            let buffer = try Support.patched(hex, patch)
            Support.expectWireError(kind, "\(name)") { _ = try MessageBatch.decode(buffer) }
        }
    }

    @Test func singleByteCorruptionNeverTraps() throws {
        let bytes = try Golden.bytes(hex: try #require(Self.line?["hex"]?.stringValue))
        for position in 0..<bytes.count {
            var corrupt = bytes
            corrupt[position] ^= 0xFF
            do {
                _ = try MessageBatch.decode(ByteBuffer(bytes: corrupt))
            } catch is WireError {}
        }
    }

    @Test func unencodableEntriesThrowAndWriteNothing() {
        let bad = [
            BatchEntry(body: ByteBuffer(string: "ok")),
            BatchEntry(body: ByteBuffer(), properties: ["k": String(repeating: "v", count: 32765)]),
        ]
        var buffer = ByteBuffer(string: "x")
        MessageTestSupport.expectWireError(.unencodable) { try MessageBatch.encode(bad, into: &buffer) }
        #expect(buffer.readableBytes == 1)
        MessageTestSupport.expectWireError(.unencodable) {
            _ = try MessageBatch.encode([BatchEntry(body: ByteBuffer(), properties: ["k\u{2}": "v"])])
        }
    }
}
