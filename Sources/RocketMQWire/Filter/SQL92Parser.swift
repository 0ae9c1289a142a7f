// The SQL92 filter's parser (RocketMQ's `SelectorParser.jj` grammar and its parse-time checks); see `SQL92Expression`.

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
