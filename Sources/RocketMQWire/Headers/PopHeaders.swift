import Foundation
import NIOCore

// POP consumption (RocketMQ 5): the broker hands out messages and takes them back after their invisible time unless
// they are acknowledged. The codes are above Int16, so these requests travel with JSON headers only.

/// How a POP starts on a queue with no consumed offset yet (Java `ConsumeInitMode`).
public enum PopInitMode: Int32, Sendable, Hashable {
    /// From the first message (`MIN`, 0).
    case min = 0
    /// From the last message (`MAX`, 1).
    case max = 1
}

/// The request header of POP_MESSAGE (200050) (Java `PopMessageRequestHeader`).
public struct PopMessageRequestHeader: RPCRequestHeader, Hashable {
    /// Consumer group.
    public var consumerGroup: String
    /// Topic.
    public var topic: String
    /// The queue, or -1 for every queue of the topic on the broker.
    public var queueId: Int32
    /// At most this many messages (32 at most).
    public var maxMsgNums: Int32
    /// Milliseconds the popped messages stay invisible to other pops unless acknowledged.
    public var invisibleTime: Int64
    /// Milliseconds the broker may hold the request while there is nothing to pop (long polling).
    public var pollTime: Int64
    /// When the client sent it (ms since 1970): the broker's long-polling deadline is `bornTime + pollTime`.
    public var bornTime: Int64
    /// Where to start without a consumed offset.
    public var initMode: Int32
    /// Filter type (`TAG`, `SQL92`); nil is `TAG`.
    public var expType: String?
    /// Filter expression; nil is `*`.
    public var exp: String?
    /// Ordered pop: a queue stays locked until its popped messages are acknowledged (Java writes `false` by default).
    public var order: Bool?
    /// Identifies retries of one pop attempt (ordered pop).
    public var attemptId: String?
    /// The 5.x common fields.
    public var rpc: RPCRequestFields
    /// Logic queue marker.
    public var lo: Bool?

    /// Creates a header.
    public init(
        consumerGroup: String, topic: String, queueId: Int32 = -1, maxMsgNums: Int32, invisibleTime: Int64,
        pollTime: Int64, bornTime: Int64, initMode: Int32 = PopInitMode.max.rawValue, expType: String? = nil,
        exp: String? = nil, order: Bool? = false, attemptId: String? = nil, ns: String? = nil, nsd: Bool? = nil,
        bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.queueId = queueId
        self.maxMsgNums = maxMsgNums
        self.invisibleTime = invisibleTime
        self.pollTime = pollTime
        self.bornTime = bornTime
        self.initMode = initMode
        self.expType = expType
        self.exp = exp
        self.order = order
        self.attemptId = attemptId
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        consumerGroup = try fields.required("consumerGroup")
        topic = try fields.required("topic")
        queueId = try fields.required("queueId")
        maxMsgNums = try fields.required("maxMsgNums")
        invisibleTime = try fields.required("invisibleTime")
        pollTime = try fields.required("pollTime")
        bornTime = try fields.required("bornTime")
        initMode = try fields.required("initMode")
        expType = try fields.optional("expType")
        exp = try fields.optional("exp")
        order = try fields.optional("order")
        attemptId = try fields.optional("attemptId")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("pollTime", pollTime)
        fields.put("bornTime", bornTime)
        fields.put("ns", ns)
        fields.put("topic", topic)
        fields.put("expType", expType)
        fields.put("exp", exp)
        fields.put("consumerGroup", consumerGroup)
        fields.put("lo", lo)
        fields.put("order", order)
        fields.put("attemptId", attemptId)
        fields.put("invisibleTime", invisibleTime)
        fields.put("queueId", queueId)
        fields.put("maxMsgNums", maxMsgNums)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("initMode", initMode)
        fields.put("nsd", nsd)
    }
}

/// The response header of POP_MESSAGE and PEEK_MESSAGE (Java `PopMessageResponseHeader`).
public struct PopMessageResponseHeader: RemotingHeader, Hashable {
    /// When the broker popped the messages (ms since 1970).
    public var popTime: Int64
    /// Their invisible time (ms).
    public var invisibleTime: Int64
    /// The revive queue holding their checkpoint (999 for ordered pops).
    public var reviveQid: Int32
    /// Messages left in the queues visited.
    public var restNum: Int64
    /// `"{retryFlag} {queueId} {startOffset}"` per queue, `;`-separated.
    public var startOffsetInfo: String?
    /// `"{retryFlag} {queueId} {offset,offset,...}"` per queue, `;`-separated.
    public var msgOffsetInfo: String?
    /// Ordered pops: `"{retryFlag} qo{queueId}%{offset} {count}"` per message (and per queue), `;`-separated.
    public var orderCountInfo: String?

