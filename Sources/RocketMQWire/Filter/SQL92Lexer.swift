// The SQL92 filter's tokens and lexer (RocketMQ's `SelectorParser.jj` dialect); see `SQL92Expression`.

/// A token of the selector grammar.
enum SQL92Token: Equatable {
    case end
    case not, and, or, between, `in`, `true`, `false`, null, `is`, contains, startsWith, endsWith
    case decimal(String)
    case floating(String)
    case string(String)
    case identifier(String)
    case equal, notEqual, greater, greaterOrEqual, less, lessOrEqual
    case open, comma, close, plus, minus

    var display: String {
        switch self {
        case .end: return "end of input"
        case .not: return "NOT"
        case .and: return "AND"
        case .or: return "OR"
        case .between: return "BETWEEN"
        case .in: return "IN"
        case .true: return "TRUE"
        case .false: return "FALSE"
        case .null: return "NULL"
        case .is: return "IS"
        case .contains: return "CONTAINS"
        case .startsWith: return "STARTSWITH"
        case .endsWith: return "ENDSWITH"
        case .decimal(let s), .floating(let s): return s
        case .string(let s): return "'\(s)'"
        case .identifier(let s): return s
        case .equal: return "="
        case .notEqual: return "<>"
        case .greater: return ">"
        case .greaterOrEqual: return ">="
        case .less: return "<"
        case .lessOrEqual: return "<="
        case .open: return "("
        case .comma: return ","
        case .close: return ")"
        case .plus: return "+"
        case .minus: return "-"
        }
    }

    static let keywords: [String: SQL92Token] = [
        "NOT": .not, "AND": .and, "OR": .or, "BETWEEN": .between, "IN": .in, "TRUE": .true, "FALSE": .false,
        "NULL": .null, "IS": .is, "CONTAINS": .contains, "STARTSWITH": .startsWith, "ENDSWITH": .endsWith,
    ]
}

/// Reads tokens on demand (JavaCC's token manager is lazy too: input past the last token the parser looks at is
/// never read, so a character no token accepts there is no error).
struct SQL92Lexer {
    let bytes: [UInt8]
    var index = 0
    /// No line end follows this offset (so `--` from here on starts no comment); keeps lexing linear.
    private var noLineEndFrom = Int.max

    init(_ text: String) { bytes = Array(text.utf8) }

    static func error(_ offset: Int, _ message: String) -> WireError {
        WireError(.invalidFilterExpression, "SQL92 expression: \(message) at offset \(offset)")
    }

