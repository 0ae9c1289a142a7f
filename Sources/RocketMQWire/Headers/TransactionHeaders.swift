/// The request header of END_TRANSACTION (37, oneway) (Java `EndTransactionRequestHeader`).
public struct EndTransactionRequestHeader: RPCRequestHeader, Hashable {
    /// `commitOrRollback` value: commit (`MessageSysFlag.TRANSACTION_COMMIT_TYPE`).
    public static let commitType: Int32 = 8
    /// `commitOrRollback` value: roll back (`MessageSysFlag.TRANSACTION_ROLLBACK_TYPE`).
    public static let rollbackType: Int32 = 12
    /// `commitOrRollback` value: state unknown (`MessageSysFlag.TRANSACTION_NOT_TYPE`).
    public static let unknownType: Int32 = 0

    /// Topic.
    public var topic: String?
    /// Producer group.
    public var producerGroup: String
    /// The half message's queue offset.
    public var tranStateTableOffset: Int64
    /// The half message's commit-log offset (from its offset message id).
    public var commitLogOffset: Int64
    /// ``commitType``, ``rollbackType`` or ``unknownType``.
    public var commitOrRollback: Int32
    /// Whether this answers a CHECK_TRANSACTION_STATE (Java defaults it to `false`; always written).
    public var fromTransactionCheck: Bool
    /// The message id (UNIQ_KEY).
    public var msgId: String
    /// The transaction id.
    public var transactionId: String?
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields

    /// Creates a header.
    public init(
        topic: String? = nil, producerGroup: String, tranStateTableOffset: Int64, commitLogOffset: Int64,
        commitOrRollback: Int32, fromTransactionCheck: Bool = false, msgId: String, transactionId: String? = nil,
        ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil
    ) {
        self.topic = topic
        self.producerGroup = producerGroup
        self.tranStateTableOffset = tranStateTableOffset
        self.commitLogOffset = commitLogOffset
        self.commitOrRollback = commitOrRollback
        self.fromTransactionCheck = fromTransactionCheck
        self.msgId = msgId
        self.transactionId = transactionId
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
    }

    public init(fields: ExtFields) throws {
        topic = try fields.optional("topic")
        producerGroup = try fields.required("producerGroup")
        tranStateTableOffset = try fields.required("tranStateTableOffset")
        commitLogOffset = try fields.required("commitLogOffset")
        commitOrRollback = try fields.required("commitOrRollback")
        fromTransactionCheck = try fields.optional("fromTransactionCheck") ?? false
        msgId = try fields.required("msgId")
        transactionId = try fields.optional("transactionId")
        rpc = try RPCRequestFields(fields: fields)
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("transactionId", transactionId)
        fields.put("fromTransactionCheck", fromTransactionCheck)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("topic", topic)
        fields.put("msgId", msgId)
        fields.put("oway", oway)
        fields.put("tranStateTableOffset", tranStateTableOffset)
        fields.put("commitOrRollback", commitOrRollback)
        fields.put("commitLogOffset", commitLogOffset)
        fields.put("producerGroup", producerGroup)
        fields.put("nsd", nsd)
    }
}

/// The request header of CHECK_TRANSACTION_STATE (39, broker to client, oneway)
/// (Java `CheckTransactionStateRequestHeader`). The body is the half message in store format.
public struct CheckTransactionStateRequestHeader: RPCRequestHeader, Hashable {
    /// The half topic (`RMQ_SYS_TRANS_HALF_TOPIC`) as the broker sends it.
    public var topic: String?
    /// The half-queue copy's queue offset.
    public var tranStateTableOffset: Int64
    /// The half-queue copy's commit-log offset.
    public var commitLogOffset: Int64
    /// The message id (UNIQ_KEY).
    public var msgId: String?
    /// The transaction id (UNIQ_KEY).
    public var transactionId: String?
    /// The half-queue copy's offset message id.
    public var offsetMsgId: String?
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields

    /// Creates a header.
    public init(
        topic: String? = nil, tranStateTableOffset: Int64, commitLogOffset: Int64, msgId: String? = nil,
        transactionId: String? = nil, offsetMsgId: String? = nil, ns: String? = nil, nsd: Bool? = nil,
        bname: String? = nil, oway: Bool? = nil
    ) {
        self.topic = topic
        self.tranStateTableOffset = tranStateTableOffset
        self.commitLogOffset = commitLogOffset
        self.msgId = msgId
        self.transactionId = transactionId
        self.offsetMsgId = offsetMsgId
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
    }

