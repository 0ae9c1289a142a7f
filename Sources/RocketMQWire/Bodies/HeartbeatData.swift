/// How a consumer gets messages (Java `ConsumeType`); unknown names are kept as they are.
public struct ConsumeType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The Java enum name.
    public var rawValue: String
    /// Wraps an enum name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Pull consumers.
    public static let consumeActively = ConsumeType(rawValue: "CONSUME_ACTIVELY")
    /// Push consumers.
    public static let consumePassively = ConsumeType(rawValue: "CONSUME_PASSIVELY")
    /// POP consumers.
    public static let consumePop = ConsumeType(rawValue: "CONSUME_POP")

    public var description: String { rawValue }
}

/// Clustering (queues shared by the group) or broadcasting (Java `MessageModel`); unknown names are kept.
public struct MessageModel: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The Java enum name.
    public var rawValue: String
    /// Wraps an enum name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Every consumer gets every message.
    public static let broadcasting = MessageModel(rawValue: "BROADCASTING")
    /// The group shares the queues.
    public static let clustering = MessageModel(rawValue: "CLUSTERING")

    public var description: String { rawValue }
}

/// Where a new consumer group starts (Java `ConsumeFromWhere`); unknown names are kept.
public struct ConsumeFromWhere: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The Java enum name.
    public var rawValue: String
    /// Wraps an enum name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// From the end of the queue (the default).
    public static let consumeFromLastOffset = ConsumeFromWhere(rawValue: "CONSUME_FROM_LAST_OFFSET")
    /// Deprecated.
    public static let consumeFromLastOffsetAndFromMinWhenBootFirst = ConsumeFromWhere(
        rawValue: "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST")
    /// Deprecated.
    public static let consumeFromMinOffset = ConsumeFromWhere(rawValue: "CONSUME_FROM_MIN_OFFSET")
    /// Deprecated.
    public static let consumeFromMaxOffset = ConsumeFromWhere(rawValue: "CONSUME_FROM_MAX_OFFSET")
    /// From the start of the queue.
    public static let consumeFromFirstOffset = ConsumeFromWhere(rawValue: "CONSUME_FROM_FIRST_OFFSET")
    /// From a point in time.
    public static let consumeFromTimestamp = ConsumeFromWhere(rawValue: "CONSUME_FROM_TIMESTAMP")

    public var description: String { rawValue }
}

/// The expression types of a subscription (Java `ExpressionType`).
public enum ExpressionType {
    /// Tag expressions (`TagA || TagB`, `*`).
    public static let tag = "TAG"
    /// SQL92 property filters.
    public static let sql92 = "SQL92"

    /// Java's `ExpressionType.isTagType`: `nil`, empty or `TAG`.
    public static func isTagType(_ type: String?) -> Bool {
        guard let type else { return true }
        return type.isEmpty || type == tag
    }
}

/// One topic subscription of a consumer group (Java `SubscriptionData`).
///
/// `tagsSet` and `codeSet` are Java `HashSet`s; here they are arrays in the order given, written in Java's `HashSet`
/// iteration order. Build them with ``SubscriptionData/build(topic:expression:type:subVersion:)``.
public struct SubscriptionData: JSONBody, Hashable {
    /// The "all tags" expression.
    public static let subAll = "*"

    /// Obsolete class filter mode (always `false`).
    public var classFilterMode: Bool
    /// Topic.
    public var topic: String
    /// The expression as given (`*`, `TagA || TagB`, or SQL92 text).
    public var subString: String
    /// The tags of a tag expression.
    public var tagsSet: [String]
    /// Java `String.hashCode()` of each tag; brokers filter by these.
    public var codeSet: [Int32]
    /// Version (ms timestamp); a newer one replaces the broker's stored subscription.
    public var subVersion: Int64
    /// `TAG` or `SQL92`.
    public var expressionType: String

    /// Creates a subscription.
    public init(
        topic: String, subString: String, tagsSet: [String] = [], codeSet: [Int32] = [], subVersion: Int64,
        expressionType: String = ExpressionType.tag, classFilterMode: Bool = false
    ) {
        self.classFilterMode = classFilterMode
        self.topic = topic
        self.subString = subString
        self.tagsSet = tagsSet
        self.codeSet = codeSet
        self.subVersion = subVersion
        self.expressionType = expressionType
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "SubscriptionData")
        classFilterMode = try r.bool("classFilterMode", default: false)
        topic = try r.string("topic")
        subString = try r.optionalString("subString") ?? ""
        tagsSet = try r.stringArray("tagsSet")
        codeSet = try r.int32Array("codeSet")
        subVersion = try r.int64("subVersion")
        expressionType = try r.optionalString("expressionType") ?? ExpressionType.tag
    }

    public var json: JSONValue {
        let tags = JavaCompat.hashOrder(tagsSet, hashCode: JavaCompat.stringHashCode)
        let codes = JavaCompat.hashOrder(codeSet) { $0 }
        return jsonObject([
            ("classFilterMode", .bool(classFilterMode)), ("codeSet", .array(codes.map { .int($0) })),
            ("expressionType", .string(expressionType)), ("subString", .string(subString)),
            ("subVersion", .int(subVersion)), ("tagsSet", .array(tags.map(JSONValue.string))), ("topic", .string(topic)),
        ])
    }

    /// Java's `SubscriptionData.hashCode()` (which ignores `subVersion`), used for `HashSet` ordering.
    public var javaHashCode: Int32 {
        var h: Int32 = 1
        h = 31 &* h &+ (classFilterMode ? 1231 : 1237)
        h = 31 &* h &+ Set(codeSet).reduce(Int32(0), &+)
        h = 31 &* h &+ JavaCompat.stringHashCode(subString)
        h = 31 &* h &+ Set(tagsSet).reduce(Int32(0)) { $0 &+ JavaCompat.stringHashCode($1) }
        h = 31 &* h &+ JavaCompat.stringHashCode(topic)
        h = 31 &* h &+ JavaCompat.stringHashCode(expressionType)
        return h
    }
}

