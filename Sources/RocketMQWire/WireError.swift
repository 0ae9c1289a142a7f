/// A typed error from the wire layer: malformed frames, bad JSON, corrupt messages, failed decompression.
///
/// Decoders never trap on input data; every problem with bytes received from a peer surfaces as a `WireError`.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, coarse-grained so callers can switch on it.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        let raw: UInt8
        private init(_ raw: UInt8) { self.raw = raw }

        /// A frame's length prefix exceeds the configured maximum (16 MiB by default).
        public static let frameTooLarge = Kind(1)
        /// A length field is negative or smaller than its minimum.
        public static let invalidLength = Kind(2)
        /// The header length is larger than the frame.
        public static let badHeaderLength = Kind(3)
        /// The serialize-type byte is neither JSON (0) nor ROCKETMQ (1).
        public static let unknownSerializeType = Kind(4)
        /// The input ended before a complete structure.
        public static let truncated = Kind(5)
        /// Text was not valid UTF-8.
        public static let invalidUTF8 = Kind(6)
        /// JSON text could not be parsed, or did not have the expected shape.
        public static let malformedJSON = Kind(7)
        /// A header field is missing or has a value of the wrong type.
        public static let invalidHeaderField = Kind(8)
        /// A stored message record is malformed (bad magic, sizes that do not add up).
        public static let corruptMessage = Kind(9)
        /// Compressed data could not be decompressed.
        public static let decompressionFailed = Kind(10)
        /// Decompressed data would exceed the configured cap.
        public static let decompressedTooLarge = Kind(11)
        /// The compression type bits name no known algorithm.
        public static let unknownCompressionType = Kind(12)
        /// Compression itself failed (the C library reported an error).
        public static let compressionFailed = Kind(13)
        /// A value cannot be encoded (too long for its length field, reserved characters, ...).
        public static let unencodable = Kind(14)
        /// An identifier (message id, UNIQ_KEY) is malformed.
        public static let invalidIdentifier = Kind(15)
        /// An SQL92 filter expression does not parse (the message names the UTF-8 byte offset).
        public static let invalidFilterExpression = Kind(16)

        public var description: String {
            switch self {
            case .frameTooLarge: return "frameTooLarge"
            case .invalidLength: return "invalidLength"
            case .badHeaderLength: return "badHeaderLength"
            case .unknownSerializeType: return "unknownSerializeType"
            case .truncated: return "truncated"
            case .invalidUTF8: return "invalidUTF8"
            case .malformedJSON: return "malformedJSON"
            case .invalidHeaderField: return "invalidHeaderField"
            case .corruptMessage: return "corruptMessage"
            case .decompressionFailed: return "decompressionFailed"
            case .decompressedTooLarge: return "decompressedTooLarge"
            case .unknownCompressionType: return "unknownCompressionType"
            case .compressionFailed: return "compressionFailed"
            case .unencodable: return "unencodable"
            case .invalidIdentifier: return "invalidIdentifier"
            case .invalidFilterExpression: return "invalidFilterExpression"
            default: return "wireError(\(raw))"
            }
        }
    }

    /// The category of the failure.
    public var kind: Kind
    /// A human-readable explanation with the offending values.
    public var message: String

    /// Creates an error of `kind` with an explanation.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "WireError.\(kind): \(message)" }
}
