import NIOCore

/// A body compression algorithm (Java's `CompressionType`); the raw value is the sysFlag type-bits value.
public enum CompressionType: Int32, Sendable, CaseIterable {
    /// The LZ4 *frame* format (magic `04 22 4d 18`), as lz4-java's `LZ4FrameOutputStream` writes it.
    case lz4 = 1
    /// A standard zstd frame.
    case zstd = 2
    /// A zlib stream (RFC 1950), as `java.util.zip.Deflater` writes it.
    case zlib = 3

    /// Java's name: `LZ4`, `ZSTD`, `ZLIB`.
    public var name: String {
        switch self {
        case .lz4: return "LZ4"
        case .zstd: return "ZSTD"
        case .zlib: return "ZLIB"
        }
    }

    /// Java's `CompressionType.of`: the name, trimmed, case-insensitive; `nil` if unknown.
    public init?(name: String) {
        switch name.trimmingASCIIWhitespace().uppercased() {
        case "LZ4": self = .lz4
        case "ZSTD": self = .zstd
        case "ZLIB": self = .zlib
        default: return nil
        }
    }
}

/// Body compression and bounded decompression with the system zlib, zstd and lz4 libraries (PROTOCOL.md §6).
///
/// Decompression never trusts sizes declared inside the compressed data: output grows in steps and the call throws
/// `WireError(.decompressedTooLarge)` as soon as it would pass `maxSize`; corrupt or truncated input throws
/// `WireError(.decompressionFailed)`. Concatenated zstd and LZ4 frames decode one after the other; bytes after the
/// end of a zlib stream are ignored (as Java's `InflaterInputStream` does).
public enum Compression {
    /// The default cap on decompressed bodies: 64 MiB.
    public static let defaultMaxDecompressedSize = 64 * 1024 * 1024

    /// Compresses `input` with `type` at `level` (ZLIB 0-9 or -1 for the default, ZSTD 1-22 and negative fast
    /// levels; LZ4 ignores the level as Java's `Lz4Compressor` does). Throws `WireError(.compressionFailed)` when the
    /// library refuses.
    public static func compress(_ input: some Collection<UInt8>, type: CompressionType, level: Int32) throws -> [UInt8] {
        try withContiguousBytes(input) { bytes in
            switch type {
            case .zlib: return try ZlibCodec.compress(bytes, level: level)
            case .zstd: return try ZstdCodec.compress(bytes, level: level)
            case .lz4: return try LZ4FrameCodec.compress(bytes)
            }
        }
    }

    /// Decompresses `input`, at most `maxSize` bytes of output.
    public static func decompress(
        _ input: some Collection<UInt8>, type: CompressionType, maxSize: Int = defaultMaxDecompressedSize
    ) throws -> [UInt8] {
        var output = ByteBuffer()
        try decompress(input, type: type, maxSize: maxSize, into: &output)
        return Array(output.readableBytesView)
    }

    /// Decompresses `input`, appending at most `maxSize` bytes to `output`. On error, `output` keeps its original
    /// readable bytes (its writer index is restored).
    public static func decompress(
        _ input: some Collection<UInt8>, type: CompressionType, maxSize: Int = defaultMaxDecompressedSize,
        into output: inout ByteBuffer
    ) throws {
        // A ByteBuffer holds at most UInt32.max bytes; keep one spare byte for overflow detection.
        let cap = max(0, min(maxSize, Int(UInt32.max) - 1 - output.writerIndex))
        let start = output.writerIndex
        // The sink takes the buffer over so that it stays uniquely referenced (no copy-on-write while writing).
        var sink = OutputSink(buffer: output, cap: cap, inputSize: input.count)
        output = ByteBuffer()
        defer { output = sink.buffer }
        do {
            try withContiguousBytes(input) { bytes in
                switch type {
                case .zlib: try ZlibCodec.decompress(bytes, into: &sink)
                case .zstd: try ZstdCodec.decompress(bytes, into: &sink)
                case .lz4: try LZ4FrameCodec.decompress(bytes, into: &sink)
                }
            }
        } catch {
            sink.buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// Decompresses the readable bytes of `buffer` into a new buffer, at most `maxSize` bytes.
    public static func decompress(
        _ buffer: ByteBuffer, type: CompressionType, maxSize: Int = defaultMaxDecompressedSize
    ) throws -> ByteBuffer {
        var output = ByteBuffer()
        try decompress(buffer.readableBytesView, type: type, maxSize: maxSize, into: &output)
        return output
    }

    private static func withContiguousBytes<C: Collection<UInt8>, R>(
        _ input: C, _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R {
        if let result = try input.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return try Array(input).withUnsafeBytes(body)
    }
}

/// Where decompressed bytes go: a growing `ByteBuffer` that refuses to pass `cap` bytes.
struct OutputSink {
    var buffer: ByteBuffer
    let cap: Int
    private(set) var produced = 0
    private var nextChunk: Int

    init(buffer: ByteBuffer, cap: Int, inputSize: Int) {
        self.buffer = buffer
        self.cap = cap
        // A first guess from the input size, grown geometrically afterwards; never a size read from the data.
        self.nextChunk = min(max(inputSize * 4, 4096), 1 << 20)
    }

    /// Calls `body` with writable space for the next chunk (at most one byte beyond the cap, to detect overflow);
    /// `body` returns how many bytes it wrote. Throws `.decompressedTooLarge` once output passes the cap.
    mutating func write(_ body: (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        let want = min(nextChunk, cap + 1 - produced)
        var written = 0
        try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { pointer in
            written = try body(UnsafeMutableRawBufferPointer(rebasing: pointer[0..<want]))
            return written
        }
        produced += written
        if written == want { nextChunk = min(nextChunk * 2, 8 << 20) }
        if produced > cap {
            throw WireError(.decompressedTooLarge, "decompressed body exceeds the limit of \(cap) bytes")
        }
    }
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> Substring {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\n" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\n" || c == "\r" { s.removeLast() }
        return s
    }
}
