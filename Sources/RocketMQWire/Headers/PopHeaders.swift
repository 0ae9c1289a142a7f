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

/// Which topic a popped message came from, as flagged in its receipt (Java `ExtraInfoUtil`'s retry flag).
public enum PopRetryFlag: String, Sendable, Hashable {
    /// The topic itself (`"0"`).
    case normal = "0"
    /// The pop retry topic `%RETRY%{group}_{topic}` (`"1"`, the default naming).
    case retry = "1"
    /// The pop retry topic `%RETRY%{group}+{topic}` (`"2"`, brokers with `enableRetryTopicV2`).
    case retryV2 = "2"

    /// The flag of messages popped from `topic`.
    public init(topic: String) {
        if topic.hasPrefix("%RETRY%") {
            self = topic.contains("+") ? .retryV2 : .retry
        } else {
            self = .normal
        }
    }

    /// The topic messages with this flag were popped from, for a pop of `topic` by `group` (Java `getRealTopic`).
    public func realTopic(_ topic: String, group: String) -> String {
        switch self {
        case .normal: topic
        case .retry: "%RETRY%\(group)_\(topic)"
        case .retryV2: "%RETRY%\(group)+\(topic)"
        }
    }
}

/// The receipt of a popped message (the `POP_CK` property; Java `ExtraInfoUtil`'s `extraInfo`): eight
/// space-separated fields `ckQueueOffset popTime invisibleTime reviveQid retryFlag brokerName queueId queueOffset`,
/// and a ninth, the commit-log offset, when a gRPC proxy made it.
public struct PopReceipt: Sendable, Hashable, CustomStringConvertible {
    /// The reviveQid of ordered pops (`KeyBuilder.POP_ORDER_REVIVE_QUEUE`).
    public static let orderReviveQueueId: Int32 = 999

    /// The first offset of the pop's checkpoint.
    public var ckQueueOffset: Int64
    /// When it was popped (ms since 1970).
    public var popTime: Int64
    /// Its invisible time (ms).
    public var invisibleTime: Int64
    /// The revive queue of its checkpoint (999: ordered pop).
    public var reviveQueueId: Int32
    /// Which topic it came from.
    public var retryFlag: PopRetryFlag
    /// The broker that popped it.
    public var brokerName: String
    /// Its queue.
    public var queueId: Int32
    /// Its queue offset.
    public var queueOffset: Int64
    /// The commit-log offset (receipts made by a gRPC proxy).
    public var commitLogOffset: Int64?

    /// Creates a receipt.
    public init(
        ckQueueOffset: Int64, popTime: Int64, invisibleTime: Int64, reviveQueueId: Int32, retryFlag: PopRetryFlag,
        brokerName: String, queueId: Int32, queueOffset: Int64, commitLogOffset: Int64? = nil
    ) {
        self.ckQueueOffset = ckQueueOffset
        self.popTime = popTime
        self.invisibleTime = invisibleTime
        self.reviveQueueId = reviveQueueId
        self.retryFlag = retryFlag
        self.brokerName = brokerName
        self.queueId = queueId
        self.queueOffset = queueOffset
        self.commitLogOffset = commitLogOffset
    }

    /// Parses a receipt; throws `WireError(.invalidIdentifier, …)` naming what is wrong.
    public init(parsing text: String) throws {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 8 || parts.count == 9 else {
            throw WireError(.invalidIdentifier, "pop receipt \(text.debugDescription) has \(parts.count) fields, not 8")
        }
        func number<T: FixedWidthInteger>(_ index: Int, _ name: String, as: T.Type) throws -> T {
            guard let value = T(parts[index], radix: 10) else {
                throw WireError(.invalidIdentifier, "pop receipt field \(name) \(String(parts[index]).debugDescription) is not a number")
            }
            return value
        }
        ckQueueOffset = try number(0, "ckQueueOffset", as: Int64.self)
        popTime = try number(1, "popTime", as: Int64.self)
        invisibleTime = try number(2, "invisibleTime", as: Int64.self)
        reviveQueueId = try number(3, "reviveQid", as: Int32.self)
        guard let flag = PopRetryFlag(rawValue: String(parts[4])) else {
            throw WireError(.invalidIdentifier, "pop receipt retry flag \(String(parts[4]).debugDescription) is not 0, 1 or 2")
        }
        retryFlag = flag
        guard !parts[5].isEmpty else { throw WireError(.invalidIdentifier, "pop receipt has no broker name") }
        brokerName = String(parts[5])
        queueId = try number(6, "queueId", as: Int32.self)
        queueOffset = try number(7, "queueOffset", as: Int64.self)
        commitLogOffset = parts.count == 9 ? try number(8, "commitLogOffset", as: Int64.self) : nil
        guard queueId >= 0, queueOffset >= 0, ckQueueOffset >= 0, invisibleTime >= 0 else {
            throw WireError(.invalidIdentifier, "pop receipt \(text.debugDescription) has a negative queue, offset or time")
        }
    }

