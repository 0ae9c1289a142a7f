/// The request header of QUERY_CONSUMER_OFFSET (14) (Java `QueryConsumerOffsetRequestHeader`).
public struct QueryConsumerOffsetRequestHeader: RPCRequestHeader, Hashable {
    /// Consumer group.
    public var consumerGroup: String
    /// Topic.
    public var topic: String
    /// Queue id.
    public var queueId: Int32
    /// Ask the broker to answer 0 instead of QUERY_NOT_FOUND when it can (the Java client never sets it).
    public var setZeroIfNotFound: Bool?
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        consumerGroup: String, topic: String, queueId: Int32, setZeroIfNotFound: Bool? = nil, ns: String? = nil,
        nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.queueId = queueId
        self.setZeroIfNotFound = setZeroIfNotFound
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        consumerGroup = try fields.required("consumerGroup")
        topic = try fields.required("topic")
        queueId = try fields.required("queueId")
        setZeroIfNotFound = try fields.optional("setZeroIfNotFound")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("topic", topic)
        fields.put("setZeroIfNotFound", setZeroIfNotFound)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("consumerGroup", consumerGroup)
        fields.put("queueId", queueId)
        fields.put("lo", lo)
        fields.put("nsd", nsd)
    }
}

/// The response header of a successful QUERY_CONSUMER_OFFSET (Java `QueryConsumerOffsetResponseHeader`).
///
/// A QUERY_NOT_FOUND (22) response carries an empty header; check the code before decoding.
public struct QueryConsumerOffsetResponseHeader: RemotingHeader, Hashable {
    /// The stored offset.
    public var offset: Int64

    /// Creates a header.
    public init(offset: Int64) { self.offset = offset }

    public init(fields: ExtFields) throws { offset = try fields.required("offset") }

    public func encode(into fields: inout ExtFields) { fields.put("offset", offset) }
}

/// The request header of UPDATE_CONSUMER_OFFSET (15) (Java `UpdateConsumerOffsetRequestHeader`).
public struct UpdateConsumerOffsetRequestHeader: RPCRequestHeader, Hashable {
    /// Consumer group.
    public var consumerGroup: String
    /// Topic.
    public var topic: String
    /// Queue id.
    public var queueId: Int32
    /// The offset to store.
    public var commitOffset: Int64
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        consumerGroup: String, topic: String, queueId: Int32, commitOffset: Int64, ns: String? = nil,
        nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.queueId = queueId
        self.commitOffset = commitOffset
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        consumerGroup = try fields.required("consumerGroup")
        topic = try fields.required("topic")
        queueId = try fields.required("queueId")
        commitOffset = try fields.required("commitOffset")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("queueId", queueId)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("commitOffset", commitOffset)
        fields.put("topic", topic)
        fields.put("consumerGroup", consumerGroup)
        fields.put("lo", lo)
        fields.put("nsd", nsd)
    }
}

/// The (empty) response header of UPDATE_CONSUMER_OFFSET (Java `UpdateConsumerOffsetResponseHeader`).
public struct UpdateConsumerOffsetResponseHeader: RemotingHeader, Hashable {
    /// Creates the header.
    public init() {}
    public init(fields: ExtFields) throws {}
    public func encode(into fields: inout ExtFields) {}
}

/// The request header of GET_MAX_OFFSET (30) (Java `GetMaxOffsetRequestHeader`).
public struct GetMaxOffsetRequestHeader: RPCRequestHeader, Hashable {
    /// Topic.
    public var topic: String
    /// Queue id.
    public var queueId: Int32
    /// Java primitive `boolean`, `true` unless set; always written.
    public var committed: Bool
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        topic: String, queueId: Int32, committed: Bool = true, ns: String? = nil, nsd: Bool? = nil,
        bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.topic = topic
        self.queueId = queueId
        self.committed = committed
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        topic = try fields.required("topic")
        queueId = try fields.required("queueId")
        committed = try fields.optional("committed") ?? true
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("committed", committed)
        fields.put("queueId", queueId)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("topic", topic)
        fields.put("lo", lo)
        fields.put("nsd", nsd)
    }
}

