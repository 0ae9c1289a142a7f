import CZlib
import NIOCore

/// CRC-32 (IEEE 802.3, the same as zlib's `crc32` and `java.util.zip.CRC32`).
public enum CRC32 {
    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        if let crc = bytes.withContiguousStorageIfAvailable({ update(0, UnsafeRawBufferPointer($0)) }) {
            return crc
        }
        return Array(bytes).withUnsafeBytes { update(0, $0) }
    }

    /// The CRC-32 of the readable bytes of `buffer`.
    public static func checksum(_ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { update(0, $0) }
    }

    /// The store format's BODYCRC: `UtilAll.crc32` = CRC-32 of the stored body `& 0x7FFFFFFF`.
    public static func bodyCRC(_ bytes: some Collection<UInt8>) -> Int32 {
        Int32(bitPattern: checksum(bytes) & 0x7FFF_FFFF)
    }

    /// The store format's BODYCRC of the readable bytes of `buffer`.
    public static func bodyCRC(_ buffer: ByteBuffer) -> Int32 {
        Int32(bitPattern: checksum(buffer) & 0x7FFF_FFFF)
    }

    private static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard var pointer = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return crc }
        var value = uLong(crc)
        var remaining = bytes.count
        while remaining > 0 {
            let slice = min(remaining, 1 << 30)
            value = crc32(value, pointer, uInt(slice))
            pointer += slice
            remaining -= slice
        }
        return UInt32(truncatingIfNeeded: value)
    }
}
