/// A parsed SQL92 property filter, with the dialect and semantics of Apache RocketMQ's `filter` module
/// (`SelectorParser.jj`, `ComparisonExpression`, `LogicExpression`, `UnaryExpression`, `ConstantExpression`), which
/// brokers with `enablePropertyFilter=true` evaluate against each message's properties.
///
/// The dialect:
/// - keywords in any case: `AND OR NOT BETWEEN IN IS NULL TRUE FALSE CONTAINS STARTSWITH ENDSWITH`;
/// - comparisons `= <> > >= < <=`, `[NOT] BETWEEN low AND high`, `prop [NOT] IN ('a', 'b')`, `IS [NOT] NULL`,
///   `[NOT] CONTAINS | STARTSWITH | ENDSWITH 'text'`, unary `+`, `-`, `NOT`, parentheses;
/// - literals: `'text'` (with `''` for a quote), decimals (`0`, `42`, `42L`; `Integer` when they fit, else `Long`;
///   no hex or octal: RocketMQ removed them), floats (`1.5`, `.5`, `5.`, `1e3`; `0.0` is refused as Java refuses
///   values below `Double.MIN_VALUE`), `TRUE`, `FALSE`, `NULL`;
/// - identifiers `[A-Za-z_$][A-Za-z0-9_$]*` name properties (user ones and system ones such as `TAGS`, `KEYS`);
/// - `--` line comments (ended by a newline) and `/* */` block comments;
/// - like Java's parser, which never asks for the end of input, tokens after a complete expression are not read
///   (`a = 1 b` is `a = 1`), except the one token it peeks at, which must not continue the expression.
///
/// The semantics, three-valued like Java's: a missing property is `NULL`; a comparison with `NULL` is unknown (and so
/// is `NOT` of unknown); `AND`/`OR` follow SQL's tables; only a result of `TRUE` matches. Property values are
/// strings: compared with a number they are converted to that number's type (`Integer.valueOf`, `Long.valueOf`,
/// `Double.valueOf`), and `>`, `>=`, `<`, `<=` between two strings compare them as doubles; a value that does not
/// convert makes the whole evaluation fail, which the broker treats as no match. `IN` and `=` between strings are
/// exact (no numeric conversion); `CONTAINS` & co. are false, never unknown, on a missing property or an empty search.
public struct SQL92Expression: Sendable, Hashable, CustomStringConvertible {
    /// The deepest nesting accepted: parentheses and unary operators, and the height of the expression tree.
    public static let maxDepth = 100

    /// The expression as given.
    public let text: String
    let root: Node

    /// Parses `text`.
    ///
    /// - Throws: `WireError(.invalidFilterExpression, ...)` naming the UTF-8 byte offset of the problem, for what
    ///   RocketMQ's parser refuses (syntax, out-of-range numbers, operands that cannot be compared, `= NULL`,
    ///   a `BETWEEN` whose constant bounds are reversed, `IN` after anything but a property, ...) and for nesting
    ///   deeper than ``maxDepth``.
    public init(parsing text: String) throws {
        var parser = SQL92Parser(text)
        root = try parser.parse()
        self.text = text
    }

    /// Whether a message whose property `name` has the value `lookup(name)` (`nil` when absent) passes the filter:
    /// the expression must evaluate to `TRUE`; unknown or a failed conversion is no match.
    public func matches(_ lookup: (String) -> String?) -> Bool {
        do {
            return try root.evaluate(lookup) == .bool(true)
        } catch {
            return false
        }
    }

    /// Whether a message with these properties passes the filter (see the lookup-closure variant).
    public func matches(_ properties: [String: String]) -> Bool {
        matches { properties[$0] }
    }

    /// Whether a message with these properties passes the filter (see the lookup-closure variant).
    public func matches(_ properties: MessageProperties) -> Bool {
        matches { properties[$0] }
    }

    /// The expression text.
    public var description: String { text }

