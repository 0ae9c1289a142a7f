/// The request header of QUERY_MESSAGE (12) (Java `QueryMessageRequestHeader`): the messages of `topic` whose key
/// (or unique key) is `key`, stored between `beginTimestamp` and `endTimestamp`.
///
/// The Java client always adds an explicit `_UNIQUE_KEY_QUERY` field (``uniqueKeyQueryField``) next to the header:
/// build the fields with ``wireFields(for:uniqueKey:)``. On a unique-key query the broker replaces `maxNum` with its
/// `defaultQueryMaxNum` (32). The response body is the matching messages in store format, concatenated; the response
/// header is a ``QueryMessageResponseHeader`` (also on QUERY_NOT_FOUND (22)).
public struct QueryMessageRequestHeader: RPCRequestHeader, Hashable {
    /// The explicit extFields key that marks a unique-key (message id) query (Java `MixAll.UNIQUE_MSG_QUERY_FLAG`).
    public static let uniqueKeyQueryField = "_UNIQUE_KEY_QUERY"

    /// Topic.
    public var topic: String
    /// The key (from the `KEYS` property) or unique key (`UNIQ_KEY`) to look up.
    public var key: String
    /// At most this many messages (the broker also caps it at its `maxMsgsNumBatch`, 64 by default).
    public var maxNum: Int32
    /// Earliest store time, in ms (inclusive).
    public var beginTimestamp: Int64
    /// Latest store time, in ms (inclusive).
    public var endTimestamp: Int64
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        topic: String, key: String, maxNum: Int32, beginTimestamp: Int64, endTimestamp: Int64, ns: String? = nil,
        nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.topic = topic
        self.key = key
        self.maxNum = maxNum
        self.beginTimestamp = beginTimestamp
        self.endTimestamp = endTimestamp
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        topic = try fields.required("topic")
        key = try fields.required("key")
        maxNum = try fields.required("maxNum")
        beginTimestamp = try fields.required("beginTimestamp")
        endTimestamp = try fields.required("endTimestamp")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("endTimestamp", endTimestamp)
        fields.put("maxNum", maxNum)
        fields.put("key", key)
        fields.put("topic", topic)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("beginTimestamp", beginTimestamp)
        fields.put("lo", lo)
        fields.put("nsd", nsd)
    }

    /// The explicit field the Java client adds with `addExtField` (`_UNIQUE_KEY_QUERY` = `"true"` / `"false"`).
    public static func uniqueKeyQueryFields(_ uniqueKey: Bool) -> ExtFields {
        [uniqueKeyQueryField: uniqueKey ? "true" : "false"]
    }

    /// The extFields as the Java client puts them on the wire: this header plus the `_UNIQUE_KEY_QUERY` flag.
    public func wireFields(for type: SerializeType, uniqueKey: Bool) -> ExtFields {
        wireFields(for: type, adding: Self.uniqueKeyQueryFields(uniqueKey))
    }

    /// Whether a request's extFields ask for a unique-key query: the broker compares the flag with `"true"` exactly
    /// (case-sensitive; absent means a key query).
    public static func isUniqueKeyQuery(_ fields: ExtFields) -> Bool {
        fields[uniqueKeyQueryField] == "true"
    }
}

/// The response header of QUERY_MESSAGE (Java `QueryMessageResponseHeader`): where the broker's index stood.
///
/// The broker sets both from the newest index file when it found matching entries, and leaves them 0 otherwise.
public struct QueryMessageResponseHeader: RemotingHeader, Hashable {
    /// Store time of the last indexed message, in ms.
    public var indexLastUpdateTimestamp: Int64
    /// Commit-log offset of the last indexed message (Java's spelling).
    public var indexLastUpdatePhyoffset: Int64

    /// Creates a header.
    public init(indexLastUpdateTimestamp: Int64, indexLastUpdatePhyoffset: Int64) {
        self.indexLastUpdateTimestamp = indexLastUpdateTimestamp
        self.indexLastUpdatePhyoffset = indexLastUpdatePhyoffset
    }

    public init(fields: ExtFields) throws {
        indexLastUpdateTimestamp = try fields.required("indexLastUpdateTimestamp")
        indexLastUpdatePhyoffset = try fields.required("indexLastUpdatePhyoffset")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("indexLastUpdateTimestamp", indexLastUpdateTimestamp)
        fields.put("indexLastUpdatePhyoffset", indexLastUpdatePhyoffset)
    }
}

