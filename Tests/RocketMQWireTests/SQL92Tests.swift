import NIOCore
import Testing

@testable import RocketMQWire

@Suite("SQL92 filter expressions")
struct SQL92Tests {
    /// One evaluation: the expression, the message properties, whether the message matches.
    struct Case: CustomTestStringConvertible, Sendable {
        var sql: String
        var properties: [String: String]
        var matches: Bool
        var testDescription: String { "\(sql) with \(properties.sorted { $0.key < $1.key }) -> \(matches)" }
        init(_ sql: String, _ properties: [String: String], _ matches: Bool) {
            self.sql = sql
            self.properties = properties
            self.matches = matches
        }
    }

    static let operators: [Case] = [
        Case("a = 'x'", ["a": "x"], true),
        Case("a = 'x'", ["a": "y"], false),
        Case("a <> 'x'", ["a": "y"], true),
        Case("a <> 'x'", ["a": "x"], false),
        Case("a > 5", ["a": "6"], true),
        Case("a > 5", ["a": "5"], false),
        Case("a >= 5", ["a": "5"], true),
        Case("a >= 5", ["a": "4"], false),
        Case("a < 5", ["a": "4"], true),
        Case("a < 5", ["a": "5"], false),
        Case("a <= 5", ["a": "5"], true),
        Case("a <= 5", ["a": "6"], false),
        Case("a BETWEEN 1 AND 3", ["a": "1"], true),
        Case("a BETWEEN 1 AND 3", ["a": "3"], true),
        Case("a BETWEEN 1 AND 3", ["a": "4"], false),
        Case("a NOT BETWEEN 1 AND 3", ["a": "4"], true),
        Case("a NOT BETWEEN 1 AND 3", ["a": "0"], true),
        Case("a NOT BETWEEN 1 AND 3", ["a": "2"], false),
        Case("a IN ('x', 'y')", ["a": "y"], true),
        Case("a IN ('x', 'y')", ["a": "z"], false),
        Case("a IN ('a', 'b', 'c', 'd', 'e', 'f')", ["a": "f"], true),
        Case("a NOT IN ('x', 'y')", ["a": "z"], true),
        Case("a NOT IN ('x', 'y')", ["a": "x"], false),
        Case("a IS NULL", [:], true),
        Case("a IS NULL", ["a": "x"], false),
        Case("a IS NOT NULL", ["a": "x"], true),
        Case("a IS NOT NULL", [:], false),
        Case("a CONTAINS 'bc'", ["a": "abcd"], true),
        Case("a CONTAINS 'bc'", ["a": "acbd"], false),
        Case("a NOT CONTAINS 'bc'", ["a": "xyz"], true),
        Case("a NOT CONTAINS 'bc'", ["a": "abc"], false),
        Case("a STARTSWITH 'ab'", ["a": "abc"], true),
        Case("a STARTSWITH 'ab'", ["a": "cab"], false),
        Case("a NOT STARTSWITH 'ab'", ["a": "xab"], true),
        Case("a ENDSWITH 'bc'", ["a": "abc"], true),
        Case("a ENDSWITH 'bc'", ["a": "bca"], false),
        Case("a NOT ENDSWITH 'bc'", ["a": "bcx"], true),
        Case("a = '1' AND b = '2'", ["a": "1", "b": "2"], true),
        Case("a = '1' AND b = '2'", ["a": "1", "b": "3"], false),
        Case("a = '1' OR b = '2'", ["b": "2"], true),
        Case("a = '1' OR b = '2'", ["a": "0", "b": "0"], false),
        Case("NOT (a = '1')", ["a": "2"], true),
        Case("NOT (a = '1')", ["a": "1"], false),
        Case("TRUE", [:], true),
        Case("FALSE", [:], false),
        Case("a = 'x' AND TRUE", ["a": "x"], true),
        Case("(a = 'x' OR a = 'y') AND NOT (b = 'z')", ["a": "y", "b": "w"], true),
        Case("TAGS = 'TagA' AND KEYS CONTAINS 'order'", ["TAGS": "TagA", "KEYS": "order-1"], true),
    ]