    /// Expressions are equal when their texts are.
    public static func == (lhs: SQL92Expression, rhs: SQL92Expression) -> Bool {
        lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    /// Hashes the text.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(text.utf8.count)
        for byte in text.utf8 { hasher.combine(byte) }
    }
}

// MARK: - Values and evaluation

/// A runtime value: Java's `null`, `Boolean`, `Integer`, `Long`, `Double` or `String`.
enum SQL92Value: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int32)
    case long(Int64)
    case double(Double)
    case string(String)

    /// Java `equals`: same class and value (`Double` by bits: `NaN` equals itself, `0.0` is not `-0.0`;
    /// strings by UTF-16 code units, i.e. exactly, not by canonical equivalence).
    func javaEquals(_ other: SQL92Value) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.long(let a), .long(let b)): return a == b
        case (.double(let a), .double(let b)): return JavaNumber.compare(a, b) == 0
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        default: return false
        }
    }
}

/// A Java exception during evaluation (a failed number conversion, a bad cast): the broker logs it and drops the
/// message.
struct SQL92EvaluationFailure: Error {}

/// The comparison of `>`, `>=`, `<`, `<=`.
enum SQL92Order: Sendable {
    case greater, greaterOrEqual, less, lessOrEqual

    func holds(_ answer: Int) -> Bool {
        switch self {
        case .greater: return answer > 0
        case .greaterOrEqual: return answer >= 0
        case .less: return answer < 0
        case .lessOrEqual: return answer <= 0
        }
    }
}

/// `CONTAINS`, `STARTSWITH`, `ENDSWITH`.
enum SQL92StringTest: Sendable {
    case contains, startsWith, endsWith

    func holds(_ value: String, _ search: String) -> Bool {
        // Byte-wise on UTF-8, which for valid text is exactly Java's char-wise test (no canonical equivalence).
        let v = value.utf8
        let s = search.utf8
        switch self {
        case .startsWith: return v.starts(with: s)
        case .endsWith: return v.count >= s.count && v.reversed().starts(with: s.reversed())
        case .contains:
            var hay = value
            var needle = search
            return hay.withUTF8 { h in
                needle.withUTF8 { n in
                    guard let first = n.first, n.count <= h.count else { return n.isEmpty }
                    var i = 0
                    let last = h.count - n.count
                    while i <= last {
                        if h[i] == first {
                            var j = 1
                            while j < n.count, h[i + j] == n[j] { j += 1 }
                            if j == n.count { return true }
                        }
                        i += 1
                    }
                    return false
                }
            }
        }
    }
}

/// A string compared exactly (UTF-8 bytes), as Java's `String.equals`/`hashCode` do, unlike Swift's `String`.
struct ExactString: Hashable, Sendable {
    let value: String
    static func == (a: ExactString, b: ExactString) -> Bool { a.value.utf8.elementsEqual(b.value.utf8) }
    func hash(into hasher: inout Hasher) { for byte in value.utf8 { hasher.combine(byte) } }
}

