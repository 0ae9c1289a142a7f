// SQL92 filter values and the expression tree's evaluation (Java's three-valued semantics); see `SQL92Expression`.

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
