import Testing

@testable import RocketMQWire

@Suite("Tag filter (FilterAPI)")
struct FilterTests {
    static let lines: [JSONValue] = (try? Golden.lines("taghash")) ?? []
    static let hashNames = lines.filter { $0["kind"]?.stringValue == "hash" }.compactMap { $0["name"]?.stringValue }
    static let subscriptionNames = lines.filter { $0["kind"]?.stringValue == "subscription" }.compactMap { $0["name"]?.stringValue }

    static func line(_ name: String) throws -> JSONValue {
        try #require(lines.first { $0["name"]?.stringValue == name })
    }

    @Test func allLinesLoaded() {
        #expect(Self.lines.count == 30)
        #expect(Self.hashNames.count == 16)
        #expect(Self.subscriptionNames.count == 14)
    }

    @Test(arguments: hashNames)
    func javaHashCodeAndTagsCode(_ name: String) throws {
        let line = try Self.line(name)
        let input = try #require(line["input"]?.stringValue)
        #expect(Golden.hex(Array(input.utf8)) == line["input_utf8_hex"]?.stringValue)
        #expect(input.utf16.map(Int.init) == line["utf16_units"]?.arrayValue?.compactMap(\.intValue))
        #expect(Int64(JavaCompat.stringHashCode(input)) == line["hash"]?.int64Value)
        #expect(TagFilter.tagsCode(of: input) == line["broker_tagsCode"]?.int64Value)
    }

    @Test func tagsCodeOfNothingIsZero() {
        #expect(TagFilter.tagsCode(of: nil) == 0)
        #expect(TagFilter.tagsCode(of: "") == 0)
        #expect(TagFilter.tagsCode(of: "polygenelubricants") == Int64(Int32.min))
    }

    @Test(arguments: subscriptionNames)
    func buildSubscription(_ name: String) throws {
        let line = try Self.line(name)
        let input = line["input"]?.stringValue  // null for expr_null
        if line["exception"] != nil {
            let error = try #require(throws: WireError.self) {
                try SubscriptionData.build(topic: "GoldenTopic", expression: input, subVersion: 1_700_000_000_000)
            }
            #expect(error.kind == .invalidHeaderField)
            return
        }
        let sub = try SubscriptionData.build(topic: "GoldenTopic", expression: input, subVersion: 1_700_000_000_000)
        #expect(sub.topic == "GoldenTopic")
        #expect(sub.subString == line["subString"]?.stringValue)
        #expect(sub.expressionType == line["expressionType"]?.stringValue)
        #expect(!sub.classFilterMode)
        // Java HashSets: compare as sets here; the JSON below checks Java's iteration order too.
        let tags = try #require(line["tagsSet"]?.arrayValue).compactMap(\.stringValue)
        let codes = try #require(line["codeSet"]?.arrayValue).compactMap(\.int32Value)
        #expect(Set(sub.tagsSet) == Set(tags) && sub.tagsSet.count == tags.count)
        #expect(Set(sub.codeSet) == Set(codes) && sub.codeSet.count == codes.count)
        #expect(String(decoding: sub.encoded(), as: UTF8.self) == line["json"]?.stringValue)
        #expect(try SubscriptionData(bytes: sub.encoded()) == SubscriptionData(
            topic: sub.topic, subString: sub.subString, tagsSet: tags, codeSet: codes, subVersion: sub.subVersion))
    }

    @Test func splitFollowsJavaStringSplit() throws {
        func tags(_ expression: String) throws -> [String] {
            try SubscriptionData.build(topic: "T", expression: expression).tagsSet
        }
        #expect(try tags("||a") == ["a"])  // leading empty part kept by split, dropped as empty tag
        #expect(try tags("a|||b") == ["a", "|b"])  // separators match left to right
        #expect(try tags("a||||b") == ["a", "b"])
        #expect(try tags("|| ").isEmpty)  // two parts ("", " "): no error, no tags
        #expect(try tags("\ta\u{1}||\u{20}b\n") == ["a", "b"])  // trim removes everything up to U+0020
        #expect(try tags("\u{A0}a\u{A0}") == ["\u{A0}a\u{A0}"])  // but not other white space
        #expect(throws: WireError.self) { try SubscriptionData.build(topic: "T", expression: "||||") }
        #expect(try SubscriptionData.build(topic: "T", expression: "   ").subString == "   ")
        let duplicates = try SubscriptionData.build(topic: "T", expression: "b || a || b")
        #expect(duplicates.tagsSet == ["b", "a"] && duplicates.codeSet == [98, 97])
    }

    @Test func nonTagExpressionTypes() throws {
        let sql = try SubscriptionData.build(topic: "T", expression: "a > 5 || b", type: ExpressionType.sql92, subVersion: 9)
        #expect(sql.subString == "a > 5 || b" && sql.expressionType == "SQL92" && sql.tagsSet.isEmpty && sql.subVersion == 9)
        #expect(throws: WireError.self) { try SubscriptionData.build(topic: "T", expression: "", type: "SQL92") }
        #expect(throws: WireError.self) { try SubscriptionData.build(topic: "T", expression: nil, type: "SQL92") }
        // Java treats only null and "TAG" as tag expressions; "" takes the other branch.
        let empty = try SubscriptionData.build(topic: "T", expression: "a||b", type: "")
        #expect(empty.expressionType == "" && empty.tagsSet.isEmpty)
        #expect(try SubscriptionData.build(topic: "T", expression: "a||b", type: "TAG").tagsSet == ["a", "b"])
        #expect(ExpressionType.isTagType(nil) && ExpressionType.isTagType("") && ExpressionType.isTagType("TAG"))
        #expect(!ExpressionType.isTagType("SQL92"))
    }

    @Test func brokerAndClientMatching() throws {
        let sub = try SubscriptionData.build(topic: "T", expression: "TagA || TagB")
        #expect(TagFilter.brokerMatches(tagsCode: TagFilter.tagsCode(of: "TagA"), subscription: sub))
        #expect(!TagFilter.brokerMatches(tagsCode: TagFilter.tagsCode(of: "TagC"), subscription: sub))
        #expect(!TagFilter.brokerMatches(tagsCode: TagFilter.tagsCode(of: nil), subscription: sub))  // untagged: code 0
        #expect(TagFilter.brokerMatches(tagsCode: nil, subscription: sub))
        #expect(TagFilter.brokerMatches(tagsCode: 5, subscription: nil))
        // The broker compares tagsCode.intValue(): the low 32 bits.
        #expect(TagFilter.brokerMatches(tagsCode: (1 << 32) | TagFilter.tagsCode(of: "TagB"), subscription: sub))
        let all = try SubscriptionData.build(topic: "T", expression: "*")
        #expect(TagFilter.brokerMatches(tagsCode: 123, subscription: all))
        let sql = try SubscriptionData.build(topic: "T", expression: "a > 1", type: ExpressionType.sql92)
        #expect(TagFilter.brokerMatches(tagsCode: 123, subscription: sql))

        #expect(TagFilter.clientMatches(tags: "TagB", subscription: sub))
        #expect(!TagFilter.clientMatches(tags: "TagC", subscription: sub))
        #expect(!TagFilter.clientMatches(tags: nil, subscription: sub))
        #expect(TagFilter.clientMatches(tags: nil, subscription: all))
        // Hash collisions pass the broker but not the client's string check.
        let collide = try SubscriptionData.build(topic: "T", expression: "Aa")
        #expect(TagFilter.brokerMatches(tagsCode: TagFilter.tagsCode(of: "BB"), subscription: collide))
        #expect(!TagFilter.clientMatches(tags: "BB", subscription: collide))
    }
}