/// The expression tree. `AND`/`OR` chains are flattened (their evaluation order and short-circuiting are Java's).
indirect enum Node: Sendable {
    case constant(SQL92Value)
    case property(String)
    case negate(Node)
    case not(Node)
    /// A property used as a condition (`UnaryExpression.createBooleanCast`): `NULL` when missing, else `FALSE`.
    case booleanCast(Node)
    case and([Node])
    case or([Node])
    /// `=` (`IS NULL` is `= NULL` without the parse-time check).
    case equal(Node, Node)
    case order(Node, Node, SQL92Order)
    case stringTest(Node, SQL92StringTest, search: String, negated: Bool)
    case inList(property: String, Set<ExactString>, negated: Bool)

    func evaluate(_ lookup: (String) -> String?) throws(SQL92EvaluationFailure) -> SQL92Value {
        switch self {
        case .constant(let value):
            return value
        case .property(let name):
            return lookup(name).map { .string($0) } ?? .null
        case .negate(let operand):
            switch try operand.evaluate(lookup) {
            case .int(let v): return .int(0 &- v)
            case .long(let v): return .long(0 &- v)
            case .double(let v): return .double(-v)
            default: return .null
            }
        case .not(let operand):
            switch try operand.evaluate(lookup) {
            case .bool(let b): return .bool(!b)
            case .null: return .null
            default: throw SQL92EvaluationFailure()  // a ClassCastException in Java
            }
        case .booleanCast(let operand):
            switch try operand.evaluate(lookup) {
            case .null: return .null
            case .bool(let b): return .bool(b)
            default: return .bool(false)
            }
        case .and(let operands):
            var unknown = false
            for operand in operands {
                switch try operand.evaluate(lookup) {
                case .bool(false): return .bool(false)
                case .bool(true): break
                case .null: unknown = true
                default: throw SQL92EvaluationFailure()
                }
            }
            return unknown ? .null : .bool(true)
        case .or(let operands):
            var unknown = false
            for operand in operands {
                switch try operand.evaluate(lookup) {
                case .bool(true): return .bool(true)
                case .bool(false): break
                case .null: unknown = true
                default: throw SQL92EvaluationFailure()
                }
            }
            return unknown ? .null : .bool(false)
        case .equal(let left, let right):
            // Both sides are evaluated first, as in Java.
            let lv = try left.evaluate(lookup)
            let rv = try right.evaluate(lookup)
            switch (lv, rv) {
            case (.null, .null): return .bool(true)
            case (.null, _): return .null
            case (_, .null): return .bool(false)
            default:
                if lv.javaEquals(rv) { return .bool(true) }
                return .bool(try JavaNumber.compareForFilter(lv, rv) == 0)
            }
        case .order(let left, let right, let order):
            let lv = try left.evaluate(lookup)
            if lv == .null { return .null }
            let rv = try right.evaluate(lookup)
            if rv == .null { return .null }
            if case .string(let l) = lv, case .string(let r) = rv {
                guard let ld = JavaNumber.parseDouble(l), let rd = JavaNumber.parseDouble(r) else {
                    throw SQL92EvaluationFailure()
                }
                return .bool(order.holds(JavaNumber.compare(ld, rd)))
            }
            return .bool(order.holds(try JavaNumber.compareForFilter(lv, rv)))
        case .stringTest(let operand, let test, let search, let negated):
            if search.isEmpty { return .bool(false) }
            guard case .string(let value) = try operand.evaluate(lookup) else { return .bool(false) }
            return .bool(test.holds(value, search) != negated)
        case .inList(let name, let list, let negated):
            guard let value = lookup(name) else { return .null }
            return .bool(list.contains(ExactString(value: value)) != negated)
        }
    }
}

// MARK: - Java number semantics

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

// MARK: - Lexer

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

// MARK: - Parser

/// A recursive-descent parser with the productions, lookahead and parse-time checks of `SelectorParser.jj`.
struct SQL92Parser {
    private var lexer: SQL92Lexer
    private var lookahead: [(SQL92Token, Int)] = []
    private var depth = 0

    /// A parsed operand with what Java's checks look at.
    struct Parsed {
        var node: Node
        var height: Int

        var isConstant: Bool { if case .constant = node { return true } else { return false } }
        var constantValue: SQL92Value? { if case .constant(let v) = node { return v } else { return nil } }
        var isProperty: Bool { if case .property = node { return true } else { return false } }
        /// Java's `instanceof BooleanExpression`: conditions, and the constants `TRUE`, `FALSE`, `NULL`.
        var isBoolean: Bool {
            switch node {
            case .constant(let v):
                switch v {
                case .null, .bool: return true
                default: return false
                }
            case .property, .negate: return false
            default: return true
            }
        }
    }

    init(_ text: String) { lexer = SQL92Lexer(text) }

