import NIOCore
import Testing

@testable import RocketMQWire

@Suite("Compression (golden compression.jsonl)")
struct CompressionTests {
    static let compressLines: [JSONValue] = (try? Golden.lines("compression", where: "kind", is: "compress")) ?? []
    static let compressNames: [String] = compressLines.compactMap { $0["name"]?.stringValue }
    static func compressLine(named name: String) throws -> JSONValue {
        try #require(compressLines.first { $0["name"]?.stringValue == name })
    }
    static let sysFlagLines: [JSONValue] = (try? Golden.lines("compression", where: "kind", is: "sysflag_decode")) ?? []
    typealias Support = MessageTestSupport

    /// The JSON inputs' recipe from golden/README.md (`generator`): a JSON array of items, as many as fit in `n`
    /// bytes, padded with spaces to exactly `n`.
    static func jsonInput(_ n: Int) -> [UInt8] {
        var text: [UInt8] = Array("[".utf8)
        var i = 0
        while true {
            let item = "{\"id\":\(i),\"name\":\"item-\(i)\",\"status\":\"ACTIVE\",\"tags\":[\"alpha\",\"beta\"],\"price\":\(100 + i % 7)}"
            let needed = text.count + (i > 0 ? 1 : 0) + item.utf8.count + 1
            if needed > n { break }
            if i > 0 { text.append(UInt8(ascii: ",")) }
            text += Array(item.utf8)
            i += 1
        }
        text.append(UInt8(ascii: "]"))
        return text + [UInt8](repeating: 0x20, count: n - text.count)
    }

    static func input(of line: JSONValue) throws -> [UInt8] {
        let input = try #require(line["input"])
        if let hex = input["hex"]?.stringValue { return try Golden.bytes(hex: hex) }
        let name = try #require(input["name"]?.stringValue)
        let length = try #require(input["len"]?.intValue)
        try #require(name.hasPrefix("json_"), "no recipe for \(name)")
        return jsonInput(length)
    }

    static func type(named name: String?) -> CompressionType? {
        CompressionType.allCases.first { $0.name == name }
    }

    @Test func allLinesLoaded() {
        #expect(Self.compressLines.count == 20)
        #expect(Self.sysFlagLines.count == 8)
    }

    @Test func jsonRecipeMatchesTheStoredInputs() throws {
        // The stored small inputs pin the recipe used to rebuild json_256KiB.
        for line in Self.compressLines where line["input"]?["hex"] != nil && line["input"]?["name"]?.stringValue?.hasPrefix("json_") == true {
            let length = try #require(line["input"]?["len"]?.intValue)
            #expect(Self.jsonInput(length) == (try Golden.bytes(hex: line["input"]?["hex"]?.stringValue ?? "")))
        }
    }