/// A producer group of a heartbeat (Java `ProducerData`).
public struct ProducerData: JSONBody, Hashable {
    /// Producer group.
    public var groupName: String

    /// Creates producer data.
    public init(groupName: String) { self.groupName = groupName }

    public init(json: JSONValue) throws {
        groupName = try JSONObjectReader(json, "ProducerData").string("groupName")
    }

    public var json: JSONValue { jsonObject([("groupName", .string(groupName))]) }
}

/// A consumer group of a heartbeat (Java `ConsumerData`).
public struct ConsumerData: JSONBody, Hashable {
    /// Consumer group.
    public var groupName: String
    /// Pull, push or pop.
    public var consumeType: ConsumeType?
    /// Clustering or broadcasting.
    public var messageModel: MessageModel?
    /// Where a new group starts.
    public var consumeFromWhere: ConsumeFromWhere?
    /// The group's subscriptions; written in Java `HashSet` order.
    public var subscriptionDataSet: [SubscriptionData]
    /// Unit mode.
    public var unitMode: Bool

    /// Creates consumer data.
    public init(
        groupName: String, consumeType: ConsumeType? = .consumePassively, messageModel: MessageModel? = .clustering,
        consumeFromWhere: ConsumeFromWhere? = .consumeFromLastOffset, subscriptionDataSet: [SubscriptionData] = [],
        unitMode: Bool = false
    ) {
        self.groupName = groupName
        self.consumeType = consumeType
        self.messageModel = messageModel
        self.consumeFromWhere = consumeFromWhere
        self.subscriptionDataSet = subscriptionDataSet
        self.unitMode = unitMode
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "ConsumerData")
        groupName = try r.string("groupName")
        consumeType = try r.optionalString("consumeType").map(ConsumeType.init(rawValue:))
        messageModel = try r.optionalString("messageModel").map(MessageModel.init(rawValue:))
        consumeFromWhere = try r.optionalString("consumeFromWhere").map(ConsumeFromWhere.init(rawValue:))
        subscriptionDataSet = try r.array("subscriptionDataSet").map(SubscriptionData.init(json:))
        unitMode = try r.bool("unitMode", default: false)
    }

    public var json: JSONValue {
        let subscriptions = JavaCompat.hashOrder(subscriptionDataSet, hashCode: \.javaHashCode)
        return jsonObject([
            ("consumeFromWhere", .optional(consumeFromWhere?.rawValue)),
            ("consumeType", .optional(consumeType?.rawValue)), ("groupName", .string(groupName)),
            ("messageModel", .optional(messageModel?.rawValue)),
            ("subscriptionDataSet", .array(subscriptions.map(\.json))), ("unitMode", .bool(unitMode)),
        ])
    }
}

/// The body of HEART_BEAT (34) (Java `HeartbeatData`).
///
/// `producerDataSet` and `consumerDataSet` are Java `HashSet`s of classes without `hashCode()`, so Java's order is
/// arbitrary; they are written in the order given.
public struct HeartbeatData: JSONBody, Hashable {
    /// `clientIP@instanceName[@unitName]`.
    public var clientID: String
    /// Producer groups (the Java client always lists `CLIENT_INNER_PRODUCER` too).
    public var producerDataSet: [ProducerData]
    /// Consumer groups.
    public var consumerDataSet: [ConsumerData]
    /// Heartbeat V2 fingerprint (5.x); 0 selects the V1 path.
    public var heartbeatFingerprint: Int32
    /// Heartbeat V2: subscriptions omitted because unchanged (5.x; Java field `isWithoutSub`).
    public var withoutSub: Bool

    /// Creates heartbeat data.
    public init(
        clientID: String, producerDataSet: [ProducerData] = [], consumerDataSet: [ConsumerData] = [],
        heartbeatFingerprint: Int32 = 0, withoutSub: Bool = false
    ) {
        self.clientID = clientID
        self.producerDataSet = producerDataSet
        self.consumerDataSet = consumerDataSet
        self.heartbeatFingerprint = heartbeatFingerprint
        self.withoutSub = withoutSub
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "HeartbeatData")
        clientID = try r.string("clientID")
        producerDataSet = try r.array("producerDataSet").map(ProducerData.init(json:))
        consumerDataSet = try r.array("consumerDataSet").map(ConsumerData.init(json:))
        heartbeatFingerprint = try r.int32("heartbeatFingerprint")
        withoutSub = try r.bool("withoutSub", default: false)
    }

    public var json: JSONValue {
        jsonObject([
            ("clientID", .string(clientID)), ("consumerDataSet", .array(consumerDataSet.map(\.json))),
            ("heartbeatFingerprint", .int(heartbeatFingerprint)),
            ("producerDataSet", .array(producerDataSet.map(\.json))), ("withoutSub", .bool(withoutSub)),
        ])
    }
}
