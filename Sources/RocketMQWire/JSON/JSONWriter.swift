/// Writes JSON the way fastjson does: compact, control characters escaped as `\u00XX` (upper-case hex), and
/// optionally every non-ASCII character escaped (fastjson's `BrowserCompatible`, used for standard route JSON).
public struct JSONWriter: Sendable {
    private var output: JSONByteArray

    /// The bytes written so far.
    public var bytes: [UInt8] {
        get { output.bytes }
        _modify { yield &output.bytes }
        set { output.bytes = newValue }
    }

    /// Escape every non-ASCII UTF-16 unit as `\uXXXX` (fastjson `BrowserCompatible`).
    public var browserCompatible: Bool {
        get { output.browserCompatible }
        set { output.browserCompatible = newValue }
    }

    /// Creates a writer.
    public init(browserCompatible: Bool = false, reservingCapacity capacity: Int = 256) {
        output = JSONByteArray(browserCompatible: browserCompatible)
        output.bytes.reserveCapacity(capacity)
    }

    /// Serializes `value` into a new byte array.
    public static func encode(_ value: JSONValue, browserCompatible: Bool = false) -> [UInt8] {
        var writer = JSONWriter(browserCompatible: browserCompatible)
        writer.write(value)
        return writer.bytes
    }

    /// Appends raw ASCII text (a literal, key or number) without escaping.
    public mutating func writeRaw(_ text: StaticString) { output.writeRaw(text) }

    /// Appends one byte.
    @inline(__always)
    public mutating func writeByte(_ byte: UInt8) { output.writeByte(byte) }

    /// Appends a decimal integer.
    public mutating func writeInt<I: BinaryInteger>(_ value: I) { output.writeInt(value) }

    /// Appends `true` or `false`.
    public mutating func writeBool(_ value: Bool) { output.writeBool(value) }

    /// Appends a quoted, escaped string.
    public mutating func writeString(_ string: String) { output.writeString(string) }

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

/// Where JSON text goes, with fastjson's rules for writing it: the public ``JSONWriter`` (a growing array) and the
/// frame encoder's ``FrameJSONWriter`` (straight into the outbound buffer) share them.
protocol JSONTextOutput {
    /// Escape every non-ASCII UTF-16 unit as `\uXXXX` (fastjson `BrowserCompatible`).
    var browserCompatible: Bool { get }
    mutating func writeByte(_ byte: UInt8)
    mutating func writeBytes(_ bytes: UnsafeRawBufferPointer)
}

extension JSONTextOutput {
    /// Appends raw ASCII text (a literal, key or number) without escaping.
    @inline(__always)
    mutating func writeRaw(_ text: StaticString) {
        text.withUTF8Buffer { writeBytes(UnsafeRawBufferPointer($0)) }
    }

