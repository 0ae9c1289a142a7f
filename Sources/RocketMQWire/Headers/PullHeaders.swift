/// The `sysFlag` bits of a PULL_MESSAGE request (Java `PullSysFlag`).
public struct PullSysFlag: OptionSet, Hashable, Sendable {
    /// The raw bits.
    public var rawValue: Int32
    /// Creates flags from raw bits.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The request carries `commitOffset` for the broker to store.
    public static let commitOffset = PullSysFlag(rawValue: 0x1)
    /// The broker may hold the request (long polling).
    public static let suspend = PullSysFlag(rawValue: 0x2)
    /// The request carries its own `subscription` expression.
    public static let subscription = PullSysFlag(rawValue: 0x4)
    /// Class filter mode (obsolete).
    public static let classFilter = PullSysFlag(rawValue: 0x8)
    /// Lite pull consumer (LITE_PULL_MESSAGE, 361).
    public static let litePull = PullSysFlag(rawValue: 0x10)

    /// Java's `PullSysFlag.buildSysFlag(commitOffset, suspend, subscription, classFilter)`.
    public static func build(commitOffset: Bool, suspend: Bool, subscription: Bool, classFilter: Bool) -> PullSysFlag {
        var flags: PullSysFlag = []
        if commitOffset { flags.insert(.commitOffset) }
        if suspend { flags.insert(.suspend) }
        if subscription { flags.insert(.subscription) }
        if classFilter { flags.insert(.classFilter) }
        return flags
    }
}

/// The request header of PULL_MESSAGE (11) and LITE_PULL_MESSAGE (361) (Java `PullMessageRequestHeader`, a
/// `FastCodesHeader`).
public struct PullMessageRequestHeader: FastCodesHeader, Hashable, RPCRequestHeader {
    /// Consumer group.
    public var consumerGroup: String
    /// Topic.
    public var topic: String
    /// Queue id.
    public var queueId: Int32
    /// The next offset to read.
    public var queueOffset: Int64
    /// Maximum number of messages (32 by default).
    public var maxMsgNums: Int32
    /// ``PullSysFlag`` bits.
    public var sysFlag: Int32
    /// The consumer's committed offset (meaningful with ``PullSysFlag/commitOffset``).
    public var commitOffset: Int64
    /// How long the broker may hold the request, in ms.
    public var suspendTimeoutMillis: Int64
    /// The subscription expression (only with ``PullSysFlag/subscription``).
    public var subscription: String?
    /// The subscription's version (ms timestamp).
    public var subVersion: Int64
    /// `TAG` or `SQL92`.
    public var expressionType: String?
    /// Maximum body bytes (5.x).
    public var maxMsgBytes: Int32?
    /// Proxy only.
    public var requestSource: Int32?
    /// Proxy only (Java's spelling).
    public var proxyFrowardClientId: String?
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        consumerGroup: String, topic: String, queueId: Int32, queueOffset: Int64, maxMsgNums: Int32 = 32,
        sysFlag: Int32, commitOffset: Int64, suspendTimeoutMillis: Int64, subscription: String? = nil,
        subVersion: Int64, expressionType: String? = nil, maxMsgBytes: Int32? = nil, requestSource: Int32? = nil,
        proxyFrowardClientId: String? = nil, ns: String? = nil, nsd: Bool? = nil, bname: String? = nil,
        oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.queueId = queueId
        self.queueOffset = queueOffset
        self.maxMsgNums = maxMsgNums
        self.sysFlag = sysFlag
        self.commitOffset = commitOffset
        self.suspendTimeoutMillis = suspendTimeoutMillis
        self.subscription = subscription
        self.subVersion = subVersion
        self.expressionType = expressionType
        self.maxMsgBytes = maxMsgBytes
        self.requestSource = requestSource
        self.proxyFrowardClientId = proxyFrowardClientId
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    /// The ``sysFlag`` bits as a ``PullSysFlag``.
    public var pullSysFlag: PullSysFlag {
        get { PullSysFlag(rawValue: sysFlag) }
        set { sysFlag = newValue.rawValue }
    }

