// Java's number parsing and comparison rules, as RocketMQ's SQL92 filter applies them.

/// Java's number parsing and comparison rules as the filter uses them.
enum JavaNumber {
    /// `Double.compare`: `-0.0 < 0.0`, `NaN` equal to itself and above everything.
    static func compare(_ a: Double, _ b: Double) -> Int {
        if a < b { return -1 }
        if a > b { return 1 }
        let ab = a.isNaN ? Int64(0x7ff8_0000_0000_0000) : Int64(bitPattern: a.bitPattern)
        let bb = b.isNaN ? Int64(0x7ff8_0000_0000_0000) : Int64(bitPattern: b.bitPattern)
        return ab == bb ? 0 : (ab < bb ? -1 : 1)
    }

    static func compare<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a == b ? 0 : 1) }

    /// `ComparisonExpression.__compare` with string conversion on: the operands are brought to one type (numbers
    /// widen; a string is converted to the other side's type); a `Boolean` on the left of a string is a
    /// `ClassCastException`; other mixes answer -1.
    static func compareForFilter(_ lv: SQL92Value, _ rv: SQL92Value) throws(SQL92EvaluationFailure) -> Int {
        switch (lv, rv) {
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (a ? 1 : -1)
        case (.bool, .string): throw SQL92EvaluationFailure()
        case (.int(let a), .int(let b)): return compare(a, b)
        case (.int(let a), .long(let b)): return compare(Int64(a), b)
        case (.int(let a), .double(let b)): return compare(Double(a), b)
        case (.int(let a), .string(let s)): return compare(a, try int(s))
        case (.long(let a), .int(let b)): return compare(a, Int64(b))
        case (.long(let a), .long(let b)): return compare(a, b)
        case (.long(let a), .double(let b)): return compare(Double(a), b)
        case (.long(let a), .string(let s)): return compare(a, try long(s))
        case (.double(let a), .int(let b)): return compare(a, Double(b))
        case (.double(let a), .long(let b)): return compare(a, Double(b))
        case (.double(let a), .double(let b)): return compare(a, b)
        case (.double(let a), .string(let s)): return compare(a, try double(s))
        case (.string(let s), .bool(let b)):
            let a = s.utf8.count == 4 && s.lowercased() == "true"
            return a == b ? 0 : (a ? 1 : -1)
        case (.string(let s), .int(let b)): return compare(try int(s), b)
        case (.string(let s), .long(let b)): return compare(try long(s), b)
        case (.string(let s), .double(let b)): return compare(try double(s), b)
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8) ? 0 : (a.utf16.lexicographicallyPrecedes(b.utf16) ? -1 : 1)
        default: return -1
        }
    }

    private static func int(_ s: String) throws(SQL92EvaluationFailure) -> Int32 {
        guard let v = parseLong(s, min: Int64(Int32.min), max: Int64(Int32.max)) else { throw SQL92EvaluationFailure() }
        return Int32(v)
    }

    private static func long(_ s: String) throws(SQL92EvaluationFailure) -> Int64 {
        guard let v = parseLong(s, min: .min, max: .max) else { throw SQL92EvaluationFailure() }
        return v
    }

    private static func double(_ s: String) throws(SQL92EvaluationFailure) -> Double {
        guard let v = parseDouble(s) else { throw SQL92EvaluationFailure() }
        return v
    }

    /// `Integer.parseInt` / `Long.parseLong` in radix 10: an optional `+`/`-`, then at least one decimal digit —
    /// any Unicode `Nd` digit in the BMP counts, as `Character.digit` does — with no spaces, within `min...max`.
    static func parseLong(_ s: String, min: Int64, max: Int64) -> Int64? {
        var scalars = s.unicodeScalars.makeIterator()
        guard var c = scalars.next() else { return nil }
        var negative = false
        if c == "-" || c == "+" {
            negative = c == "-"
            guard let next = scalars.next() else { return nil }
            c = next
        }
        var value: Int64 = 0  // accumulated negatively, as Java does, so that the minimum fits
        while true {
            guard c.value <= 0xFFFF, c.properties.generalCategory == .decimalNumber,
                let digit = c.properties.numericValue.map({ Int64($0) }), (0...9).contains(digit)
            else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times.subtractingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = next
            guard let following = scalars.next() else { break }
            c = following
        }
        if negative {
            return value >= min ? value : nil
        }
        guard value != .min else { return nil }
        return -value <= max ? -value : nil
    }

    /// `Double.valueOf(String)`: surrounding characters up to U+0020 trimmed; an optional sign; then `NaN`,
    /// `Infinity`, a decimal (`1`, `1.`, `.5`, `1.5e-3`) or a hexadecimal float with its binary exponent
    /// (`0x1.8p1`), optionally ended by one of `fFdD`.
    static func parseDouble(_ string: String) -> Double? {
        var bytes = Array(string.utf8)[...]
        while let first = bytes.first, first <= 0x20 { bytes.removeFirst() }
        while let last = bytes.last, last <= 0x20 { bytes.removeLast() }
        guard !bytes.isEmpty else { return nil }
        var sign = ""
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            sign = first == UInt8(ascii: "-") ? "-" : ""
            bytes.removeFirst()
        }
        if bytes.elementsEqual("NaN".utf8) { return .nan }
        if bytes.elementsEqual("Infinity".utf8) { return sign.isEmpty ? .infinity : -.infinity }
        if let last = bytes.last, [UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "d"), UInt8(ascii: "D")].contains(last) {
            bytes.removeLast()
        }
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x66) }
        var i = bytes.startIndex
        let end = bytes.endIndex
        let hex = bytes.count >= 2 && bytes[i] == UInt8(ascii: "0") && bytes[i + 1] | 0x20 == UInt8(ascii: "x")
        if hex { i += 2 }
        var mantissaDigits = 0
        while i < end, hex ? isHex(bytes[i]) : isDigit(bytes[i]) { i += 1; mantissaDigits += 1 }
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < end, hex ? isHex(bytes[i]) : isDigit(bytes[i]) { i += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return nil }
        if i < end, bytes[i] | 0x20 == (hex ? UInt8(ascii: "p") : UInt8(ascii: "e")) {
            i += 1
            if i < end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            var exponentDigits = 0
            while i < end, isDigit(bytes[i]) { i += 1; exponentDigits += 1 }
            guard exponentDigits > 0 else { return nil }
        } else if hex {
            return nil  // Java requires the binary exponent of a hexadecimal float
        }
        guard i == end else { return nil }
        return Double(sign + String(decoding: bytes, as: UTF8.self))
    }
}