/// The request header of GET_MIN_OFFSET (31) (Java `GetMinOffsetRequestHeader`).
public struct GetMinOffsetRequestHeader: RPCRequestHeader, Hashable {
    /// Topic.
    public var topic: String
    /// Queue id.
    public var queueId: Int32
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        topic: String, queueId: Int32, ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil,
        lo: Bool? = nil
    ) {
        self.topic = topic
        self.queueId = queueId
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        topic = try fields.required("topic")
        queueId = try fields.required("queueId")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("topic", topic)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("queueId", queueId)
        fields.put("lo", lo)
        fields.put("nsd", nsd)
    }
}

/// Which offset SEARCH_OFFSET_BY_TIMESTAMP returns when several messages share the timestamp (Java `BoundaryType`).
public enum BoundaryType: String, Hashable, Sendable, HeaderFieldValue {
    /// The first matching offset (the default).
    case lower = "LOWER"
    /// The last matching offset.
    case upper = "UPPER"

    /// Java's `BoundaryType.getType`: a case-insensitive `upper` is ``upper``, anything else ``lower``.
    public init(headerText: String) {
        self = headerText.lowercased() == "upper" ? .upper : .lower
    }

    /// The enum name Java writes (`LOWER` / `UPPER`).
    public var headerText: String { rawValue }
}

/// The request header of SEARCH_OFFSET_BY_TIMESTAMP (29) (Java `SearchOffsetRequestHeader`).
public struct SearchOffsetRequestHeader: RPCRequestHeader, Hashable {
    /// Topic.
    public var topic: String
    /// Queue id.
    public var queueId: Int32
    /// The store time to search for, in ms.
    public var timestamp: Int64
    /// Which end of equal timestamps to return; the broker assumes ``BoundaryType/lower`` when absent.
    public var boundaryType: BoundaryType?
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        topic: String, queueId: Int32, timestamp: Int64, boundaryType: BoundaryType? = nil, ns: String? = nil,
        nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.topic = topic
        self.queueId = queueId
        self.timestamp = timestamp
        self.boundaryType = boundaryType
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        topic = try fields.required("topic")
        queueId = try fields.required("queueId")
        timestamp = try fields.required("timestamp")
        boundaryType = try fields.optional("boundaryType")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("timestamp", timestamp)
        fields.put("boundaryType", boundaryType)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("topic", topic)
        fields.put("lo", lo)
        fields.put("queueId", queueId)
        fields.put("nsd", nsd)
    }
}

/// The response header of SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX_OFFSET (30) and GET_MIN_OFFSET (31) (Java
/// `SearchOffsetResponseHeader`, `GetMaxOffsetResponseHeader`, `GetMinOffsetResponseHeader`).
public struct OffsetResponseHeader: RemotingHeader, Hashable {
    /// The offset found.
    public var offset: Int64

    /// Creates a header.
    public init(offset: Int64) { self.offset = offset }

    public init(fields: ExtFields) throws { offset = try fields.required("offset") }

    public func encode(into fields: inout ExtFields) { fields.put("offset", offset) }
}

/// The request header of GET_EARLIEST_MSG_STORETIME (32) (Java `GetEarliestMsgStoretimeRequestHeader`).
public struct GetEarliestMsgStoreTimeRequestHeader: RPCRequestHeader, Hashable {
    /// Topic.
    public var topic: String
    /// Queue id.
    public var queueId: Int32
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header.
    public init(
        topic: String, queueId: Int32, ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil,
        lo: Bool? = nil
    ) {
        self.topic = topic
        self.queueId = queueId
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        topic = try fields.required("topic")
        queueId = try fields.required("queueId")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("queueId", queueId)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("topic", topic)
        fields.put("lo", lo)
        fields.put("nsd", nsd)
    }
}

/// The response header of GET_EARLIEST_MSG_STORETIME (Java `GetEarliestMsgStoretimeResponseHeader`).
public struct GetEarliestMsgStoreTimeResponseHeader: RemotingHeader, Hashable {
    /// The store time of the queue's earliest message, in ms.
    public var timestamp: Int64

    /// Creates a header.
    public init(timestamp: Int64) { self.timestamp = timestamp }

    public init(fields: ExtFields) throws { timestamp = try fields.required("timestamp") }

    public func encode(into fields: inout ExtFields) { fields.put("timestamp", timestamp) }
}
