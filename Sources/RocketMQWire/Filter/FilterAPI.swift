extension SubscriptionData {
    /// Builds a subscription exactly as Java's `FilterAPI.build(topic, subString, type)`.
    ///
    /// For a tag expression (`type` `nil` or `TAG`): `nil`, `""` and `"*"` give `subString "*"` with empty sets;
    /// otherwise the expression is kept as given and split on `||` like Java's `String.split` (trailing empty parts
    /// dropped), each part trimmed (characters up to U+0020) and empty parts skipped. An expression made only of
    /// separators (`"||"`) throws; one of only spaces keeps its `subString` with empty sets; `"a || *"` makes `*` an
    /// ordinary tag. Any other `type` keeps the expression untouched and throws when it is empty.
    ///
    /// - Parameter subVersion: the subscription's version; Java stamps `System.currentTimeMillis()` at creation
    ///   (this pure layer reads no clock, so pass it).
    /// - Throws: `WireError(.invalidHeaderField, ...)` where Java throws.
    public static func build(
        topic: String, expression: String?, type: String? = nil, subVersion: Int64 = 0
    ) throws -> SubscriptionData {
        guard type == nil || type == ExpressionType.tag else {
            guard let expression, !expression.isEmpty else {
                throw WireError(.invalidHeaderField, "subscription expression can't be empty for type \(type ?? "")")
            }
            return SubscriptionData(topic: topic, subString: expression, subVersion: subVersion, expressionType: type ?? "")
        }
        guard let expression, !expression.isEmpty, expression != subAll else {
            return SubscriptionData(topic: topic, subString: subAll, subVersion: subVersion)
        }
        let parts = TagFilter.splitExpression(expression)
        guard !parts.isEmpty else {
            throw WireError(.invalidHeaderField, "subscription expression \(expression.debugDescription): split error")
        }
        var tags: [String] = []
        var codes: [Int32] = []
        var seenTags = Set<String>()
        var seenCodes = Set<Int32>()
        for part in parts {
            let tag = TagFilter.javaTrim(part)
            guard !tag.isEmpty else { continue }
            if seenTags.insert(tag).inserted { tags.append(tag) }
            let code = JavaCompat.stringHashCode(tag)
            if seenCodes.insert(code).inserted { codes.append(code) }
        }
        return SubscriptionData(topic: topic, subString: expression, tagsSet: tags, codeSet: codes, subVersion: subVersion)
    }
}

/// Tag filtering as the broker and the Java client do it.
public enum TagFilter {
    /// The tags code a broker stores for a message (`MessageExtBrokerInner.tagsString2tagsCode`): 0 for `nil` or
    /// empty tags, else Java `String.hashCode()`.
    public static func tagsCode(of tags: String?) -> Int64 {
        guard let tags, !tags.isEmpty else { return 0 }
        return Int64(JavaCompat.stringHashCode(tags))
    }

    /// The broker's consume-queue filter (`ExpressionMessageFilter.isMatchedByConsumeQueue`) for tag subscriptions:
    /// no subscription, class filter mode, a `nil` tags code or `subString "*"` match everything; otherwise the tags
    /// code (as a Java `int`) must be in `codeSet`. Non-tag expressions are not evaluated here and match.
    public static func brokerMatches(tagsCode: Int64?, subscription: SubscriptionData?) -> Bool {
        guard let subscription, !subscription.classFilterMode else { return true }
        guard ExpressionType.isTagType(subscription.expressionType) else { return true }
        guard let tagsCode else { return true }
        if subscription.subString == SubscriptionData.subAll { return true }
        return subscription.codeSet.contains(Int32(truncatingIfNeeded: tagsCode))
    }

    /// The Java client's second filter on pulled messages (`PullAPIWrapper.processPullResult`): with a non-empty
    /// `tagsSet` only messages whose tag string is in it pass (untagged messages are dropped); otherwise all pass.
    public static func clientMatches(tags: String?, subscription: SubscriptionData) -> Bool {
        guard !subscription.tagsSet.isEmpty, !subscription.classFilterMode else { return true }
        guard let tags else { return false }
        return subscription.tagsSet.contains(tags)
    }

    /// Java `expression.split("\\|\\|")`: non-overlapping `||` separators left to right, trailing empty parts removed.
    static func splitExpression(_ expression: String) -> [String] {
        let bytes = Array(expression.utf8)
        var parts: [String] = []
        var start = 0
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: "|"), bytes[i + 1] == UInt8(ascii: "|") {
                parts.append(String(decoding: bytes[start..<i], as: UTF8.self))
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        while let last = parts.last, last.isEmpty { parts.removeLast() }
        return parts
    }

    /// Java `String.trim()`: strips leading and trailing characters up to U+0020.
    static func javaTrim(_ s: String) -> String {
        let bytes = Array(s.utf8)
        var lo = 0
        var hi = bytes.count
        while lo < hi, bytes[lo] <= 0x20 { lo += 1 }
        while hi > lo, bytes[hi - 1] <= 0x20 { hi -= 1 }
        if lo == 0, hi == bytes.count { return s }
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
    }
}