    private mutating func peek(_ k: Int = 0) throws -> (SQL92Token, Int) {
        while lookahead.count <= k { lookahead.append(try lexer.next()) }
        return lookahead[k]
    }

    @discardableResult
    private mutating func take() throws -> (SQL92Token, Int) {
        let t = try peek()
        lookahead.removeFirst()
        return t
    }

    private mutating func expect(_ token: SQL92Token) throws {
        let (t, offset) = try take()
        guard t == token else { throw SQL92Lexer.error(offset, "expected \(token.display) but found \(t.display)") }
    }

    private func node(_ node: Node, _ children: Parsed..., at offset: Int) throws -> Parsed {
        let height = (children.map(\.height).max() ?? 0) + 1
        guard height <= SQL92Expression.maxDepth else {
            throw SQL92Lexer.error(offset, "expression nests deeper than \(SQL92Expression.maxDepth)")
        }
        return Parsed(node: node, height: height)
    }

    private mutating func enter(_ offset: Int) throws {
        depth += 1
        guard depth <= SQL92Expression.maxDepth else {
            throw SQL92Lexer.error(offset, "expression nests deeper than \(SQL92Expression.maxDepth)")
        }
    }

    mutating func parse() throws -> Node {
        let offset = try peek().1
        let result = try asBoolean(try orExpression(), at: offset)
        return result.node
    }

    private func asBoolean(_ p: Parsed, at offset: Int) throws -> Parsed {
        if p.isBoolean { return p }
        if p.isProperty { return try node(.booleanCast(p.node), p, at: offset) }
        throw SQL92Lexer.error(offset, "expression will not result in a boolean value")
    }

    /// `a OR b OR c` (or `AND`): Java nests binary nodes to the left; one flat node evaluates the operands in the
    /// same order with the same short-circuits and results, without a tree as deep as the chain is long.
    private mutating func chain(
        _ op: SQL92Token, _ operand: (inout SQL92Parser) throws -> Parsed, _ make: ([Node]) -> Node
    ) throws -> Parsed {
        let first = try operand(&self)
        guard try peek().0 == op else { return first }
        var operands: [Parsed] = []
        var pending = first
        var offset = 0
        while try peek().0 == op {
            offset = try take().1
            let right = try operand(&self)
            operands.append(try asBoolean(pending, at: offset))
            pending = try asBoolean(right, at: offset)
        }
        operands.append(pending)
        let height = (operands.map(\.height).max() ?? 0) + 1
        guard height <= SQL92Expression.maxDepth else {
            throw SQL92Lexer.error(offset, "expression nests deeper than \(SQL92Expression.maxDepth)")
        }
        return Parsed(node: make(operands.map(\.node)), height: height)
    }

    private mutating func orExpression() throws -> Parsed {
        try chain(.or, { try $0.andExpression() }, { .or($0) })
    }

    private mutating func andExpression() throws -> Parsed {
        try chain(.and, { try $0.equalityExpression() }, { .and($0) })
    }

    private mutating func equalityExpression() throws -> Parsed {
        var left = try comparisonExpression()
        while true {
            let (token, offset) = try peek()
            switch token {
            case .equal, .notEqual:
                try take()
                let right = try comparisonExpression()
                try checkEqualOperands(left, right, at: offset)
                let equal = try node(.equal(left.node, right.node), left, right, at: offset)
                left = token == .equal ? equal : try node(.not(equal.node), equal, at: offset)
            case .is:
                try take()
                let isNull = try node(.equal(left.node, .constant(.null)), left, at: offset)
                if try peek().0 == .null {
                    try take()
                    left = isNull
                } else {
                    try expect(.not)
                    try expect(.null)
                    left = try node(.not(isNull.node), isNull, at: offset)
                }
            default:
                return left
            }
        }
    }