    /// Creates a header.
    public init(
        popTime: Int64, invisibleTime: Int64, reviveQid: Int32, restNum: Int64, startOffsetInfo: String? = nil,
        msgOffsetInfo: String? = nil, orderCountInfo: String? = nil
    ) {
        self.popTime = popTime
        self.invisibleTime = invisibleTime
        self.reviveQid = reviveQid
        self.restNum = restNum
        self.startOffsetInfo = startOffsetInfo
        self.msgOffsetInfo = msgOffsetInfo
        self.orderCountInfo = orderCountInfo
    }

    public init(fields: ExtFields) throws {
        popTime = try fields.required("popTime")
        invisibleTime = try fields.required("invisibleTime")
        reviveQid = try fields.required("reviveQid")
        restNum = try fields.required("restNum")
        startOffsetInfo = try fields.optional("startOffsetInfo")
        msgOffsetInfo = try fields.optional("msgOffsetInfo")
        orderCountInfo = try fields.optional("orderCountInfo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("restNum", restNum)
        fields.put("popTime", popTime)
        fields.put("orderCountInfo", orderCountInfo)
        fields.put("reviveQid", reviveQid)
        fields.put("msgOffsetInfo", msgOffsetInfo)
        fields.put("invisibleTime", invisibleTime)
        fields.put("startOffsetInfo", startOffsetInfo)
    }
}

/// The request header of ACK_MESSAGE (200051) (Java `AckMessageRequestHeader`), and with ``invisibleTime`` of
/// CHANGE_MESSAGE_INVISIBLETIME (200053) (Java `ChangeInvisibleTimeRequestHeader`).
public struct AckMessageRequestHeader: RPCRequestHeader, Hashable {
    /// Consumer group.
    public var consumerGroup: String
    /// The topic the message was popped from (the pop retry topic for a retried message).
    public var topic: String
    /// Its queue.
    public var queueId: Int32
    /// The receipt (``PopReceipt``'s text).
    public var extraInfo: String
    /// Its queue offset.
    public var offset: Int64
    /// CHANGE_MESSAGE_INVISIBLETIME only: the new invisible time from now (ms).
    public var invisibleTime: Int64?
    /// The 5.x common fields.
    public var rpc: RPCRequestFields
    /// Logic queue marker.
    public var lo: Bool?

    /// Creates a header (with `invisibleTime` for CHANGE_MESSAGE_INVISIBLETIME).
    public init(
        consumerGroup: String, topic: String, queueId: Int32, extraInfo: String, offset: Int64,
        invisibleTime: Int64? = nil, ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil,
        lo: Bool? = nil
    ) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.queueId = queueId
        self.extraInfo = extraInfo
        self.offset = offset
        self.invisibleTime = invisibleTime
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    /// The header of the receipt `receipt` for the message at `receipt.queueOffset` in `topic` (Java's `ackAsync`
    /// takes queue and offset from the receipt).
    public init(consumerGroup: String, topic: String, receipt: PopReceipt, invisibleTime: Int64? = nil) {
        self.init(
            consumerGroup: consumerGroup, topic: topic, queueId: receipt.queueId, extraInfo: receipt.text,
            offset: receipt.queueOffset, invisibleTime: invisibleTime, bname: receipt.brokerName)
    }

    public init(fields: ExtFields) throws {
        consumerGroup = try fields.required("consumerGroup")
        topic = try fields.required("topic")
        queueId = try fields.required("queueId")
        extraInfo = try fields.required("extraInfo")
        offset = try fields.required("offset")
        invisibleTime = try fields.optional("invisibleTime")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        // Java has two classes (their reflection orders differ): ChangeInvisibleTimeRequestHeader when there is an
        // invisible time, AckMessageRequestHeader otherwise.
        if invisibleTime != nil {
            fields.put("offset", offset)
            fields.put("queueId", queueId)
            fields.put("ns", ns)
            fields.put("bname", bname)
            fields.put("invisibleTime", invisibleTime)
            fields.put("oway", oway)
            fields.put("extraInfo", extraInfo)
            fields.put("consumerGroup", consumerGroup)
            fields.put("topic", topic)
            fields.put("lo", lo)
            fields.put("nsd", nsd)
            return
        }
        fields.put("consumerGroup", consumerGroup)
        fields.put("extraInfo", extraInfo)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("topic", topic)
        fields.put("offset", offset)
        fields.put("lo", lo)
        fields.put("queueId", queueId)
        fields.put("nsd", nsd)
    }
}

/// The response header of CHANGE_MESSAGE_INVISIBLETIME (Java `ChangeInvisibleTimeResponseHeader`): the new receipt
/// is built from it.
public struct ChangeInvisibleTimeResponseHeader: RemotingHeader, Hashable {
    /// The new pop time (ms since 1970; the original one for ordered pops).
    public var popTime: Int64
    /// The new invisible time (ms).
    public var invisibleTime: Int64
    /// The revive queue.
    public var reviveQid: Int32