    public init(fields: ExtFields) throws {
        consumerGroup = try fields.required("consumerGroup")
        topic = try fields.required("topic")
        queueId = try fields.required("queueId")
        queueOffset = try fields.required("queueOffset")
        maxMsgNums = try fields.required("maxMsgNums")
        sysFlag = try fields.required("sysFlag")
        commitOffset = try fields.required("commitOffset")
        suspendTimeoutMillis = try fields.required("suspendTimeoutMillis")
        subscription = try fields.optional("subscription")
        subVersion = try fields.required("subVersion")
        expressionType = try fields.optional("expressionType")
        maxMsgBytes = try fields.optional("maxMsgBytes")
        requestSource = try fields.optional("requestSource")
        proxyFrowardClientId = try fields.optional("proxyFrowardClientId")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("maxMsgBytes", maxMsgBytes)
        fields.put("queueId", queueId)
        fields.put("ns", ns)
        fields.put("commitOffset", commitOffset)
        fields.put("maxMsgNums", maxMsgNums)
        fields.put("sysFlag", sysFlag)
        fields.put("subscription", subscription)
        fields.put("requestSource", requestSource)
        fields.put("proxyFrowardClientId", proxyFrowardClientId)
        fields.put("lo", lo)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("suspendTimeoutMillis", suspendTimeoutMillis)
        fields.put("queueOffset", queueOffset)
        fields.put("expressionType", expressionType)
        fields.put("topic", topic)
        fields.put("consumerGroup", consumerGroup)
        fields.put("subVersion", subVersion)
        fields.put("nsd", nsd)
    }

    public func encodeFast(into fields: inout ExtFields) {
        fields.put("consumerGroup", consumerGroup)
        fields.put("topic", topic)
        fields.put("queueId", queueId)
        fields.put("queueOffset", queueOffset)
        fields.put("maxMsgNums", maxMsgNums)
        fields.put("sysFlag", sysFlag)
        fields.put("commitOffset", commitOffset)
        fields.put("suspendTimeoutMillis", suspendTimeoutMillis)
        fields.put("subscription", subscription)
        fields.put("subVersion", subVersion)
        fields.put("expressionType", expressionType)
        fields.put("maxMsgBytes", maxMsgBytes)
        fields.put("requestSource", requestSource)
        fields.put("proxyFrowardClientId", proxyFrowardClientId)
        fields.put("lo", lo)
        fields.put("ns", ns)
        fields.put("nsd", nsd)
        fields.put("bname", bname)
        fields.put("oway", oway)
    }
}

/// The response header of PULL_MESSAGE (Java `PullMessageResponseHeader`, a `FastCodesHeader`). The command's
/// `remark` carries the broker's GetMessageStatus name.
public struct PullMessageResponseHeader: FastCodesHeader, Hashable {
    /// The broker id to pull from next (0 = master).
    public var suggestWhichBrokerId: Int64
    /// The offset to request next.
    public var nextBeginOffset: Int64
    /// The queue's minimum offset.
    public var minOffset: Int64
    /// The queue's maximum offset.
    public var maxOffset: Int64
    /// Static topics: added to every message's queue offset.
    public var offsetDelta: Int64?
    /// The topic's sysFlag.
    public var topicSysFlag: Int32?
    /// The group's sysFlag.
    public var groupSysFlag: Int32?
    /// Why the pull was forbidden, if it was.
    public var forbiddenType: Int32?

    /// Creates a header.
    public init(
        suggestWhichBrokerId: Int64 = 0, nextBeginOffset: Int64, minOffset: Int64, maxOffset: Int64,
        offsetDelta: Int64? = nil, topicSysFlag: Int32? = nil, groupSysFlag: Int32? = nil, forbiddenType: Int32? = nil
    ) {
        self.suggestWhichBrokerId = suggestWhichBrokerId
        self.nextBeginOffset = nextBeginOffset
        self.minOffset = minOffset
        self.maxOffset = maxOffset
        self.offsetDelta = offsetDelta
        self.topicSysFlag = topicSysFlag
        self.groupSysFlag = groupSysFlag
        self.forbiddenType = forbiddenType
    }

    public init(fields: ExtFields) throws {
        suggestWhichBrokerId = try fields.required("suggestWhichBrokerId")
        nextBeginOffset = try fields.required("nextBeginOffset")
        minOffset = try fields.required("minOffset")
        maxOffset = try fields.required("maxOffset")
        offsetDelta = try fields.optional("offsetDelta")
        topicSysFlag = try fields.optional("topicSysFlag")
        groupSysFlag = try fields.optional("groupSysFlag")
        forbiddenType = try fields.optional("forbiddenType")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("maxOffset", maxOffset)
        fields.put("offsetDelta", offsetDelta)
        fields.put("topicSysFlag", topicSysFlag)
        fields.put("minOffset", minOffset)
        fields.put("groupSysFlag", groupSysFlag)
        fields.put("suggestWhichBrokerId", suggestWhichBrokerId)
        fields.put("nextBeginOffset", nextBeginOffset)
        fields.put("forbiddenType", forbiddenType)
    }

    public func encodeFast(into fields: inout ExtFields) {
        fields.put("suggestWhichBrokerId", suggestWhichBrokerId)
        fields.put("nextBeginOffset", nextBeginOffset)
        fields.put("minOffset", minOffset)
        fields.put("maxOffset", maxOffset)
        fields.put("offsetDelta", offsetDelta)
        fields.put("topicSysFlag", topicSysFlag)
        fields.put("groupSysFlag", groupSysFlag)
        fields.put("forbiddenType", forbiddenType)
    }
}
