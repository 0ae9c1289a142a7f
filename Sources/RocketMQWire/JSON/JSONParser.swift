/// A lenient, bounded JSON parser for fastjson output.
///
/// Accepts standard JSON plus unquoted numeric keys, object keys, and single trailing whitespace. Depth is limited so
/// hostile input cannot exhaust the stack; every error is a ``WireError`` of kind `.malformedJSON` or `.invalidUTF8`.
///
/// Besides building a ``JSONValue`` tree, the parser lets hot paths in this module (the remoting header) read an
/// object member by member straight from the bytes, with the same dialect and the same errors.
public struct JSONParser {
    /// The deepest nesting accepted.
    public static let maxDepth = 256

    private let bytes: UnsafeRawBufferPointer
    private var index: Int = 0
    private var depth: Int = 0

    /// A parser over `bytes`, which must stay valid while it is used.
    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses one JSON value that spans the whole input (surrounding whitespace allowed).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        try parser.finish()
        return value
    }

    /// Parses one JSON value that spans the whole input (surrounding whitespace allowed).
    public static func parse<Bytes: Collection>(_ input: Bytes) throws -> JSONValue where Bytes.Element == UInt8 {
        if let value = try input.withContiguousStorageIfAvailable({ try parse(UnsafeRawBufferPointer($0)) }) {
            return value
        }
        return try Array(input).withUnsafeBytes { try parse($0) }
    }

    /// Parses JSON text.
    public static func parse(_ text: String) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0)) }
    }

    /// Checks that only whitespace is left.
    mutating func finish() throws {
        skipWhitespace()
        guard index == bytes.count else { throw error("unexpected trailing characters") }
    }

    private func error(_ what: String) -> WireError {
        WireError(.malformedJSON, "\(what) at byte \(index)")
    }

    // Inlined: called between every two tokens, and compact JSON (all that fastjson writes) has no whitespace.
    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    @inline(__always)
    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    @inline(__always)
    private mutating func expect(_ byte: UInt8) throws {
        guard peek() == byte else { throw unexpected(byte) }
        index += 1
    }

    private func unexpected(_ byte: UInt8) -> WireError { error("expected '\(Character(Unicode.Scalar(byte)))'") }

    mutating func parseValue() throws -> JSONValue {
        guard let c = peek() else { throw error("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character 0x\(String(c, radix: 16))")
        }
    }

    private mutating func parseLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw error("truncated literal") }
        let ok = literal.withUTF8Buffer { lit in
            for i in 0..<count where bytes[index + i] != lit[i] { return false }
            return true
        }
        guard ok else { throw error("invalid literal") }
        index += count
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth)") }
    }

    private mutating func parseObject() throws -> JSONValue {
        var members: [JSONValue.Member] = []
        try readObject { parser, key in members.append(.init(key: key, value: try parser.parseValue())) }
        return .object(members)
    }

    /// Reads the object at the current position, calling `member` for each key with the parser positioned at the
    /// member's value (whitespace skipped); `member` must consume exactly that value.
    mutating func readObject(_ member: (inout JSONParser, JSONValue) throws -> Void) throws {
        try readMembers(
            key: { parser in
                switch parser.peek() ?? 0 {
                case UInt8(ascii: "\""): return .string(try parser.parseString())
                case UInt8(ascii: "{"): return try parser.parseObject()  // fastjson: objects as map keys
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parser.parseNumber())
                default: throw parser.error("expected an object key")
                }
            }, member)
    }

    /// Like ``readObject(_:)`` for objects whose keys only need recognising: `match` sees each string key's UTF-8
    /// bytes (escapes resolved; valid UTF-8) without a `String` being made for plain keys, and a number key's text;
    /// object keys arrive as `nil`.
    mutating func readObject<Key>(
        matchingKeys match: (UnsafeRawBufferPointer) -> Key, _ member: (inout JSONParser, Key?) throws -> Void
    ) throws {
        try readMembers(
            key: { parser -> Key? in
                switch parser.peek() ?? 0 {
                case UInt8(ascii: "\""):
                    if let plain = parser.plainStringBytes() { return match(plain) }
                    var text = try parser.parseString()
                    return text.withUTF8 { match(UnsafeRawBufferPointer($0)) }
                case UInt8(ascii: "{"):
                    _ = try parser.parseObject()
                    return nil
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    var text = try parser.parseNumber()  // fastjson: numbers as map keys, read as their text
                    return text.withUTF8 { match(UnsafeRawBufferPointer($0)) }
                default: throw parser.error("expected an object key")
                }
            }, member)
    }

    /// The object loop both readers share: `key` reads a key at the current position. (Inlined so that each reader's
    /// closures are too: this loop runs for every header.)
    @inline(__always)
    private mutating func readMembers<Key>(
        key readKey: (inout JSONParser) throws -> Key, _ member: (inout JSONParser, Key) throws -> Void
    ) throws {
        guard peek() == UInt8(ascii: "{") else { throw error("expected an object") }
        try enter()
        defer { depth -= 1 }
        index += 1  // {
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            let key = try readKey(&self)
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try member(&self, key)
            skipWhitespace()
            guard let c = peek() else { throw error("unterminated object") }
            index += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { return }
            throw error("expected ',' or '}'")
        }
    }

    /// The byte offset of the next byte to read.
    var position: Int { index }

    /// Moves past the scalar or `null` at the current position with the checks ``parseValue()`` makes (escapes, UTF-8,
    /// number syntax) but without building it; returns `false`, consuming nothing, at an object or an array.
    mutating func skipScalar() throws -> Bool {
        guard let c = peek() else { throw error("unexpected end of input") }
        switch c {
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try parseLiteral("true")
        case UInt8(ascii: "f"): try parseLiteral("false")
        case UInt8(ascii: "n"): try parseLiteral("null")
        case UInt8(ascii: "{"), UInt8(ascii: "["): return false
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        default: throw error("unexpected character 0x\(String(c, radix: 16))")
        }
        return true
    }

    /// Moves past the object at the current position, checking it as ``readObject(matchingKeys:_:)`` reads it, for
    /// an object whose keys must be strings (or numbers) and whose values must be scalars or `null` (a remoting
    /// header's extFields): one tight loop, nothing built.
    mutating func skipFlatObject() throws {
        try readMembers(
            key: { parser in
                switch parser.peek() ?? 0 {
                case UInt8(ascii: "\""): try parser.skipString()
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parser.scanNumber()  // fastjson: number keys
                case UInt8(ascii: "{"): throw parser.error("object key in a flat object")
                default: throw parser.error("expected an object key")
                }
            },
            { parser, _ in
                guard try parser.skipScalar() else { throw parser.error("value in a flat object is not a scalar") }
            })
    }

    /// Moves past the string at the current position, checking what ``parseString()`` checks (escapes, UTF-8) without
    /// building it.
    private mutating func skipString() throws {
        index += 1  // opening quote
        if let plain = scanString(from: index), !plain.hasBackslash {
            guard plain.isASCII || isValidWireUTF8(UnsafeRawBufferPointer(rebasing: bytes[index..<plain.at])) else {
                throw WireError(.invalidUTF8, "invalid UTF-8 in JSON string at byte \(index)")
            }
            index = plain.at + 1
            return
        }
        while let special = scanString(from: index, orBackslash: true) {
            // Escapes only ever produce valid UTF-8, so the text is valid when every run between them is.
            guard special.isASCII || isValidWireUTF8(UnsafeRawBufferPointer(rebasing: bytes[index..<special.at])) else {
                throw WireError(.invalidUTF8, "invalid UTF-8 in JSON string at byte \(index)")
            }
            index = special.at + 1
            if bytes[special.at] == UInt8(ascii: "\"") { return }
            guard let e = peek() else { break }
            index += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                break
            case UInt8(ascii: "u"): _ = try parseHex4()
            default: throw error("invalid escape")
            }
        }
        index = bytes.count
        throw error("unterminated string")
    }

    /// The header-field value at the current position, consumed: its bytes when it is a plain ASCII string without
    /// escapes or a number (no `String` made), its text otherwise, `nil` for `null`; throws at an object or an array.
    mutating func headerFieldToken() throws -> HeaderFieldToken? {
        switch peek() ?? 0 {
        case UInt8(ascii: "\""):
            if let plain = plainStringBytes() { return .bytes(plain) }
            return .text(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = index
            try scanNumber()
            return .bytes(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        default:
            let value = try parseValue()
            if value.isNull { return nil }
            guard let text = value.scalarText else { throw error("header field value is not a scalar") }
            return .text(text)
        }
    }

    /// The bytes of the string at the current position if it is plain ASCII without escapes (then consumed);
    /// otherwise `nil` and nothing consumed.
    private mutating func plainStringBytes() -> UnsafeRawBufferPointer? {
        let start = index + 1
        guard let run = scanString(from: start), run.isASCII, !run.hasBackslash else { return nil }
        index = run.at + 1
        return UnsafeRawBufferPointer(rebasing: bytes[start..<run.at])
    }

    /// The first `"` at or after `start` (with `orBackslash`, the first `"` or `\\`), and whether the bytes before it
    /// hold a backslash (a quote may then be escaped) or only ASCII. Eight bytes per step: header values are mostly
    /// long plain runs, and property strings have an escape every few bytes in runs of plain text.
    @inline(__always)
    private func scanString(from start: Int, orBackslash: Bool = false) -> (at: Int, hasBackslash: Bool, isASCII: Bool)? {
        guard let base = bytes.baseAddress else { return nil }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var flags: UInt64 = 0  // high bits of non-ASCII bytes, folded
        var backslashes: UInt64 = 0
        var i = start
        while i &+ 8 <= bytes.count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let q = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
            let b = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
            // A byte's high bit is set where the byte is zero (exact up to the first zero byte: borrows only carry
            // up; a false mark above a true one does not change the lowest mark or whether any is below a stop).
            let quotes = (q &- ones) & ~q & highs
            let slashes = (b &- ones) & ~b & highs
            let stops = orBackslash ? quotes | slashes : quotes
            if stops != 0 {
                let below = (UInt64(1) << UInt64(stops.trailingZeroBitCount)) &- 1  // the bytes before the stop
                let at = i &+ stops.trailingZeroBitCount / 8
                return (at, (backslashes | slashes & below) != 0, (flags | word & highs & below) == 0)
            }
            backslashes |= slashes
            flags |= word & highs
            i &+= 8
        }
        var seen: UInt8 = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") || orBackslash && c == UInt8(ascii: "\\") {
                return (i, backslashes != 0 || seen & 0x40 != 0, flags == 0 && seen & 0x80 == 0)
            }
            seen |= c == UInt8(ascii: "\\") ? 0x40 : c & 0x80
            i &+= 1
        }
        return nil
    }

    /// The value at the current position as a 64-bit integer, with ``JSONValue/int64Value``'s rules (a number, or a
    /// string holding one; `nil` otherwise); a plain integer is read without building a value.
    mutating func parseInt64() throws -> Int64? {
        guard let c = peek(), c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) else {
            return try parseValue().int64Value
        }
        let start = index
        let negative = c == UInt8(ascii: "-")
        try scanNumber()
        var i = negative ? start + 1 : start
        var magnitude: UInt64 = 0
        while i < index {
            let d = bytes[i]
            guard d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { return nil }  // fraction or exponent
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            guard !o1 && !o2 else { return nil }
            magnitude = sum
            i += 1
        }
        if negative {
            return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    private mutating func parseArray() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard let c = peek() else { throw error("unterminated array") }
            index += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "]") { return .array(elements) }
            throw error("expected ',' or ']'")
        }
    }

    private mutating func parseNumber() throws -> String {
        let start = index
        try scanNumber()
        // Only ASCII digits and signs were consumed, so this cannot fail.
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// Moves past the number at the current position.
    private mutating func scanNumber() throws {
        if peek() == UInt8(ascii: "-") { index += 1 }
        var digits = 0
        while let c = peek(), c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
            index += 1
            digits += 1
        }
        guard digits > 0 else { throw error("invalid number") }
        if peek() == UInt8(ascii: ".") {
            index += 1
            var frac = 0
            while let c = peek(), c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                index += 1
                frac += 1
            }
            guard frac > 0 else { throw error("invalid number fraction") }
        }
        if let c = peek(), c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            index += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { index += 1 }
            var exp = 0
            while let c = peek(), c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                index += 1
                exp += 1
            }
            guard exp > 0 else { throw error("invalid number exponent") }
        }
    }

    private mutating func parseHex4() throws -> UInt16 {
        guard bytes.count - index >= 4 else { throw error("truncated \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let digit: UInt16
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt16(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt16(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt16(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    mutating func parseString() throws -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes.
        if let plain = scanString(from: start), !plain.hasBackslash {
            let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<plain.at])
            index = plain.at + 1
            if plain.isASCII { return String(decoding: slice, as: UTF8.self) }
            guard let s = String(validatingWireBytes: slice) else {
                throw WireError(.invalidUTF8, "invalid UTF-8 in JSON string at byte \(start)")
            }
            return s
        }
        guard let firstEscape = scanString(from: start, orBackslash: true).flatMap({ bytes[$0.at] == UInt8(ascii: "\\") ? $0.at : nil }) else {
            throw error("unterminated string")
        }
        index = firstEscape
        // Slow path with escapes: collect UTF-16 code units for \u escapes, bytes otherwise.
        var out: [UInt8] = []
        out.reserveCapacity(index - start + 64)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            // Copy the run up to the next quote or escape in one go (property strings escape every separator).
            let run = index
            index = scanString(from: index, orBackslash: true)?.at ?? bytes.count
            if run < index { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[run..<index])) }
            guard index < bytes.count else { break }
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                guard let s = out.withUnsafeBytes({ String(validatingWireBytes: $0) }) else {
                    throw WireError(.invalidUTF8, "invalid UTF-8 in JSON string at byte \(start)")
                }
                return s
            }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                index += 1
                continue
            }
            index += 1
            guard let e = peek() else { break }
            index += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                let unit = try parseHex4()
                var scalar: Unicode.Scalar?
                if UTF16.isLeadSurrogate(unit) {
                    // Expect a trailing surrogate escape.
                    if bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        let save = index
                        index += 2
                        let trail = try parseHex4()
                        if UTF16.isTrailSurrogate(trail) {
                            let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(trail) - 0xDC00)
                            scalar = Unicode.Scalar(value)
                        } else {
                            index = save
                        }
                    }
                } else if !UTF16.isTrailSurrogate(unit) {
                    scalar = Unicode.Scalar(unit)
                }
                // Lone surrogates become U+FFFD, as Java's UTF-8 encoder would write '?'-like replacement.
                UTF8.encode(scalar ?? "\u{FFFD}") { out.append($0) }
            default:
                throw error("invalid escape")
            }
        }
        throw error("unterminated string")
    }
}