    /// A missing property is NULL; comparisons with it are unknown, and NOT unknown is unknown (no match).
    static let nulls: [Case] = [
        Case("a = 'x'", [:], false),
        Case("a <> 'x'", [:], false),
        Case("NOT (a = 'x')", [:], false),
        Case("a > 5", [:], false),
        Case("NOT (a > 5)", [:], false),
        Case("a BETWEEN 1 AND 3", [:], false),
        Case("a NOT BETWEEN 1 AND 3", [:], false),
        Case("a IN ('x')", [:], false),
        Case("a NOT IN ('x')", [:], false),
        Case("NOT (a IN ('x'))", [:], false),
        // CONTAINS & co. are FALSE (not unknown) on a missing property or an empty search, so NOT of them is TRUE.
        Case("a CONTAINS 'x'", [:], false),
        Case("a NOT CONTAINS 'x'", [:], false),
        Case("NOT (a CONTAINS 'x')", [:], true),
        Case("NOT (a STARTSWITH 'x')", [:], true),
        Case("a CONTAINS ''", ["a": "x"], false),
        Case("a NOT CONTAINS ''", ["a": "x"], false),
        // SQL's three-valued AND / OR.
        Case("a = 'x' OR b = 'y'", ["b": "y"], true),
        Case("a = 'x' OR b = 'y'", ["b": "z"], false),
        Case("NOT (a = 'x' OR b = 'y')", ["b": "z"], false),
        Case("NOT (a = 'x' AND b = 'y')", ["b": "z"], true),
        Case("NOT (a = 'x' AND b = 'y')", ["b": "y"], false),
        Case("NULL", [:], false),
        Case("NOT NULL", [:], false),
        // A bare property is a condition: NULL when missing, FALSE when set (a string is no Boolean).
        Case("a", ["a": "true"], false),
        Case("NOT a", ["a": "x"], true),
        Case("NOT a", [:], false),
        // IS NULL on a condition: an unknown condition is NULL.
        Case("(a = 'x') IS NULL", [:], true),
        Case("(a = 'x') IS NULL", ["a": "y"], false),
    ]

    /// Property values are strings, converted to the other side's type; a failed conversion fails the evaluation.
    static let conversions: [Case] = [
        Case("a = 5", ["a": "5"], true),
        Case("a = 5", ["a": "05"], true),
        Case("a = 5", ["a": "+5"], true),
        Case("a = 5", ["a": "5.0"], false),  // Integer.valueOf("5.0") throws
        Case("a = 5", ["a": " 5"], false),
        Case("a = 5", ["a": "x"], false),
        Case("a = 12", ["a": "\u{0661}\u{0662}"], true),  // Character.digit takes any Unicode decimal digit
        Case("a > 5", ["a": "5.5"], false),  // Integer conversion fails: no match
        Case("a > 5.0", ["a": "5.5"], true),
        Case("a = 5.0", ["a": "5"], true),
        Case("a = 1.5", ["a": "1.5d"], true),
        Case("a = 1.5", ["a": " 1.5 "], true),  // Double.valueOf trims
        Case("a = 1.5", ["a": "0x1.8p0"], true),
        Case("a > 1.0", ["a": "NaN"], true),  // Double.compare puts NaN above everything
        Case("a > 1.0", ["a": "Infinity"], true),
        Case("a = 5", ["a": "99999999999"], false),
        Case("a = 99999999999", ["a": "99999999999"], true),
        Case("a = 3000000000", ["a": "3000000000"], true),
        Case("a = 5L", ["a": "5"], true),
        Case("a = -5", ["a": "-5"], true),
        Case("a > -1.5", ["a": "0"], true),
        Case("- -5 = 5", [:], true),
        Case("-a = -5", ["a": "5"], false),  // negating a string gives NULL
        Case("a > b", ["a": "10", "b": "9"], true),  // two strings are ordered as doubles
        Case("a < b", ["a": "abc", "b": "abd"], false),  // ... or not at all
        Case("a = b", ["a": "x", "b": "x"], true),
        Case("a = '5'", ["a": "5.0"], false),  // string equality is exact
        Case("a IN ('1')", ["a": "1.0"], false),
        Case("a BETWEEN 1 AND 2", ["a": "1.5"], false),  // Integer bounds: "1.5" does not convert
        Case("a BETWEEN 1.0 AND 2", ["a": "1.5"], false),  // the upper bound is still an Integer
        Case("a BETWEEN 1.0 AND 2.0", ["a": "1.5"], true),
        Case("a = TRUE", ["a": "true"], true),
        Case("a = TRUE", ["a": "TRUE"], true),
        Case("a = FALSE", ["a": "yes"], true),  // Boolean.valueOf("yes") is false
        Case("TRUE = a", ["a": "true"], false),  // Java casts the Boolean to String: an exception
        Case("a = 'e\u{301}'", ["a": "\u{e9}"], false),  // exact code units, no canonical equivalence
        Case("a IN ('e\u{301}')", ["a": "\u{e9}"], false),
        Case("a STARTSWITH 'e'", ["a": "e\u{301}x"], true),
        Case("a = 'it''s'", ["a": "it's"], true),
        // An exception anywhere fails the whole evaluation, even under OR (left to right, short-circuiting).
        Case("a = '1' OR b > 5", ["a": "1", "b": "x"], true),
        Case("b > 5 OR a = '1'", ["a": "1", "b": "x"], false),
        Case("a = '2' OR b > 5", ["a": "1", "b": "x"], false),
    ]