    @Test(arguments: compressNames)
    func decompressesJavasOutputExactly(_ name: String) throws {
        let line = try Self.compressLine(named: name)
        let type = try #require(Self.type(named: line["type"]?.stringValue))
        #expect(type.rawValue == line["type_value"]?.int32Value)
        let expected = try Self.input(of: line)
        #expect(expected.count == line["input"]?["len"]?.intValue)
        let compressed = try Golden.bytes(hex: try #require(line["compressed_hex"]?.stringValue))
        #expect(compressed.count == line["compressed_len"]?.intValue)
        let output = try Compression.decompress(compressed, type: type)
        #expect(output.count == expected.count, "\(name)")
        #expect(output == expected, "\(name)")
        // The same through the sysFlag a producer sends, as a consumer decodes it.
        let sysFlag = try #require(line["producer_sysflag"]?.int32Value)
        #expect(MessageSysFlag.flag(for: type) == sysFlag)
        #expect(try MessageSysFlag.compressionType(of: sysFlag) == type)
        #expect(try MessageSysFlag.compressionType(of: sysFlag)?.name == line["sysflag_compression_type"]?.stringValue)
        // And through a ByteBuffer, exactly bounded.
        let buffer = try Compression.decompress(ByteBuffer(bytes: compressed), type: type, maxSize: expected.count)
        #expect(buffer.readableBytes == expected.count)
    }

    @Test(arguments: compressNames)
    func ourCompressionRoundTrips(_ name: String) throws {
        let line = try Self.compressLine(named: name)
        let type = try #require(Self.type(named: line["type"]?.stringValue))
        let level = try #require(line["level"]?.int32Value)
        let input = try Self.input(of: line)
        let compressed = try Compression.compress(input, type: type, level: level)
        #expect(try Compression.decompress(compressed, type: type) == input)
        switch type {
        case .zlib:
            #expect(Array(compressed.prefix(2)) == [0x78, 0x5E])  // zlib wrapper, level 2-5
        case .zstd:
            #expect(Array(compressed.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
        case .lz4:
            #expect(Array(compressed.prefix(4)) == [0x04, 0x22, 0x4D, 0x18])
            // FLG: version 01 and independent blocks (lz4-java cannot read linked blocks).
            #expect(compressed[4] & 0xC0 == 0x40)
            #expect(compressed[4] & 0x20 == 0x20)
        }
    }

    @Test(arguments: sysFlagLines.compactMap { $0["sysflag"]?.int32Value })
    func sysFlagCompressionType(_ sysFlag: Int32) throws {
        let line = try #require(Self.sysFlagLines.first { $0["sysflag"]?.int32Value == sysFlag })
        let expected = try #require(line["MessageSysFlag.getCompressionType"]?.stringValue)
        if expected.hasPrefix("exception") {
            Support.expectWireError(.unknownCompressionType) { _ = try MessageSysFlag.compressionType(of: sysFlag) }
            do {
                _ = try MessageSysFlag.compressionType(of: sysFlag)
            } catch let error as WireError {
                #expect(expected == "exception: " + error.message)
            }
        } else {
            #expect(try MessageSysFlag.compressionType(of: sysFlag)?.name == expected)
        }
        // Without COMPRESSED_FLAG nothing is decompressed, whatever the type bits.
        #expect(try MessageSysFlag.compressionType(of: sysFlag & ~1) == nil)
    }

    @Test func sysFlagHelpers() {
        #expect(MessageSysFlag.flag(for: .zlib) == 0x301)
        #expect(MessageSysFlag.flag(for: .zstd) == 0x201)
        #expect(MessageSysFlag.flag(for: .lz4) == 0x101)
        #expect(MessageSysFlag.transactionValue(of: 0x30D) == MessageSysFlag.transactionRollbackType)
        #expect(MessageSysFlag.resetTransactionValue(0x30D, to: MessageSysFlag.transactionNotType) == 0x301)
        #expect(MessageSysFlag.clearCompressedFlag(0x301) == 0x300)
        #expect(CompressionType(name: " zstd ") == .zstd)
        #expect(CompressionType(name: "gzip") == nil)
    }
}

@Suite("Compression: bounds and corrupt input")
struct CompressionSafetyTests {
    typealias Support = MessageTestSupport
    static let oneMiBOfZeros = [UInt8](repeating: 0, count: 1 << 20)

    @Test(arguments: CompressionType.allCases)
    func bombIsStoppedAtTheCap(_ type: CompressionType) throws {
        let bomb = try Compression.compress(Self.oneMiBOfZeros, type: type, level: 9)
        #expect(bomb.count < 8 * 1024)
        Support.expectWireError(.decompressedTooLarge) { _ = try Compression.decompress(bomb, type: type, maxSize: 64 * 1024) }
        Support.expectWireError(.decompressedTooLarge) {
            _ = try Compression.decompress(bomb, type: type, maxSize: (1 << 20) - 1)
        }
        Support.expectWireError(.decompressedTooLarge) { _ = try Compression.decompress(bomb, type: type, maxSize: 0) }
        #expect(try Compression.decompress(bomb, type: type, maxSize: 1 << 20).count == 1 << 20)
    }