    /// Appends a decimal integer.
    mutating func writeInt<I: BinaryInteger>(_ value: I) {
        guard let value = Int64(exactly: value) else {
            var text = String(value)
            text.withUTF8 { writeBytes(UnsafeRawBufferPointer($0)) }
            return
        }
        DecimalText.withDigits(of: value) { writeBytes(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `true` or `false`.
    mutating func writeBool(_ value: Bool) {
        if value { writeRaw("true") } else { writeRaw("false") }
    }

    /// Appends a quoted, escaped string.
    mutating func writeString(_ string: String) {
        writeByte(UInt8(ascii: "\""))
        writeStringContent(string)
        writeByte(UInt8(ascii: "\""))
    }

    /// Appends `properties.encoded` as a quoted, escaped string, written from the entries (no string made first):
    /// the bytes ``writeString(_:)`` writes for ``MessageProperties/encoded``.
    mutating func writeString(_ properties: MessageProperties) {
        writeByte(UInt8(ascii: "\""))
        writeEntries(of: properties)
        writeByte(UInt8(ascii: "\""))
    }

    /// Appends the escaped `key \u0001 value \u0002` of every entry, without quotes.
    mutating func writeEntries(of properties: MessageProperties) {
        for entry in properties.entries {
            writeStringContent(entry.key)
            appendEscaped(0x01)
            writeStringContent(entry.value)
            appendEscaped(0x02)
        }
    }

    /// Appends `id`'s text as a quoted string.
    mutating func writeString(_ id: HexIDText) {
        writeByte(UInt8(ascii: "\""))
        writeStringContent(id)
        writeByte(UInt8(ascii: "\""))
    }

    /// Appends `id`'s text escaped, without quotes (the hex digits of a compact id need none: written as they are).
    mutating func writeStringContent(_ id: HexIDText) {
        if let text = id.uncompactedText { return writeStringContent(text) }
        id.withUTF8 { writeBytes($0) }
    }

    /// Appends `string` escaped, without quotes.
    mutating func writeStringContent(_ string: String) {
        if browserCompatible {
            // fastjson BrowserCompatible: also escapes '/' and every unit from DEL (0x7F) up.
            for unit in string.utf16 {
                if unit == 0x2F {
                    writeByte(0x5C)
                    writeByte(0x2F)
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
                    // Eight bytes at a time while none needs a look (header strings are mostly plain).
                    while i &+ 8 <= n, let base = utf8.baseAddress, !Self.needsEscapeCheck(UnsafeRawPointer(base + i)) {
                        i &+= 8
                    }
                    guard i < n else { break }
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
                    if run < i { writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[run..<i]))) }
                    switch length {
                    case 1 where b == 0x7F: appendUnicodeEscape(0x7F)
                    case 1: appendEscaped(b)
                    case 2: appendUnicodeEscape(UInt16(utf8[i + 1]))
                    default: appendUnicodeEscape(utf8[i + 2] == 0xA8 ? 0x2028 : 0x2029)
                    }
                    i += length
                    run = i
                }
                if run < n { writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[run..<n]))) }
            }
        }
    }

    /// Whether any of the eight bytes at `p` is a control character, `"`, `\\`, DEL or non-ASCII.
    @inline(__always)
    private static func needsEscapeCheck(_ p: UnsafeRawPointer) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let w = p.loadUnaligned(as: UInt64.self)
        // High bit set in a byte that is zero / below 0x20 (exact when any is: borrows only carry upwards).
        func zero(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let control = (w &- ones &* 0x20) & ~w & highs
        let special = zero(w ^ (ones &* 0x22)) | zero(w ^ (ones &* 0x5C)) | zero(w ^ (ones &* 0x7F))
        return (control | special | w & highs) != 0
    }

    private mutating func appendEscaped(_ b: UInt8) {
        switch b {
        case 0x22: writeByte(0x5C); writeByte(0x22)
        case 0x5C: writeByte(0x5C); writeByte(0x5C)
        case 0x08: writeByte(0x5C); writeByte(UInt8(ascii: "b"))
        case 0x09: writeByte(0x5C); writeByte(UInt8(ascii: "t"))
        case 0x0A: writeByte(0x5C); writeByte(UInt8(ascii: "n"))
        case 0x0C: writeByte(0x5C); writeByte(UInt8(ascii: "f"))
        case 0x0D: writeByte(0x5C); writeByte(UInt8(ascii: "r"))
        case 0..<0x20: appendUnicodeEscape(UInt16(b))
        default: writeByte(b)
        }
    }

    /// `\uXXXX` with upper-case hex digits, written as one run.
    private mutating func appendUnicodeEscape(_ unit: UInt16) {
        func hex(_ shift: UInt16) -> UInt8 {
            let digit = UInt8(truncatingIfNeeded: unit >> shift) & 0xF
            return digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "A") - 10 + digit
        }
        var escape = (UInt8(ascii: "\\"), UInt8(ascii: "u"), hex(12), hex(8), hex(4), hex(0))
        withUnsafeBytes(of: &escape) { writeBytes($0) }
    }
}

/// JSON text in a growing array.
struct JSONByteArray: JSONTextOutput, Sendable {
    var bytes: [UInt8] = []
    var browserCompatible: Bool

    @inline(__always)
    mutating func writeByte(_ byte: UInt8) { bytes.append(byte) }

    @inline(__always)
    mutating func writeBytes(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
}

/// JSON text written straight into a region of the outbound buffer (the remoting header of every frame). Past the
/// region's end it stops and reports ``overflowed``; the frame encoder then retries with room for ``needed`` bytes.
struct FrameJSONWriter: JSONTextOutput {
    var browserCompatible: Bool { false }
    private var region: RawBytesWriter

    init(_ region: UnsafeMutableRawBufferPointer) { self.region = RawBytesWriter(region) }

    /// Bytes written (or, after an overflow, that would have been).
    var needed: Int { region.count }
    /// Whether the text did not fit.
    var overflowed: Bool { region.overflowed }

    @inline(__always)
    mutating func writeByte(_ byte: UInt8) { region.integer(byte) }

    @inline(__always)
    mutating func writeBytes(_ raw: UnsafeRawBufferPointer) { region.bytes(raw) }
}
