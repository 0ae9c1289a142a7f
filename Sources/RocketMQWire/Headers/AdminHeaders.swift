/// The request header of GET_CONSUMER_RUNNING_INFO (307, broker to client)
/// (Java `GetConsumerRunningInfoRequestHeader`).
public struct GetConsumerRunningInfoRequestHeader: RPCRequestHeader, Hashable {
    /// Consumer group.
    public var consumerGroup: String
    /// The client asked.
    public var clientId: String
    /// Whether to include a thread dump (Java primitive `boolean`, always written).
    public var jstackEnable: Bool
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields

    /// Creates a header.
    public init(
        consumerGroup: String, clientId: String, jstackEnable: Bool = false, ns: String? = nil, nsd: Bool? = nil,
        bname: String? = nil, oway: Bool? = nil
    ) {
        self.consumerGroup = consumerGroup
        self.clientId = clientId
        self.jstackEnable = jstackEnable
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
    }

    public init(fields: ExtFields) throws {
        consumerGroup = try fields.required("consumerGroup")
        clientId = try fields.required("clientId")
        jstackEnable = try fields.optional("jstackEnable") ?? false
        rpc = try RPCRequestFields(fields: fields)
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("jstackEnable", jstackEnable)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("consumerGroup", consumerGroup)
        fields.put("oway", oway)
        fields.put("clientId", clientId)
        fields.put("nsd", nsd)
    }
}

/// The request header of CONSUME_MESSAGE_DIRECTLY (309, broker to client)
/// (Java `ConsumeMessageDirectlyResultRequestHeader`). The body is one message in store format.
public struct ConsumeMessageDirectlyResultRequestHeader: RPCRequestHeader, Hashable {
    /// Consumer group.
    public var consumerGroup: String
    /// The client asked.
    public var clientId: String?
    /// The message id.
    public var msgId: String?
    /// The broker the message came from.
    public var brokerName: String?
    /// Topic.
    public var topic: String?
    /// The topic's sysFlag.
    public var topicSysFlag: Int32?
    /// The group's sysFlag.
    public var groupSysFlag: Int32?
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        consumerGroup: String, clientId: String? = nil, msgId: String? = nil, brokerName: String? = nil,
        topic: String? = nil, topicSysFlag: Int32? = nil, groupSysFlag: Int32? = nil, ns: String? = nil,
        nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.consumerGroup = consumerGroup
        self.clientId = clientId
        self.msgId = msgId
        self.brokerName = brokerName
        self.topic = topic
        self.topicSysFlag = topicSysFlag
        self.groupSysFlag = groupSysFlag
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        consumerGroup = try fields.required("consumerGroup")
        clientId = try fields.optional("clientId")
        msgId = try fields.optional("msgId")
        brokerName = try fields.optional("brokerName")
        topic = try fields.optional("topic")
        topicSysFlag = try fields.optional("topicSysFlag")
        groupSysFlag = try fields.optional("groupSysFlag")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("msgId", msgId)
        fields.put("topic", topic)
        fields.put("consumerGroup", consumerGroup)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("topicSysFlag", topicSysFlag)
        fields.put("oway", oway)
        fields.put("brokerName", brokerName)
        fields.put("clientId", clientId)
        fields.put("groupSysFlag", groupSysFlag)
        fields.put("lo", lo)
        fields.put("nsd", nsd)
    }
}

/// The request header of RESET_CONSUMER_CLIENT_OFFSET (220, broker to client, oneway)
/// (Java `ResetOffsetRequestHeader`). The body is a ``ResetOffsetBody``.
public struct ResetOffsetRequestHeader: RPCRequestHeader, Hashable {
    /// Consumer group.
    public var group: String
    /// Topic.
    public var topic: String
    /// Unused by the client; Java primitive `int`, -1 unless set, always written.
    public var queueId: Int32
    /// Unused by the client.
    public var offset: Int64?
    /// The reset time in ms (Java primitive, always written).
    public var timestamp: Int64
    /// Whether to reset even forwards (Java primitive, always written).
    public var isForce: Bool
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        group: String, topic: String, queueId: Int32 = -1, offset: Int64? = nil, timestamp: Int64, isForce: Bool,
        ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.group = group
        self.topic = topic
        self.queueId = queueId
        self.offset = offset
        self.timestamp = timestamp
        self.isForce = isForce
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        group = try fields.required("group")
        topic = try fields.required("topic")
        queueId = try fields.optional("queueId") ?? -1
        offset = try fields.optional("offset")
        timestamp = try fields.required("timestamp")
        isForce = try fields.required("isForce")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("isForce", isForce)
        fields.put("topic", topic)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("group", group)
        fields.put("timestamp", timestamp)
        fields.put("oway", oway)
        fields.put("queueId", queueId)
        fields.put("offset", offset)
        fields.put("lo", lo)
        fields.put("nsd", nsd)
    }
}