    /// 65 concatenated 1 MiB frames: 65 MiB from a few KiB, over the 64 MiB default cap.
    @Test(arguments: [CompressionType.zstd, .lz4])
    func concatenatedFrameBombHitsTheDefaultCap(_ type: CompressionType) throws {
        let frame = try Compression.compress(Self.oneMiBOfZeros, type: type, level: 3)
        let bomb = Array([[UInt8]](repeating: frame, count: 65).joined())
        Support.expectWireError(.decompressedTooLarge) { _ = try Compression.decompress(bomb, type: type) }
        let fits = Array([[UInt8]](repeating: frame, count: 64).joined())
        #expect(try Compression.decompress(fits, type: type).count == Compression.defaultMaxDecompressedSize)
    }

    @Test func zlibBombHitsTheDefaultCap() throws {
        let bomb = try Compression.compress(
            [UInt8](repeating: 0, count: Compression.defaultMaxDecompressedSize + 1), type: .zlib, level: 9)
        Support.expectWireError(.decompressedTooLarge) { _ = try Compression.decompress(bomb, type: .zlib) }
    }

    @Test func zstdFrameClaimingAHugeContentSizeIsNotTrusted() throws {
        // A real frame for 10 bytes whose header is rewritten to claim 2^40 bytes of content: decoding must
        // neither allocate that nor succeed.
        let plain = Array("0123456789".utf8)
        let frame = try Compression.compress(plain, type: .zstd, level: 3)
        // ZSTD_compress writes a single-segment frame with a 1-byte content size: FHD 0x20, FCS at byte 5.
        try #require(frame[4] == 0x20)
        var lying = Array(frame[0..<4]) + [0xE0]  // single segment, 8-byte content size
        var size = UInt64(1) << 40
        for _ in 0..<8 {
            lying.append(UInt8(size & 0xFF))
            size >>= 8
        }
        lying += frame[6...]
        Support.expectWireError(.decompressionFailed) { _ = try Compression.decompress(lying, type: .zstd) }
    }

    @Test(arguments: CompressionType.allCases)
    func everyTruncationThrows(_ type: CompressionType) throws {
        let plain = CompressionTests.jsonInput(1024)
        let compressed = try Compression.compress(plain, type: type, level: 5)
        for length in 0..<compressed.count {
            Support.expectWireError(.decompressionFailed, "\(type) prefix \(length)") {
                _ = try Compression.decompress(compressed[0..<length], type: type)
            }
        }
    }

    @Test func everyTruncationOfJavasOutputThrows() throws {
        for line in CompressionTests.compressLines where line["input"]?["name"]?.stringValue == "json_1KiB" {
            let type = try #require(CompressionTests.type(named: line["type"]?.stringValue))
            let compressed = try Golden.bytes(hex: line["compressed_hex"]?.stringValue ?? "")
            for length in 0..<compressed.count {
                Support.expectWireError(.decompressionFailed) {
                    _ = try Compression.decompress(compressed[0..<length], type: type)
                }
            }
        }
    }

    /// Bit flips in the parts each format checks: zlib's header (mod-31 check) and Adler-32 trailer, zstd's magic
    /// and reserved descriptor bit, LZ4's magic and header checksum.
    @Test(arguments: CompressionType.allCases)
    func checkedBitFlipsThrow(_ type: CompressionType) throws {
        let compressed = try Compression.compress(CompressionTests.jsonInput(1024), type: type, level: 5)
        var bits: [(Int, UInt8)] = []
        switch type {
        case .zlib:
            let positions = [0, 1] + Array((compressed.count - 4)..<compressed.count)
            bits = positions.flatMap { p in (0..<8).map { (p, UInt8(1) << $0) } }
        case .zstd:
            bits = (0..<4).flatMap { p in (0..<8).map { (p, UInt8(1) << $0) } } + [(4, 0x08)]
        case .lz4:
            bits = (0..<7).flatMap { p in (0..<8).map { (p, UInt8(1) << $0) } }
        }
        for (position, mask) in bits {
            var corrupt = compressed
            corrupt[position] ^= mask
            Support.expectWireError(.decompressionFailed, "\(type) byte \(position) mask \(mask)") {
                _ = try Compression.decompress(corrupt, type: type)
            }
        }
    }

