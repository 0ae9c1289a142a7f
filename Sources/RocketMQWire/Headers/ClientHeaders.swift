/// The request header of GET_ROUTEINFO_BY_TOPIC (105) (Java `GetRouteInfoRequestHeader`).
public struct GetRouteInfoRequestHeader: RPCRequestHeader, Hashable {
    /// Topic.
    public var topic: String
    /// Ask for standard JSON route data whatever the request version.
    public var acceptStandardJsonOnly: Bool?
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        topic: String, acceptStandardJsonOnly: Bool? = nil, ns: String? = nil, nsd: Bool? = nil,
        bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.topic = topic
        self.acceptStandardJsonOnly = acceptStandardJsonOnly
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        topic = try fields.required("topic")
        acceptStandardJsonOnly = try fields.optional("acceptStandardJsonOnly")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("topic", topic)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("acceptStandardJsonOnly", acceptStandardJsonOnly)
        fields.put("lo", lo)
        fields.put("nsd", nsd)
    }
}

/// The request header of HEART_BEAT (34) (Java `HeartbeatRequestHeader`): only the 5.x common fields.
public struct HeartbeatRequestHeader: RPCRequestHeader, Hashable {
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields

    /// Creates a header (normally empty).
    public init(ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil) {
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
    }

    public init(fields: ExtFields) throws {
        rpc = try RPCRequestFields(fields: fields)
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("nsd", nsd)
    }
}

/// The request header of UNREGISTER_CLIENT (35) (Java `UnregisterClientRequestHeader`).
public struct UnregisterClientRequestHeader: RPCRequestHeader, Hashable {
    /// The client id.
    public var clientID: String
    /// The producer group being unregistered, if any.
    public var producerGroup: String?
    /// The consumer group being unregistered, if any.
    public var consumerGroup: String?
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields

    /// Creates a header.
    public init(
        clientID: String, producerGroup: String? = nil, consumerGroup: String? = nil, ns: String? = nil,
        nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil
    ) {
        self.clientID = clientID
        self.producerGroup = producerGroup
        self.consumerGroup = consumerGroup
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
    }

    public init(fields: ExtFields) throws {
        clientID = try fields.required("clientID")
        producerGroup = try fields.optional("producerGroup")
        consumerGroup = try fields.optional("consumerGroup")
        rpc = try RPCRequestFields(fields: fields)
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("producerGroup", producerGroup)
        fields.put("clientID", clientID)
        fields.put("consumerGroup", consumerGroup)
        fields.put("nsd", nsd)
    }
}

/// The (empty) response header of UNREGISTER_CLIENT (Java `UnregisterClientResponseHeader`).
public struct UnregisterClientResponseHeader: RemotingHeader, Hashable {
    /// Creates the header.
    public init() {}
    public init(fields: ExtFields) throws {}
    public func encode(into fields: inout ExtFields) {}
}

/// The request header of GET_CONSUMER_LIST_BY_GROUP (38) (Java `GetConsumerListByGroupRequestHeader`).
public struct GetConsumerListByGroupRequestHeader: RPCRequestHeader, Hashable {
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
        fields.put("consumerGroup", consumerGroup)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("nsd", nsd)
    }
}

/// The (empty) response header of GET_CONSUMER_LIST_BY_GROUP (Java `GetConsumerListByGroupResponseHeader`); the ids
/// are in the body (``ConsumerListBody``).
public struct GetConsumerListByGroupResponseHeader: RemotingHeader, Hashable {
    /// Creates the header.
    public init() {}
    public init(fields: ExtFields) throws {}
    public func encode(into fields: inout ExtFields) {}
}

/// The request header of NOTIFY_CONSUMER_IDS_CHANGED (40, broker to client, oneway)
/// (Java `NotifyConsumerIdsChangedRequestHeader`).
public struct NotifyConsumerIdsChangedRequestHeader: RPCRequestHeader, Hashable {
    /// The group whose membership changed.
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
        fields.put("consumerGroup", consumerGroup)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("nsd", nsd)
    }
}

/// The request header of CONSUMER_SEND_MSG_BACK (36) (Java `ConsumerSendMsgBackRequestHeader`).
public struct ConsumerSendMsgBackRequestHeader: RPCRequestHeader, Hashable {
    /// The message's commit-log (physical) offset.
    public var offset: Int64
    /// Consumer group.
    public var group: String
    /// 0 = let the broker choose (3 + reconsumeTimes); negative = straight to the DLQ.
    public var delayLevel: Int32
    /// The message id (UNIQ_KEY if present, else the offset message id).
    public var originMsgId: String?
    /// The message's topic.
    public var originTopic: String?
    /// Java primitive `boolean`, always written.
    public var unitMode: Bool
    /// Maximum reconsume count (16 for concurrent consumers by default).
    public var maxReconsumeTimes: Int32?
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields

    /// Creates a header.
    public init(
        offset: Int64, group: String, delayLevel: Int32, originMsgId: String? = nil, originTopic: String? = nil,
        unitMode: Bool = false, maxReconsumeTimes: Int32? = nil, ns: String? = nil, nsd: Bool? = nil,
        bname: String? = nil, oway: Bool? = nil
    ) {
        self.offset = offset
        self.group = group
        self.delayLevel = delayLevel
        self.originMsgId = originMsgId
        self.originTopic = originTopic
        self.unitMode = unitMode
        self.maxReconsumeTimes = maxReconsumeTimes
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
    }

    public init(fields: ExtFields) throws {
        offset = try fields.required("offset")
        group = try fields.required("group")
        delayLevel = try fields.required("delayLevel")
        originMsgId = try fields.optional("originMsgId")
        originTopic = try fields.optional("originTopic")
        unitMode = try fields.optional("unitMode") ?? false
        maxReconsumeTimes = try fields.optional("maxReconsumeTimes")
        rpc = try RPCRequestFields(fields: fields)
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("maxReconsumeTimes", maxReconsumeTimes)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("originTopic", originTopic)
        fields.put("oway", oway)
        fields.put("delayLevel", delayLevel)
        fields.put("offset", offset)
        fields.put("originMsgId", originMsgId)
        fields.put("group", group)
        fields.put("unitMode", unitMode)
        fields.put("nsd", nsd)
    }
}

/// The request header of LOCK_BATCH_MQ (41) (Java `LockBatchMqRequestHeader`): only the 5.x common fields; the queues
/// are in the body (``LockBatchRequestBody``).
public struct LockBatchMQRequestHeader: RPCRequestHeader, Hashable {
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields

    /// Creates a header (normally empty).
    public init(ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil) {
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
    }

    public init(fields: ExtFields) throws {
        rpc = try RPCRequestFields(fields: fields)
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("nsd", nsd)
    }
}

/// The request header of UNLOCK_BATCH_MQ (42) (Java `UnlockBatchMqRequestHeader`): only the 5.x common fields; the
/// queues are in the body (``UnlockBatchRequestBody``).
public struct UnlockBatchMQRequestHeader: RPCRequestHeader, Hashable {
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields

    /// Creates a header (normally empty).
    public init(ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil) {
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
    }

    public init(fields: ExtFields) throws {
        rpc = try RPCRequestFields(fields: fields)
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("nsd", nsd)
    }
}