    static let syntax: [Case] = [
        Case("a between 1 and 3 or b is not null", ["b": "x"], true),
        Case("A = 'x'", ["A": "x"], true),
        Case("A = 'x'", ["a": "x"], false),  // names are case-sensitive
        Case("a NoT iN ('x')", ["a": "y"], true),
        Case("a = 1 -- a comment\n AND b = 2", ["a": "1", "b": "2"], true),
        Case("a /* block */ = /* another */ 1", ["a": "1"], true),
        Case("a=1AND b=2", ["a": "1", "b": "2"], true),  // "1AND" is the number 1, then AND
        Case("(((a = 1)))", ["a": "1"], true),
        Case("+a = 1", ["a": "1"], true),
        Case("a = +1", ["a": "1"], true),
        Case("$x_1 = 'v'", ["$x_1": "v"], true),
        Case("a = .5", ["a": "0.5"], true),
        Case("a = 5.", ["a": "5"], true),
        Case("a = 1e3", ["a": "1000"], true),
        Case("a = 1.5E-1", ["a": "0.15"], true),
        Case("a = 2147483647", ["a": "2147483647"], true),
        Case("a = -2147483648", ["a": "-2147483648"], true),
        Case("a = 9223372036854775807", ["a": "9223372036854775807"], true),
        // Java's parser never asks for the end of input: tokens after a whole expression are not read.
        Case("a = 1 b", ["a": "1"], true),
        Case("a = 1 )", ["a": "1"], true),
        Case("a = 1 b #", ["a": "1"], true),
        Case("a = 007", ["a": "0"], true),  // "0" then "07"... the rest is after the expression
        Case("a > 0L", ["a": "1"], true),  // "0" then the identifier "L"
        Case("a = 1 -- no line end", ["a": "1"], true),  // no comment without a line end: "-" ends the parse
    ]

    static func check(_ c: Case) throws {
        let expression = try SQL92Expression(parsing: c.sql)
        #expect(expression.matches(c.properties) == c.matches)
        #expect(expression.matches(MessageProperties(c.properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })) == c.matches)
        #expect(expression.matches { c.properties[$0] } == c.matches)
    }

    @Test(arguments: operators) func everyOperator(_ c: Case) throws { try Self.check(c) }
    @Test(arguments: nulls) func nullsAndMissingProperties(_ c: Case) throws { try Self.check(c) }
    @Test(arguments: conversions) func stringsAndNumbers(_ c: Case) throws { try Self.check(c) }
    @Test(arguments: syntax) func keywordsLiteralsAndComments(_ c: Case) throws { try Self.check(c) }