    public init(fields: ExtFields) throws {
        topic = try fields.optional("topic")
        tranStateTableOffset = try fields.required("tranStateTableOffset")
        commitLogOffset = try fields.required("commitLogOffset")
        msgId = try fields.optional("msgId")
        transactionId = try fields.optional("transactionId")
        offsetMsgId = try fields.optional("offsetMsgId")
        rpc = try RPCRequestFields(fields: fields)
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("tranStateTableOffset", tranStateTableOffset)
        fields.put("offsetMsgId", offsetMsgId)
        fields.put("topic", topic)
        fields.put("msgId", msgId)
        fields.put("transactionId", transactionId)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("commitLogOffset", commitLogOffset)
        fields.put("nsd", nsd)
    }
}

/// The request header of PUSH_REPLY_MESSAGE_TO_CLIENT (326, broker to the requesting client) (Java
/// `ReplyMessageRequestHeader`): the reply's send header as the replier sent it, plus where it was born and stored. The
/// body is the reply's body as sent (compressed when `sysFlag` says so).
public struct ReplyMessageRequestHeader: RPCRequestHeader, Hashable {
    /// The replier's producer group.
    public var producerGroup: String
    /// The reply topic (`<cluster>_REPLY_TOPIC`).
    public var topic: String
    /// The replier's default topic (`TBW102`).
    public var defaultTopic: String
    /// The replier's default queue count.
    public var defaultTopicQueueNums: Int32
    /// The queue the replier chose.
    public var queueId: Int32
    /// The reply's sysFlag (compression bits).
    public var sysFlag: Int32
    /// When the replier sent it (ms).
    public var bornTimestamp: Int64
    /// The user flag.
    public var flag: Int32
    /// The reply's properties string (`CORRELATION_ID`, `REPLY_TO_CLIENT`, `PUSH_REPLY_TIME`, ...).
    public var properties: String?
    /// Reconsume count (0 for replies).
    public var reconsumeTimes: Int32?
    /// Unit mode (always written, `false` by default).
    public var unitMode: Bool
    /// The replier's address, `ip:port`.
    public var bornHost: String
    /// The broker's store address, `ip:port`.
    public var storeHost: String
    /// When the broker pushed it (ms).
    public var storeTimestamp: Int64
    /// The 5.x common fields (absent on the wire in practice).
    public var rpc: RPCRequestFields
    /// Logic queue marker (5.x `TopicRequestHeader.lo`).
    public var lo: Bool?

    /// Creates a header.
    public init(
        producerGroup: String, topic: String, defaultTopic: String, defaultTopicQueueNums: Int32, queueId: Int32,
        sysFlag: Int32, bornTimestamp: Int64, flag: Int32, properties: String?, reconsumeTimes: Int32?,
        unitMode: Bool = false, bornHost: String, storeHost: String, storeTimestamp: Int64,
        ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.producerGroup = producerGroup
        self.topic = topic
        self.defaultTopic = defaultTopic
        self.defaultTopicQueueNums = defaultTopicQueueNums
        self.queueId = queueId
        self.sysFlag = sysFlag
        self.bornTimestamp = bornTimestamp
        self.flag = flag
        self.properties = properties
        self.reconsumeTimes = reconsumeTimes
        self.unitMode = unitMode
        self.bornHost = bornHost
        self.storeHost = storeHost
        self.storeTimestamp = storeTimestamp
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        producerGroup = try fields.required("producerGroup")
        topic = try fields.required("topic")
        defaultTopic = try fields.required("defaultTopic")
        defaultTopicQueueNums = try fields.required("defaultTopicQueueNums")
        queueId = try fields.required("queueId")
        sysFlag = try fields.required("sysFlag")
        bornTimestamp = try fields.required("bornTimestamp")
        flag = try fields.required("flag")
        properties = try fields.optional("properties")
        reconsumeTimes = try fields.optional("reconsumeTimes")
        unitMode = try fields.optional("unitMode") ?? false
        bornHost = try fields.required("bornHost")
        storeHost = try fields.required("storeHost")
        storeTimestamp = try fields.required("storeTimestamp")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("topic", topic)
        fields.put("ns", ns)
        fields.put("bornTimestamp", bornTimestamp)
        fields.put("storeHost", storeHost)
        fields.put("properties", properties)
        fields.put("producerGroup", producerGroup)
        fields.put("lo", lo)
        fields.put("unitMode", unitMode)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("defaultTopic", defaultTopic)
        fields.put("bornHost", bornHost)
        fields.put("defaultTopicQueueNums", defaultTopicQueueNums)
        fields.put("queueId", queueId)
        fields.put("flag", flag)
        fields.put("sysFlag", sysFlag)
        fields.put("reconsumeTimes", reconsumeTimes)
        fields.put("storeTimestamp", storeTimestamp)
        fields.put("nsd", nsd)
    }
}