    /// `checkEqualOperand` and `checkEqualOperandCompatability`.
    private func checkEqualOperands(_ left: Parsed, _ right: Parsed, at offset: Int) throws {
        for side in [left, right] where side.constantValue == .null {
            throw SQL92Lexer.error(offset, "NULL cannot be compared with = or <> (use IS NULL)")
        }
        if left.isConstant, right.isConstant, left.isBoolean, !right.isBoolean {
            throw SQL92Lexer.error(offset, "a boolean constant cannot be compared with a value that is not boolean")
        }
    }

    /// `checkLessThanOperand`: only numeric constants, properties and negations can be ordered.
    private func checkOrderOperand(_ p: Parsed, at offset: Int) throws {
        if let value = p.constantValue {
            switch value {
            case .int, .long, .double: return
            default: throw SQL92Lexer.error(offset, "value \(Self.display(value)) cannot be compared")
            }
        }
        if p.isBoolean { throw SQL92Lexer.error(offset, "a condition cannot be compared with >, >=, <, <= or BETWEEN") }
    }

    private static func display(_ value: SQL92Value) -> String {
        switch value {
        case .null: return "NULL"
        case .bool(let b): return b ? "TRUE" : "FALSE"
        case .int(let v): return "\(v)"
        case .long(let v): return "\(v)"
        case .double(let v): return "\(v)"
        case .string(let s): return "'\(s)'"
        }
    }

    private func order(_ left: Parsed, _ right: Parsed, _ order: SQL92Order, at offset: Int) throws -> Parsed {
        try checkOrderOperand(left, at: offset)
        try checkOrderOperand(right, at: offset)
        return try node(.order(left.node, right.node, order), left, right, at: offset)
    }

    private mutating func comparisonExpression() throws -> Parsed {
        var left = try unaryExpression()
        while true {
            let (token, offset) = try peek()
            switch token {
            case .greater, .greaterOrEqual, .less, .lessOrEqual:
                try take()
                let right = try unaryExpression()
                let o: SQL92Order = token == .greater ? .greater : token == .greaterOrEqual ? .greaterOrEqual
                    : token == .less ? .less : .lessOrEqual
                left = try order(left, right, o, at: offset)
            case .contains, .startsWith, .endsWith:
                try take()
                left = try stringTest(left, token, negated: false, at: offset)
            case .between:
                try take()
                left = try between(left, negated: false, at: offset)
            case .in:
                try take()
                left = try inList(left, negated: false, at: offset)
            case .not:
                let second = try peek(1).0
                switch second {
                case .contains, .startsWith, .endsWith:
                    try take(); try take()
                    left = try stringTest(left, second, negated: true, at: offset)
                case .between:
                    try take(); try take()
                    left = try between(left, negated: true, at: offset)
                case .in:
                    try take(); try take()
                    left = try inList(left, negated: true, at: offset)
                default:
                    throw SQL92Lexer.error(try peek(1).1, "expected CONTAINS, STARTSWITH, ENDSWITH, BETWEEN or IN after NOT but found \(second.display)")
                }
            default:
                return left
            }
        }
    }

    private mutating func stringLiteral() throws -> String {
        let (token, offset) = try take()
        guard case .string(let s) = token else {
            throw SQL92Lexer.error(offset, "expected a string literal but found \(token.display)")
        }
        return s
    }

    private mutating func stringTest(_ left: Parsed, _ token: SQL92Token, negated: Bool, at offset: Int) throws -> Parsed {
        let search = try stringLiteral()
        let test: SQL92StringTest = token == .contains ? .contains : token == .startsWith ? .startsWith : .endsWith
        return try node(.stringTest(left.node, test, search: search, negated: negated), left, at: offset)
    }

