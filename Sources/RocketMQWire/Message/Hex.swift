/// Hex conversions for message ids (Java's `UtilAll.bytes2string` / `string2bytes`).
enum Hex {
    static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Upper-case hex of `bytes`, as Java's `UtilAll.bytes2string` writes it.
    static func upper<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let count = bytes.count
        return String(unsafeUninitializedCapacity: count * 2) { out in
            var i = 0
            for byte in bytes {
                out[i] = upperDigits[Int(byte >> 4)]
                out[i + 1] = upperDigits[Int(byte & 0x0F)]
                i += 2
            }
            return i
        }
    }

    /// Decodes upper- or lower-case hex; `nil` for an odd length or a non-hex character.
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = text.utf8
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var high: UInt8 = 0
        var isHigh = true
        for c in utf8 {
            guard let n = nibble(c) else { return nil }
            if isHigh {
                high = n
            } else {
                out.append(high << 4 | n)
            }
            isHigh.toggle()
        }
        return out
    }

    @inline(__always)
    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c &- UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c &- UInt8(ascii: "A") &+ 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c &- UInt8(ascii: "a") &+ 10
        default: return nil
        }
    }
}

/// An id's text that is usually 32 upper-case hex digits (an IPv4 offset message id): then kept as its 16 bytes and
/// spelled out when read, so passing it along costs no string; any other text is kept as it is. Two equal texts are
/// always stored alike (the form is decided by the text alone), so equality and hashing are the text's.
package struct HexIDText: Sendable, Hashable {
    private enum Storage: Sendable, Hashable {
        case hex(UInt64, UInt64)
        case text(String)
    }

    private var storage: Storage

    /// `text`, compact when it is 32 upper-case hex digits.
    package init(_ text: String) {
        var text = text
        storage = text.withUTF8 { Self.compact(UnsafeRawBufferPointer($0)) } ?? .text(text)
    }

    /// The 32 hex digits of `high` and `low`.
    package init(high: UInt64, low: UInt64) {
        storage = .hex(high, low)
    }

    /// The UTF-8 `bytes`, compact when they are 32 upper-case hex digits.
    package init(utf8 bytes: UnsafeRawBufferPointer) {
        storage = Self.compact(bytes) ?? .text(String(decoding: bytes, as: UTF8.self))
    }

    /// The text.
    package var text: String {
        switch storage {
        case .text(let text): return text
        case .hex(let high, let low):
            return String(unsafeUninitializedCapacity: 32) { out in
                Self.spell(high, low) { out[$0] = $1 }
                return 32
            }
        }
    }

    /// The text's length in UTF-8 bytes.
    package var utf8Count: Int {
        switch storage {
        case .text(let text): return text.utf8.count
        case .hex: return 32
        }
    }

    /// The text when it is not kept compact (it may need escapes), else nil.
    var uncompactedText: String? {
        if case .text(let text) = storage { return text }
        return nil
    }

    /// Calls `body` with the text's UTF-8 bytes (no string made for the compact form).
    package func withUTF8<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .text(var text):
            return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        case .hex(let high, let low):
            var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            return try withUnsafeMutableBytes(of: &digits) { raw in
                Self.spell(high, low) { raw[$0] = $1 }
                return try body(UnsafeRawBufferPointer(raw))
            }
        }
    }

    private static func spell(_ high: UInt64, _ low: UInt64, _ put: (Int, UInt8) -> Void) {
        for i in 0..<16 {
            put(i, Hex.upperDigits[Int((high >> UInt64(60 - 4 * i)) & 0xF)])
            put(16 + i, Hex.upperDigits[Int((low >> UInt64(60 - 4 * i)) & 0xF)])
        }
    }

    private static func compact(_ bytes: UnsafeRawBufferPointer) -> Storage? {
        guard bytes.count == 32 else { return nil }
        var words: (UInt64, UInt64) = (0, 0)
        for half in 0..<2 {
            var word: UInt64 = 0
            for i in 0..<16 {
                let c = bytes[half * 16 + i]
                let digit: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c &- UInt8(ascii: "0")
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c &- UInt8(ascii: "A") &+ 10
                default: return nil
                }
                word = word << 4 | UInt64(digit)
            }
            if half == 0 { words.0 = word } else { words.1 = word }
        }
        return .hex(words.0, words.1)
    }
}