    /// The receipt's text (what `POP_CK` and `extraInfo` carry).
    public var text: String {
        var s = "\(ckQueueOffset) \(popTime) \(invisibleTime) \(reviveQueueId) \(retryFlag.rawValue) \(brokerName) \(queueId) \(queueOffset)"
        if let commitLogOffset { s += " \(commitLogOffset)" }
        return s
    }

    public var description: String { text }

    /// Whether it came from an ordered pop.
    public var isOrdered: Bool { reviveQueueId == Self.orderReviveQueueId }

    /// When the message becomes visible again unless acknowledged (ms since 1970).
    public var nextVisibleTime: Int64 { popTime &+ invisibleTime }
}

/// The `startOffsetInfo` / `msgOffsetInfo` / `orderCountInfo` strings of a POP response (Java `ExtraInfoUtil`'s
/// `parse…Info`): `;`-separated entries of three space-separated parts, keyed `"{retryFlag}@{second part}"`.
public enum PopOffsetInfo {
    /// `startOffsetInfo`: key `"{flag}@{queueId}"` → the pop's first offset in that queue.
    public static func startOffsets(_ text: String?) throws -> [String: Int64] {
        try entries(text, "startOffsetInfo").mapValues { value in
            guard let offset = Int64(value) else { throw WireError(.invalidHeaderField, "startOffsetInfo offset \(value.debugDescription) is not a number") }
            return offset
        }
    }

    /// `msgOffsetInfo`: key `"{flag}@{queueId}"` → the popped offsets of that queue, in order.
    public static func messageOffsets(_ text: String?) throws -> [String: [Int64]] {
        try entries(text, "msgOffsetInfo").mapValues { value in
            try value.split(separator: ",").map { part in
                guard let offset = Int64(part) else { throw WireError(.invalidHeaderField, "msgOffsetInfo offset \(String(part).debugDescription) is not a number") }
                return offset
            }
        }
    }

    /// `orderCountInfo`: key `"{flag}@qo{queueId}%{offset}"` (or `"{flag}@{queueId}"`) → how often it was popped.
    public static func orderCounts(_ text: String?) throws -> [String: Int32] {
        try entries(text, "orderCountInfo").mapValues { value in
            guard let count = Int32(value) else { throw WireError(.invalidHeaderField, "orderCountInfo count \(value.debugDescription) is not a number") }
            return count
        }
    }

    /// The key of a queue (`"{flag}@{queueId}"`).
    public static func queueKey(_ flag: PopRetryFlag, queueId: Int32) -> String { "\(flag.rawValue)@\(queueId)" }

    /// The key of a message in `orderCountInfo` (`"{flag}@qo{queueId}%{offset}"`).
    public static func orderKey(_ flag: PopRetryFlag, queueId: Int32, offset: Int64) -> String {
        "\(flag.rawValue)@qo\(queueId)%\(offset)"
    }

    /// One entry of `startOffsetInfo` (`"{flag} {queueId} {startOffset}"`).
    public static func startOffsetEntry(_ flag: PopRetryFlag, queueId: Int32, startOffset: Int64) -> String {
        "\(flag.rawValue) \(queueId) \(startOffset)"
    }

    /// One entry of `msgOffsetInfo` (`"{flag} {queueId} {o1,o2,...}"`).
    public static func messageOffsetsEntry(_ flag: PopRetryFlag, queueId: Int32, offsets: [Int64]) -> String {
        "\(flag.rawValue) \(queueId) \(offsets.map(String.init).joined(separator: ","))"
    }

    private static func entries(_ text: String?, _ what: String) throws -> [String: String] {
        guard let text, !text.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for entry in text.split(separator: ";") {
            let parts = entry.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3 else {
                throw WireError(.invalidHeaderField, "\(what) entry \(String(entry).debugDescription) does not have 3 parts")
            }
            let key = "\(parts[0])@\(parts[1])"
            guard out.updateValue(String(parts[2]), forKey: key) == nil else {
                throw WireError(.invalidHeaderField, "\(what) names \(key) twice")
            }
        }
        return out
    }
}