/// The request header of VIEW_MESSAGE_BY_ID (33) (Java `ViewMessageRequestHeader`; not an `RpcRequestHeader`): the
/// stored message at a commit-log offset (the offset an offsetMsgId encodes). The response body is that one message in
/// store format; an offset with no message is answered SYSTEM_ERROR (1).
public struct ViewMessageRequestHeader: RemotingHeader, Hashable {
    /// Topic (5.x; used for access control only).
    public var topic: String?
    /// The message's commit-log offset.
    public var offset: Int64

    /// Creates a header.
    public init(offset: Int64, topic: String? = nil) {
        self.offset = offset
        self.topic = topic
    }

    public init(fields: ExtFields) throws {
        topic = try fields.optional("topic")
        offset = try fields.required("offset")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("offset", offset)
        fields.put("topic", topic)
    }
}

/// The request header of GET_CONSUME_STATS (208) (Java `GetConsumeStatsRequestHeader`). The response body is a
/// ``ConsumeStats``.
///
/// Which topics the broker reports: those in ``topicList`` when given (no subscription check); else ``topic`` when
/// given, else every topic the group has committed offsets for, keeping only topics the group subscribes to when its
/// consumers are online with subscriptions.
public struct GetConsumeStatsRequestHeader: RPCRequestHeader, Hashable {
    /// The separator of ``topicList`` (Java `TOPIC_NAME_SEPARATOR`).
    public static let topicListSeparator: Character = ";"

    /// Consumer group.
    public var consumerGroup: String
    /// One topic, or nil for all of the group's topics.
    public var topic: String?
    /// Topics separated (and, as Java writes it, terminated) by `;`; when non-blank it overrides ``topic``.
    public var topicList: String?
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        consumerGroup: String, topic: String? = nil, topicList: String? = nil, ns: String? = nil, nsd: Bool? = nil,
        bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.topicList = topicList
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    /// Creates a header for several topics, writing ``topicList`` as Java's `updateTopicList` does (`"A;B;"`; nil for
    /// no topics).
    public init(consumerGroup: String, topics: [String]) {
        self.init(consumerGroup: consumerGroup, topicList: Self.topicListText(topics))
    }

    public init(fields: ExtFields) throws {
        consumerGroup = try fields.required("consumerGroup")
        topic = try fields.optional("topic")
        topicList = try fields.optional("topicList")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("topicList", topicList)
        fields.put("consumerGroup", consumerGroup)
        fields.put("topic", topic)
        fields.put("lo", lo)
        fields.put("nsd", nsd)
    }

    /// ``topicList`` as Java's `fetchTopicList` reads it: empty when blank, else the non-empty pieces between `;`.
    public var topics: [String] {
        guard let topicList, !JavaCompat.isBlank(topicList) else { return [] }
        return topicList.split(separator: Self.topicListSeparator).map(String.init)
    }

    /// Java's `updateTopicList`: each topic followed by `;`; nil for an empty list (the field is then not written).
    public static func topicListText(_ topics: [String]) -> String? {
        topics.isEmpty ? nil : topics.map { $0 + String(topicListSeparator) }.joined()
    }
}

/// The request header of GET_CONSUMER_CONNECTION_LIST (203) (Java `GetConsumerConnectionListRequestHeader`). The
/// response body is a ``ConsumerConnection``; CONSUMER_NOT_ONLINE (206) when the group has no connected client.
public struct GetConsumerConnectionListRequestHeader: RPCRequestHeader, Hashable {
    /// Consumer group.
    public var consumerGroup: String
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields

    /// Creates a header.
    public init(consumerGroup: String, ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil) {
        self.consumerGroup = consumerGroup
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
    }

    public init(fields: ExtFields) throws {
        consumerGroup = try fields.required("consumerGroup")
        rpc = try RPCRequestFields(fields: fields)
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("consumerGroup", consumerGroup)
        fields.put("nsd", nsd)
    }
}

/// The request header of GET_TOPIC_STATS_INFO (202) (Java `GetTopicStatsInfoRequestHeader`). The response body is a
/// ``TopicStatsTable``; TOPIC_NOT_EXIST (17) when the broker does not hold the topic.
public struct GetTopicStatsInfoRequestHeader: RPCRequestHeader, Hashable {
    /// Topic.
    public var topic: String
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        topic: String, ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.topic = topic
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        topic = try fields.required("topic")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("topic", topic)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("lo", lo)
        fields.put("nsd", nsd)
    }
}

extension JavaCompat {
    /// Commons Lang's `StringUtils.isBlank` (and RocketMQ's `UtilAll.isBlank`): empty, or only whitespace as Java's
    /// `Character.isWhitespace` sees it.
    public static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x09...0x0D, 0x1C...0x20: return true
            case 0x85, 0xA0, 0x2007, 0x202F: return false  // NEL and non-breaking spaces are not whitespace to Java
            default: return scalar.properties.isWhitespace
            }
        }
    }
}
