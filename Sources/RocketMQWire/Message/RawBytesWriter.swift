import NIOCore

/// Writes big-endian integers and byte runs through a pointer into space reserved beforehand: one capacity check for
/// a whole record instead of one per field (a stored message has twenty fields). Past the end it writes nothing and
/// only counts, so a caller that could not size the space exactly (a JSON header with escapes) can retry with more.
struct RawBytesWriter {
    private let base: UnsafeMutableRawPointer?
    private let capacity: Int
    /// Bytes written so far (after an overflow: that would have been).
    private(set) var count = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) {
        base = buffer.baseAddress
        capacity = buffer.count
    }

    /// Whether something did not fit.
    var overflowed: Bool { count > capacity }

    /// Where the next `size` bytes go, or `nil` past the reserved space (they are counted all the same).
    @inline(__always)
    private mutating func claim(_ size: Int) -> UnsafeMutableRawPointer? {
        defer { count += size }
        guard let base, count + size <= capacity else { return nil }
        return base + count
    }

    @inline(__always)
    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        claim(MemoryLayout<T>.size)?.storeBytes(of: value.bigEndian, as: T.self)
    }

    @inline(__always)
    mutating func bytes(_ raw: UnsafeRawBufferPointer) {
        guard let source = raw.baseAddress, raw.count > 0, let target = claim(raw.count) else { return }
        if raw.count <= 16 {
            // Header keys and numbers: a few bytes, cheaper copied here than through a call to memcpy.
            for i in 0..<raw.count { target.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
        } else {
            target.copyMemory(from: source, byteCount: raw.count)
        }
    }

    @inline(__always)
    mutating func bytes(_ array: [UInt8]) {
        array.withUnsafeBytes { bytes($0) }
    }

    @inline(__always)
    mutating func utf8(_ text: String) {
        var text = text
        text.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    mutating func buffer(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes($0) }
    }
}

extension ByteBuffer {
    /// Appends exactly `size` bytes written by `body` (which must write them all, and no more).
    @inline(__always)
    mutating func writeExactly(_ size: Int, _ body: (inout RawBytesWriter) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { region in
            var writer = RawBytesWriter(UnsafeMutableRawBufferPointer(rebasing: region[0..<size]))
            body(&writer)
            precondition(writer.count == size, "wrote \(writer.count) of \(size) bytes")
            return size
        }
    }
}