    /// Any corruption anywhere either throws a WireError or yields bounded output; it never traps or hangs.
    @Test(arguments: CompressionType.allCases)
    func arbitraryCorruptionNeverTraps(_ type: CompressionType) throws {
        let compressed = try Compression.compress(CompressionTests.jsonInput(16384), type: type, level: 5)
        var rng = SplitMix64(seed: UInt64(type.rawValue))
        for position in 0..<min(compressed.count, 400) {
            var corrupt = compressed
            corrupt[position] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            do {
                let output = try Compression.decompress(corrupt, type: type, maxSize: 32 * 1024)
                #expect(output.count <= 32 * 1024)
            } catch is WireError {}
        }
        for _ in 0..<200 {
            let garbage = (0..<Int(rng.next() % 512)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            do {
                _ = try Compression.decompress(garbage, type: type, maxSize: 32 * 1024)
            } catch is WireError {}
        }
    }

    @Test(arguments: CompressionType.allCases)
    func emptyAndGarbageInputThrow(_ type: CompressionType) {
        Support.expectWireError(.decompressionFailed) { _ = try Compression.decompress([UInt8](), type: type) }
        Support.expectWireError(.decompressionFailed) {
            _ = try Compression.decompress(Array("definitely not compressed".utf8), type: type)
        }
    }

    @Test func concatenationAndTrailingBytes() throws {
        let a = Array("first ".utf8)
        let b = Array("second".utf8)
        for type in [CompressionType.zstd, .lz4] {
            let joined = try Compression.compress(a, type: type, level: 3) + Compression.compress(b, type: type, level: 3)
            #expect(try Compression.decompress(joined, type: type) == a + b)
            Support.expectWireError(.decompressionFailed) {
                _ = try Compression.decompress(try Compression.compress(a, type: type, level: 3) + [1, 2, 3], type: type)
            }
        }
        // Java's InflaterInputStream stops at the end of the zlib stream and ignores what follows.
        let zlib = try Compression.compress(a, type: .zlib, level: 5) + [1, 2, 3]
        #expect(try Compression.decompress(zlib, type: .zlib) == a)
    }

    @Test func failedDecompressionLeavesTheOutputBufferAsItWas() throws {
        var output = ByteBuffer(string: "keep")
        let bomb = try Compression.compress(Self.oneMiBOfZeros, type: .zstd, level: 3)
        Support.expectWireError(.decompressedTooLarge) {
            try Compression.decompress(bomb, type: .zstd, maxSize: 1000, into: &output)
        }
        #expect(String(buffer: output) == "keep")
        try Compression.decompress(try Compression.compress(Array("!".utf8), type: .lz4, level: 0), type: .lz4, into: &output)
        #expect(String(buffer: output) == "keep!")
    }

    @Test func invalidLevelsFailToCompress() {
        Support.expectWireError(.compressionFailed) { _ = try Compression.compress([1, 2, 3], type: .zlib, level: 10) }
        Support.expectWireError(.compressionFailed) { _ = try Compression.compress([1, 2, 3], type: .zlib, level: -2) }
    }

    @Test func emptyInputCompresses() throws {
        for type in CompressionType.allCases {
            let compressed = try Compression.compress([UInt8](), type: type, level: 5)
            #expect(try Compression.decompress(compressed, type: type).isEmpty)
        }
    }

    @Test func nonContiguousInput() throws {
        let plain = Array("non-contiguous input".utf8)
        for type in CompressionType.allCases {
            let compressed = try Compression.compress(plain.lazy.map { $0 }, type: type, level: 5)
            #expect(try Compression.decompress(compressed.lazy.map { $0 }, type: type) == plain)
        }
    }
}

@Suite("CRC32")
struct CRC32Tests {
    @Test func knownValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(ByteBuffer(string: "123456789")) == 0xCBF4_3926)
        #expect(CRC32.bodyCRC(Array("123456789".utf8)) == 0x4BF4_3926)
        #expect(CRC32.bodyCRC(ByteBuffer()) == 0)
    }

    @Test func goldenBodyCRCs() throws {
        for line in MessageRecordTests.records {
            let body = try Golden.bytes(hex: line["input"]?["body_hex"]?.stringValue ?? "")
            #expect(CRC32.bodyCRC(body) == line["input"]?["bodyCRC"]?.int32Value)
        }
    }
}
