/// Writes JSON the way fastjson does: compact, control characters escaped as `\u00XX` (upper-case hex), and
/// optionally every non-ASCII character escaped (fastjson's `BrowserCompatible`, used for standard route JSON).
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8] = []
    /// Escape every non-ASCII UTF-16 unit as `\uXXXX` (fastjson `BrowserCompatible`).
    public var browserCompatible: Bool

    /// Creates a writer.
    public init(browserCompatible: Bool = false, reservingCapacity capacity: Int = 256) {
        self.browserCompatible = browserCompatible
        bytes.reserveCapacity(capacity)
    }

    /// Serializes `value` into a new byte array.
    public static func encode(_ value: JSONValue, browserCompatible: Bool = false) -> [UInt8] {
        var writer = JSONWriter(browserCompatible: browserCompatible)
        writer.write(value)
        return writer.bytes
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Appends raw ASCII text (a literal, key or number) without escaping.
    public mutating func writeRaw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends one byte.
    @inline(__always)
    public mutating func writeByte(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// Appends a decimal integer.
    public mutating func writeInt<I: BinaryInteger>(_ value: I) {
        guard let value = Int64(exactly: value) else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        DecimalText.withDigits(of: value) { bytes.append(contentsOf: $0) }
    }

    /// Appends `true` or `false`.
    public mutating func writeBool(_ value: Bool) {
        if value { writeRaw("true") } else { writeRaw("false") }
    }

    /// Appends a quoted, escaped string.
    public mutating func writeString(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        if browserCompatible {
            // fastjson BrowserCompatible: also escapes '/' and every unit from DEL (0x7F) up.
            for unit in string.utf16 {
                if unit == 0x2F {
                    bytes.append(0x5C)
                    bytes.append(0x2F)
                } else if unit < 0x7F {
                    appendEscaped(UInt8(unit))
                } else {
                    appendUnicodeEscape(unit)
                }
            }
        } else {
            // One pass over the contiguous UTF-8, copying runs that need no escaping in one go. Besides control
            // characters, quote and backslash, fastjson escapes U+007F...U+009F (C2 80...C2 9F) and U+2028/U+2029
            // (E2 80 A8/A9). Property strings (\u{1}/\u{2} separators) take this path on every send.
            var text = string
            text.withUTF8 { utf8 in
                let n = utf8.count
                var run = 0
                var i = 0
                while i < n {
                    let b = utf8[i]
                    let length: Int
                    if b >= 0x20 && b != 0x22 && b != 0x5C && b < 0x7F {
                        i += 1
                        continue
                    } else if b <= 0x7F {
                        length = 1
                    } else if b == 0xC2, i + 1 < n, utf8[i + 1] <= 0x9F {
                        length = 2
                    } else if b == 0xE2, i + 2 < n, utf8[i + 1] == 0x80, utf8[i + 2] == 0xA8 || utf8[i + 2] == 0xA9 {
                        length = 3
                    } else {
                        i += 1
                        continue
                    }
                    if run < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<i])) }
                    switch length {
                    case 1 where b == 0x7F: appendUnicodeEscape(0x7F)
                    case 1: appendEscaped(b)
                    case 2: appendUnicodeEscape(UInt16(utf8[i + 1]))
                    default: appendUnicodeEscape(utf8[i + 2] == 0xA8 ? 0x2028 : 0x2029)
                    }
                    i += length
                    run = i
                }
                if run < n { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<n])) }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ b: UInt8) {
        switch b {
        case 0x22: bytes.append(0x5C); bytes.append(0x22)
        case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
        case 0x08: bytes.append(0x5C); bytes.append(UInt8(ascii: "b"))
        case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
        case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
        case 0x0C: bytes.append(0x5C); bytes.append(UInt8(ascii: "f"))
        case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
        case 0..<0x20: appendUnicodeEscape(UInt16(b))
        default: bytes.append(b)
        }
    }

    private mutating func appendUnicodeEscape(_ unit: UInt16) {
        bytes.append(0x5C)
        bytes.append(UInt8(ascii: "u"))
        bytes.append(Self.hexDigits[Int(unit >> 12) & 0xF])
        bytes.append(Self.hexDigits[Int(unit >> 8) & 0xF])
        bytes.append(Self.hexDigits[Int(unit >> 4) & 0xF])
        bytes.append(Self.hexDigits[Int(unit) & 0xF])
    }

    /// Appends any value; object members are written in their stored order.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: writeRaw("null")
        case .bool(let b): if b { writeRaw("true") } else { writeRaw("false") }
        case .number(let n): bytes.append(contentsOf: n.utf8)
        case .string(let s): writeString(s)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (i, e) in elements.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(e)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (i, m) in members.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(m.key)
                bytes.append(UInt8(ascii: ":"))
                write(m.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}