    /// Expressions RocketMQ's parser refuses, each with the offset the error names.
    static let invalid: [(String, Int)] = [
        ("", 0),
        ("a =", 3),
        ("a = 1 AND > 2", 10),
        ("a = NULL", 2),
        ("NULL <> a", 5),
        ("a > 'x'", 2),
        ("a > TRUE", 2),
        ("(a = 1) > 1", 8),
        ("1", 0),
        ("'x'", 0),
        ("-a", 0),
        ("a = 1 AND 2", 6),
        ("a BETWEEN 3 AND 1", 2),
        ("a BETWEEN 'a' AND 'b'", 2),
        ("a BETWEEN NULL AND 1", 2),
        ("'x' IN ('a')", 4),
        ("a IN ()", 6),
        ("a IN (1)", 6),
        ("a IN ('x'", 9),
        ("a = 'unterminated", 4),
        ("a = 1 #", 6),
        ("a NOT b", 6),
        ("a IS 1", 5),
        ("a = 9223372036854775808", 4),
        ("a > 0.0", 4),
        ("a > 1e999", 4),
        ("a == 1", 3),
        ("a != 1", 2),
        ("TRUE = 1", 5),
        ("a and between 2 and 10", 6),
        ("a.b = 1", 1),
        ("a = \u{a0}1", 4),
        ("a CONTAINS b", 11),
        ("(a = 1", 6),
        ("a = /* open", 4),
    ]

    @Test(arguments: invalid.indices) func refused(_ index: Int) {
        let (sql, offset) = Self.invalid[index]
        do {
            let parsed = try SQL92Expression(parsing: sql)
            Issue.record("\(sql.debugDescription) parsed as \(parsed)")
        } catch let error as WireError {
            #expect(error.kind == .invalidFilterExpression, "\(sql.debugDescription)")
            #expect(error.message.hasSuffix("at offset \(offset)"), "\(sql.debugDescription): \(error.message)")
        } catch {
            Issue.record("\(sql.debugDescription): untyped \(error)")
        }
    }

    @Test func nestingIsBounded() throws {
        let depth = SQL92Expression.maxDepth
        let ok = String(repeating: "(", count: depth) + "a = '1'" + String(repeating: ")", count: depth)
        #expect(try SQL92Expression(parsing: ok).matches(["a": "1"]))
        let tooDeep = String(repeating: "(", count: depth + 1) + "a = '1'" + String(repeating: ")", count: depth + 1)
        #expect(throws: WireError.self) { try SQL92Expression(parsing: tooDeep) }
        // Far deeper inputs fail just as cleanly, without exhausting the stack.
        for prefix in ["(", "NOT ", "-", "+"] {
            let huge = String(repeating: prefix, count: 100_000) + "a"
            #expect(throws: WireError.self, "\(prefix)") { try SQL92Expression(parsing: huge) }
        }
        // Left-nested comparisons grow the tree without parentheses: bounded too.
        let chain = "a = 1" + String(repeating: " = TRUE", count: 10_000)
        #expect(throws: WireError.self) { try SQL92Expression(parsing: chain) }
    }

    @Test func longAndOrChainsAreFlat() throws {
        let terms = (0..<10_000).map { "a = '\($0)'" }
        let or = try SQL92Expression(parsing: terms.joined(separator: " OR "))
        #expect(or.matches(["a": "9999"]))
        #expect(!or.matches(["a": "10000"]))
        let and = try SQL92Expression(parsing: (0..<10_000).map { _ in "a IS NOT NULL" }.joined(separator: " AND "))
        #expect(and.matches(["a": "x"]))
        #expect(!and.matches([:]))
    }