    /// Creates a header.
    public init(popTime: Int64, invisibleTime: Int64, reviveQid: Int32) {
        self.popTime = popTime
        self.invisibleTime = invisibleTime
        self.reviveQid = reviveQid
    }

    public init(fields: ExtFields) throws {
        popTime = try fields.required("popTime")
        invisibleTime = try fields.required("invisibleTime")
        reviveQid = try fields.required("reviveQid")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("invisibleTime", invisibleTime)
        fields.put("popTime", popTime)
        fields.put("reviveQid", reviveQid)
    }
}

/// The request header of PEEK_MESSAGE (200052) (Java `PeekMessageRequestHeader`): messages without popping them.
public struct PeekMessageRequestHeader: RPCRequestHeader, Hashable {
    /// Topic.
    public var topic: String
    /// Queue.
    public var queueId: Int32
    /// At most this many messages.
    public var maxMsgNums: Int32
    /// Consumer group (whose offset the peek starts at).
    public var consumerGroup: String
    /// The 5.x common fields.
    public var rpc: RPCRequestFields
    /// Logic queue marker.
    public var lo: Bool?

    /// Creates a header.
    public init(
        topic: String, queueId: Int32, maxMsgNums: Int32, consumerGroup: String, ns: String? = nil, nsd: Bool? = nil,
        bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.topic = topic
        self.queueId = queueId
        self.maxMsgNums = maxMsgNums
        self.consumerGroup = consumerGroup
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        topic = try fields.required("topic")
        queueId = try fields.required("queueId")
        maxMsgNums = try fields.required("maxMsgNums")
        consumerGroup = try fields.required("consumerGroup")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("consumerGroup", consumerGroup)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("oway", oway)
        fields.put("topic", topic)
        fields.put("maxMsgNums", maxMsgNums)
        fields.put("lo", lo)
        fields.put("queueId", queueId)
        fields.put("nsd", nsd)
    }
}

/// The request header of NOTIFICATION (200054) (Java `NotificationRequestHeader`): is there anything to pop? (long
/// polling like POP_MESSAGE, without popping).
public struct NotificationRequestHeader: RPCRequestHeader, Hashable {
    /// Consumer group.
    public var consumerGroup: String
    /// Topic.
    public var topic: String
    /// Queue, or -1 for every queue.
    public var queueId: Int32
    /// How long the broker may hold the request (ms).
    public var pollTime: Int64
    /// When the client sent it (ms since 1970).
    public var bornTime: Int64
    /// Ordered consumption.
    public var order: Bool?
    /// Pop attempt id.
    public var attemptId: String?
    /// The 5.x common fields.
    public var rpc: RPCRequestFields
    /// Logic queue marker.
    public var lo: Bool?

    /// Creates a header.
    public init(
        consumerGroup: String, topic: String, queueId: Int32 = -1, pollTime: Int64, bornTime: Int64, order: Bool? = false,
        attemptId: String? = nil, ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil,
        lo: Bool? = nil
    ) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.queueId = queueId
        self.pollTime = pollTime
        self.bornTime = bornTime
        self.order = order
        self.attemptId = attemptId
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    public init(fields: ExtFields) throws {
        consumerGroup = try fields.required("consumerGroup")
        topic = try fields.required("topic")
        queueId = try fields.required("queueId")
        pollTime = try fields.required("pollTime")
        bornTime = try fields.required("bornTime")
        order = try fields.optional("order")
        attemptId = try fields.optional("attemptId")
        rpc = try RPCRequestFields(fields: fields)
        lo = try fields.optional("lo")
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("consumerGroup", consumerGroup)
        fields.put("order", order)
        fields.put("attemptId", attemptId)
        fields.put("ns", ns)
        fields.put("bname", bname)
        fields.put("topic", topic)
        fields.put("oway", oway)
        fields.put("pollTime", pollTime)
        fields.put("queueId", queueId)
        fields.put("lo", lo)
        fields.put("bornTime", bornTime)
        fields.put("nsd", nsd)
    }
}

/// The response header of NOTIFICATION (Java `NotificationResponseHeader`).
public struct NotificationResponseHeader: RemotingHeader, Hashable {
    /// Whether there is something to pop.
    public var hasMsg: Bool
    /// The broker holds too many polls already.
    public var pollingFull: Bool

    /// Creates a header.
    public init(hasMsg: Bool, pollingFull: Bool = false) {
        self.hasMsg = hasMsg
        self.pollingFull = pollingFull
    }

    public init(fields: ExtFields) throws {
        hasMsg = try fields.optional("hasMsg") ?? false
        pollingFull = try fields.optional("pollingFull") ?? false
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("hasMsg", hasMsg)
        fields.put("pollingFull", pollingFull)
    }
}