    private func at(_ i: Int) -> UInt8? { i < bytes.count ? bytes[i] : nil }
    private static func isDigit(_ b: UInt8?) -> Bool { b.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
    private static func isIdentifierStart(_ b: UInt8?) -> Bool {
        guard let b else { return false }
        return (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == UInt8(ascii: "_") || b == UInt8(ascii: "$")
    }
    private static func isIdentifierPart(_ b: UInt8?) -> Bool { isIdentifierStart(b) || isDigit(b) }

    /// Skips white space and comments.
    private mutating func skipIgnored() {
        while let b = at(index) {
            switch b {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0C:
                index += 1
            case UInt8(ascii: "-") where at(index + 1) == UInt8(ascii: "-"):
                // A line comment needs its line end; without one this is a minus sign.
                guard index < noLineEndFrom else { return }
                var i = index + 2
                while let c = at(i), c != 0x0A, c != 0x0D { i += 1 }
                guard let c = at(i) else {
                    noLineEndFrom = index
                    return
                }
                i += 1
                if c == 0x0D, at(i) == 0x0A { i += 1 }
                index = i
            case UInt8(ascii: "/") where at(index + 1) == UInt8(ascii: "*"):
                var i = index + 2
                while i + 1 < bytes.count, !(bytes[i] == UInt8(ascii: "*") && bytes[i + 1] == UInt8(ascii: "/")) { i += 1 }
                guard i + 1 < bytes.count else { return }  // unterminated: '/' is then no token
                index = i + 2
            default:
                return
            }
        }
    }

    /// The next token and its byte offset.
    mutating func next() throws -> (SQL92Token, Int) {
        skipIgnored()
        let start = index
        guard let b = at(index) else { return (.end, start) }
        func single(_ token: SQL92Token, _ length: Int = 1) -> (SQL92Token, Int) {
            index += length
            return (token, start)
        }
        switch b {
        case UInt8(ascii: "="): return single(.equal)
        case UInt8(ascii: "<"):
            if at(index + 1) == UInt8(ascii: ">") { return single(.notEqual, 2) }
            if at(index + 1) == UInt8(ascii: "=") { return single(.lessOrEqual, 2) }
            return single(.less)
        case UInt8(ascii: ">"):
            if at(index + 1) == UInt8(ascii: "=") { return single(.greaterOrEqual, 2) }
            return single(.greater)
        case UInt8(ascii: "("): return single(.open)
        case UInt8(ascii: ")"): return single(.close)
        case UInt8(ascii: ","): return single(.comma)
        case UInt8(ascii: "+"): return single(.plus)
        case UInt8(ascii: "-"): return single(.minus)
        case UInt8(ascii: "'"):
            var value: [UInt8] = []
            var i = index + 1
            while true {
                guard let c = at(i) else { throw Self.error(start, "unterminated string literal") }
                if c == UInt8(ascii: "'") {
                    if at(i + 1) == UInt8(ascii: "'") {
                        value.append(c)
                        i += 2
                        continue
                    }
                    break
                }
                value.append(c)
                i += 1
            }
            index = i + 1
            return (.string(String(decoding: value, as: UTF8.self)), start)
        default:
            break
        }
        if Self.isDigit(b) || (b == UInt8(ascii: ".") && Self.isDigit(at(index + 1))) {
            return lexNumber(start)
        }
        if Self.isIdentifierStart(b) {
            var i = index + 1
            while Self.isIdentifierPart(at(i)) { i += 1 }
            let word = String(decoding: bytes[index..<i], as: UTF8.self)
            index = i
            if i - start <= 10, let keyword = SQL92Token.keywords[word.uppercased()] { return (keyword, start) }
            return (.identifier(word), start)
        }
        throw Self.error(start, "unexpected character \(String(decoding: [b], as: UTF8.self).debugDescription)")
    }

    /// The longest of DECIMAL_LITERAL (`0` or `[1-9][0-9]*[lL]?`) and FLOATING_POINT_LITERAL at `start`.
    private mutating func lexNumber(_ start: Int) -> (SQL92Token, Int) {
        var decimalEnd = start
        if at(start) == UInt8(ascii: "0") {
            decimalEnd = start + 1
        } else if Self.isDigit(at(start)) {
            decimalEnd = start + 1
            while Self.isDigit(at(decimalEnd)) { decimalEnd += 1 }
            if let c = at(decimalEnd), c | 0x20 == UInt8(ascii: "l") { decimalEnd += 1 }
        }
        var i = start
        while Self.isDigit(at(i)) { i += 1 }
        let integerDigits = i - start
        var floatEnd = start  // no floating literal
        var fractionOK = false
        if at(i) == UInt8(ascii: ".") {
            var j = i + 1
            while Self.isDigit(at(j)) { j += 1 }
            if integerDigits > 0 || j > i + 1 {
                fractionOK = true
                i = j
                floatEnd = j
            }
        }
        if integerDigits > 0 || fractionOK {
            // EXPONENT: [eE][+-]?[0-9]+
            if let e = at(i), e | 0x20 == UInt8(ascii: "e") {
                var j = i + 1
                if at(j) == UInt8(ascii: "+") || at(j) == UInt8(ascii: "-") { j += 1 }
                if Self.isDigit(at(j)) {
                    while Self.isDigit(at(j)) { j += 1 }
                    floatEnd = j
                }
            }
        }
        if floatEnd > decimalEnd {
            index = floatEnd
            return (.floating(String(decoding: bytes[start..<floatEnd], as: UTF8.self)), start)
        }
        index = decimalEnd
        return (.decimal(String(decoding: bytes[start..<decimalEnd], as: UTF8.self)), start)
    }
}