/// One entry of a BATCH_ACK_MESSAGE body (Java `BatchAck`): the acknowledged messages of one checkpoint as a bit set
/// over offsets from `startOffset`.
public struct BatchAck: Sendable, Hashable {
    /// Consumer group (`c`).
    public var consumerGroup: String
    /// The topic popped (`t`), without the retry prefix.
    public var topic: String
    /// Which topic (`r`).
    public var retryFlag: PopRetryFlag
    /// The checkpoint's first offset (`so`).
    public var startOffset: Int64
    /// Queue (`q`).
    public var queueId: Int32
    /// Revive queue (`rq`).
    public var reviveQueueId: Int32
    /// Pop time (`pt`).
    public var popTime: Int64
    /// Invisible time (`it`).
    public var invisibleTime: Int64
    /// Acknowledged offsets as `offset - startOffset` (`b`, a Java `BitSet`, base64 of its little-endian bytes).
    public var bits: Set<Int>

    /// Creates an entry.
    public init(
        consumerGroup: String, topic: String, retryFlag: PopRetryFlag, startOffset: Int64, queueId: Int32,
        reviveQueueId: Int32, popTime: Int64, invisibleTime: Int64, bits: Set<Int>
    ) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.retryFlag = retryFlag
        self.startOffset = startOffset
        self.queueId = queueId
        self.reviveQueueId = reviveQueueId
        self.popTime = popTime
        self.invisibleTime = invisibleTime
        self.bits = bits
    }

    /// The acknowledged queue offsets.
    public var offsets: [Int64] { bits.sorted().map { startOffset + Int64($0) } }

    /// The bit set as Java's `BitSet.toByteArray()` (little-endian, no trailing zero bytes).
    var bitBytes: [UInt8] {
        guard let top = bits.max() else { return [] }
        var bytes = [UInt8](repeating: 0, count: top / 8 + 1)
        for bit in bits where bit >= 0 { bytes[bit / 8] |= 1 << UInt8(bit % 8) }
        return bytes
    }

    static func bits(from bytes: [UInt8]) -> Set<Int> {
        var out = Set<Int>()
        for (i, byte) in bytes.enumerated() {
            for b in 0..<8 where byte & (1 << UInt8(b)) != 0 { out.insert(i * 8 + b) }
        }
        return out
    }
}

/// The body of BATCH_ACK_MESSAGE (200151; no custom header) (Java `BatchAckMessageRequestBody`).
public struct BatchAckMessageRequestBody: JSONBody, Hashable {
    /// The broker the acks are for.
    public var brokerName: String
    /// The checkpoints acknowledged.
    public var acks: [BatchAck]

    /// Creates the body.
    public init(brokerName: String, acks: [BatchAck]) {
        self.brokerName = brokerName
        self.acks = acks
    }

    public init(json: JSONValue) throws {
        let root = try JSONObjectReader(json, "BatchAckMessageRequestBody")
        brokerName = try root.optionalString("brokerName") ?? ""
        acks = try root.array("acks").map { value in
            let r = try JSONObjectReader(value, "BatchAck")
            func pick(_ short: String, _ long: String) -> String { r.value(short) != nil ? short : long }
            let flagText = try r.optionalString(pick("r", "retry")) ?? "0"
            guard let flag = PopRetryFlag(rawValue: flagText) else {
                throw WireError(.malformedJSON, "BatchAck retry flag \(flagText.debugDescription) is not 0, 1 or 2")
            }
            let encoded = try r.optionalString(pick("b", "bitSet")) ?? ""
            guard let data = Data(base64Encoded: encoded) else {
                throw WireError(.malformedJSON, "BatchAck bit set \(encoded.prefix(40).debugDescription) is not base64")
            }
            return BatchAck(
                consumerGroup: try r.string(pick("c", "consumerGroup")), topic: try r.string(pick("t", "topic")),
                retryFlag: flag, startOffset: try r.int64(pick("so", "startOffset")), queueId: try r.int32(pick("q", "queueId")),
                reviveQueueId: try r.int32(pick("rq", "reviveQueueId")), popTime: try r.int64(pick("pt", "popTime")),
                invisibleTime: try r.int64(pick("it", "invisibleTime")), bits: BatchAck.bits(from: Array(data)))
        }
    }

    public var json: JSONValue {
        jsonObject([
            ("acks", .array(acks.map { ack in
                jsonObject([
                    ("b", .string(Data(ack.bitBytes).base64EncodedString())), ("c", .string(ack.consumerGroup)),
                    ("it", .int(ack.invisibleTime)), ("pt", .int(ack.popTime)), ("q", .int(Int64(ack.queueId))),
                    ("r", .string(ack.retryFlag.rawValue)), ("rq", .int(Int64(ack.reviveQueueId))),
                    ("so", .int(ack.startOffset)), ("t", .string(ack.topic)),
                ])
            })),
            ("brokerName", .string(brokerName)),
        ])
    }
}