    private mutating func between(_ value: Parsed, negated: Bool, at offset: Int) throws -> Parsed {
        let low = try unaryExpression()
        try expect(.and)
        let high = try unaryExpression()
        if negated {
            let below = try order(value, low, .less, at: offset)
            let above = try order(value, high, .greater, at: offset)
            return try node(.or([below.node, above.node]), below, above, at: offset)
        }
        if let lv = low.constantValue, let hv = high.constantValue {
            guard lv != .null, hv != .null else {
                throw SQL92Lexer.error(offset, "BETWEEN bounds cannot be NULL")
            }
            let answer: Int
            do { answer = try JavaNumber.compareForFilter(hv, lv) } catch {
                throw SQL92Lexer.error(offset, "BETWEEN bounds \(Self.display(lv)) and \(Self.display(hv)) cannot be compared")
            }
            guard answer >= 0 else {
                throw SQL92Lexer.error(offset, "BETWEEN bounds reversed: \(Self.display(lv)) is above \(Self.display(hv))")
            }
        }
        let atLeast = try order(value, low, .greaterOrEqual, at: offset)
        let atMost = try order(value, high, .lessOrEqual, at: offset)
        return try node(.and([atLeast.node, atMost.node]), atLeast, atMost, at: offset)
    }

    private mutating func inList(_ left: Parsed, negated: Bool, at offset: Int) throws -> Parsed {
        try expect(.open)
        var list: Set<ExactString> = [ExactString(value: try stringLiteral())]
        while try peek().0 == .comma {
            try take()
            list.insert(ExactString(value: try stringLiteral()))
        }
        try expect(.close)
        guard case .property(let name) = left.node else {
            throw SQL92Lexer.error(offset, "IN needs a property on its left")
        }
        return try node(.inList(property: name, list, negated: negated), left, at: offset)
    }

    private mutating func unaryExpression() throws -> Parsed {
        let (token, offset) = try peek()
        switch token {
        case .plus, .minus, .not:
            try take()
            try enter(offset)
            defer { depth -= 1 }
            let operand = try unaryExpression()
            switch token {
            case .plus: return operand
            case .minus: return try node(.negate(operand.node), operand, at: offset)
            default:
                let condition = try asBoolean(operand, at: offset)
                return try node(.not(condition.node), condition, at: offset)
            }
        default:
            return try primaryExpression()
        }
    }

    private mutating func primaryExpression() throws -> Parsed {
        let (token, offset) = try take()
        switch token {
        case .string(let s): return Parsed(node: .constant(.string(s)), height: 1)
        case .decimal(let text): return Parsed(node: .constant(try Self.decimal(text, at: offset)), height: 1)
        case .floating(let text): return Parsed(node: .constant(try Self.floating(text, at: offset)), height: 1)
        case .true: return Parsed(node: .constant(.bool(true)), height: 1)
        case .false: return Parsed(node: .constant(.bool(false)), height: 1)
        case .null: return Parsed(node: .constant(.null), height: 1)
        case .identifier(let name): return Parsed(node: .property(name), height: 1)
        case .open:
            try enter(offset)
            defer { depth -= 1 }
            let inner = try orExpression()
            try expect(.close)
            return inner
        default:
            throw SQL92Lexer.error(offset, "unexpected \(token.display)")
        }
    }

    /// `ConstantExpression.createFromDecimal`: an `Integer` when it fits, else a `Long`; beyond a `Long` is an error.
    private static func decimal(_ text: String, at offset: Int) throws -> SQL92Value {
        var digits = Substring(text)
        if let last = digits.last, last == "l" || last == "L" { digits.removeLast() }
        guard let value = Int64(digits) else { throw SQL92Lexer.error(offset, "number \(text) is out of the Long range") }
        if let small = Int32(exactly: value) { return .int(small) }
        return .long(value)
    }

    /// `ConstantExpression.createFloat`: refused when infinite or below `Double.MIN_VALUE` (which includes zero).
    private static func floating(_ text: String, at offset: Int) throws -> SQL92Value {
        guard let value = Double(text), value.isFinite else {
            throw SQL92Lexer.error(offset, "number \(text) is above the Double range")
        }
        guard value >= Double.leastNonzeroMagnitude else {
            throw SQL92Lexer.error(offset, "number \(text) is below Double.MIN_VALUE")
        }
        return .double(value)
    }
}
