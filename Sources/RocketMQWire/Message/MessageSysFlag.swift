/// The message `sysFlag` bits (Java's `MessageSysFlag`, PROTOCOL.md §6.1).
public enum MessageSysFlag {
    /// The stored body is compressed; the algorithm is in ``compressionTypeMask``.
    public static let compressed: Int32 = 0x1
    /// Set by the broker for MULTI_TAG topics.
    public static let multiTags: Int32 = 0x2
    /// Transaction field value: not a transactional message.
    public static let transactionNotType: Int32 = 0x0
    /// Transaction field value: a prepared (half) message.
    public static let transactionPreparedType: Int32 = 0x4
    /// Transaction field value: committed.
    public static let transactionCommitType: Int32 = 0x8
    /// Transaction field value: rolled back.
    public static let transactionRollbackType: Int32 = 0xC
    /// The 2-bit transaction field.
    public static let transactionMask: Int32 = 0xC
    /// The born host is IPv6 (20-byte host field).
    public static let bornHostV6: Int32 = 0x10
    /// The store host is IPv6 (20-byte host field).
    public static let storeHostV6: Int32 = 0x20
    /// Inner batch: the body must be split (together with ``innerBatch``).
    public static let needUnwrap: Int32 = 0x40
    /// Inner batch: the body is a batch encoding (PROTOCOL.md §4.1).
    public static let innerBatch: Int32 = 0x80
    /// Compression type bits: LZ4.
    public static let compressionLZ4Type: Int32 = 0x100
    /// Compression type bits: ZSTD.
    public static let compressionZstdType: Int32 = 0x200
    /// Compression type bits: ZLIB.
    public static let compressionZlibType: Int32 = 0x300
    /// The 3-bit compression type field (bits 8-10).
    public static let compressionTypeMask: Int32 = 0x700

    /// The algorithm a consumer must use, or `nil` when ``compressed`` is not set. Type bits 0 (messages from
    /// before the type field) and 3 mean ZLIB, 1 LZ4, 2 ZSTD; 4-7 throw `WireError(.unknownCompressionType)`.
    public static func compressionType(of sysFlag: Int32) throws -> CompressionType? {
        guard sysFlag & compressed != 0 else { return nil }
        return try compressionType(typeBits: (sysFlag & compressionTypeMask) >> 8)
    }

    /// Java's `CompressionType.findByValue` for the 3-bit field value: 0 and 3 ZLIB, 1 LZ4, 2 ZSTD, else throws.
    public static func compressionType(typeBits value: Int32) throws -> CompressionType {
        switch value {
        case 0, 3: return .zlib
        case 1: return .lz4
        case 2: return .zstd
        default: throw WireError(.unknownCompressionType, "Unknown compress type value: \(value)")
        }
    }

    /// The sysFlag bits a producer sets for a body compressed with `type`, ``compressed`` included: 0x301 ZLIB,
    /// 0x201 ZSTD, 0x101 LZ4.
    public static func flag(for type: CompressionType) -> Int32 {
        compressed | type.rawValue << 8
    }

    /// The transaction field (`sysFlag & 0xC`).
    public static func transactionValue(of sysFlag: Int32) -> Int32 {
        sysFlag & transactionMask
    }

    /// `sysFlag` with its transaction field replaced by `type`.
    public static func resetTransactionValue(_ sysFlag: Int32, to type: Int32) -> Int32 {
        (sysFlag & ~transactionMask) | (type & transactionMask)
    }

    /// `sysFlag` without ``compressed`` (what a Java consumer sees after decompressing; the type bits stay).
    public static func clearCompressedFlag(_ sysFlag: Int32) -> Int32 {
        sysFlag & ~compressed
    }
}
