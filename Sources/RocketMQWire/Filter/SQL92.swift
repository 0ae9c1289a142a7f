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