    @Test func equalityAndDescription() throws {
        let a = try SQL92Expression(parsing: "a > 1")
        let b = try SQL92Expression(parsing: "a > 1")
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a.description == "a > 1")
        #expect(WireError.Kind.invalidFilterExpression.description == "invalidFilterExpression")
    }

    @Test func javaDoubleParsing() {
        #expect(JavaNumber.parseDouble("1") == 1)
        #expect(JavaNumber.parseDouble("-1.5e2") == -150)
        #expect(JavaNumber.parseDouble("1.") == 1)
        #expect(JavaNumber.parseDouble(".5") == 0.5)
        #expect(JavaNumber.parseDouble("5f") == 5)
        #expect(JavaNumber.parseDouble("-Infinity") == -.infinity)
        #expect(JavaNumber.parseDouble("+NaN")?.isNaN == true)
        #expect(JavaNumber.parseDouble("0x10p0") == 16)
        for bad in ["", " ", ".", "e5", "1e", "1e+", "inf", "nan", "NaNd", "0x10", "1.5x", "1_0", "--1", "\u{0661}"] {
            #expect(JavaNumber.parseDouble(bad) == nil, "\(bad.debugDescription)")
        }
        #expect(JavaNumber.compare(-0.0, 0.0) == -1)
        #expect(JavaNumber.compare(Double.nan, .infinity) == 1)
        #expect(JavaNumber.compare(Double.nan, .nan) == 0)
    }

    @Test func javaIntegerParsing() {
        let int = (min: Int64(Int32.min), max: Int64(Int32.max))
        #expect(JavaNumber.parseLong("-2147483648", min: int.min, max: int.max) == -2_147_483_648)
        #expect(JavaNumber.parseLong("2147483648", min: int.min, max: int.max) == nil)
        #expect(JavaNumber.parseLong("-9223372036854775808", min: .min, max: .max) == .min)
        #expect(JavaNumber.parseLong("9223372036854775808", min: .min, max: .max) == nil)
        #expect(JavaNumber.parseLong("\u{FF11}\u{FF12}", min: .min, max: .max) == 12)  // fullwidth digits
        for bad in ["", "+", "-", "1.0", " 1", "1 ", "0x1", "\u{1D7CF}"] {
            #expect(JavaNumber.parseLong(bad, min: .min, max: .max) == nil, "\(bad.debugDescription)")
        }
    }

    @Test func propertiesFromEncodedRecords() throws {
        let host = MessageHost(ip: [127, 0, 0, 1], port: 10911)
        var properties = MessageProperties()
        properties.append(key: "a", value: "1")
        properties.append(key: "TAGS", value: "TagA")
        properties.append(key: "a", value: "2")  // the last duplicate wins, as in Java's map
        let record = MessageRecord(
            topic: "T", body: ByteBuffer(string: "body"), properties: properties, bornHost: host, storeHost: host)
        var buffer = ByteBuffer(string: "xx")
        buffer.moveReaderIndex(forwardBy: 2)
        try record.encode(into: &buffer)
        let range = try MessageRecord.propertiesRange(ofEncoded: buffer)
        let bytes = try #require(buffer.getBytes(at: range.lowerBound, length: range.count))
        #expect(String(decoding: bytes, as: UTF8.self) == properties.encoded)
        bytes.withUnsafeBytes { raw in
            #expect(MessageProperties.value(forKey: "a", inUTF8: raw) == "2")
            #expect(MessageProperties.value(forKey: "TAGS", inUTF8: raw) == "TagA")
            #expect(MessageProperties.value(forKey: "TAG", inUTF8: raw) == nil)
            #expect(MessageProperties.value(forKey: "b", inUTF8: raw) == nil)
        }
        // Malformed segments are skipped exactly as MessageProperties(parsing:) skips them.
        let odd = "\u{1}x\u{2}k\u{1}\u{2}k2\u{1}v\u{1}w\u{2}=\u{2}"
        let parsed = MessageProperties(parsing: odd)
        Array(odd.utf8).withUnsafeBytes { raw in
            for key in ["", "x", "k", "k2", "="] {
                #expect(MessageProperties.value(forKey: key, inUTF8: raw) == parsed[key], "\(key)")
            }
        }
        // Truncated or corrupt records are errors, never crashes.
        var truncated = buffer
        truncated.moveWriterIndex(to: buffer.writerIndex - 1)
        #expect(throws: WireError.self) { try MessageRecord.propertiesRange(ofEncoded: truncated) }
        #expect(throws: WireError.self) { try MessageRecord.propertiesRange(ofEncoded: ByteBuffer(bytes: [0, 0, 0, 200] + [UInt8](repeating: 0xFF, count: 196))) }
    }
}
