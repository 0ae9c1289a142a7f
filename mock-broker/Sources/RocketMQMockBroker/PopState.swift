import Foundation
import NIOCore
import RocketMQWire

/// One non-ordered pop of one queue (Java's `PopCheckPoint`): the offsets still owed an ack. When
/// `popTime + invisibleTime` passes, each of them is revived to the pop retry topic.
struct PopCheckpoint: Hashable, Sendable {
    var group: String
    /// The topic the messages were popped from: the requested topic or its pop retry topic.
    var topic: String
    var queueId: Int32
    /// The offset the pop started reading at (the receipt's `ckQueueOffset`).
    var startOffset: Int64
    var popTime: Int64
    var invisibleTime: Int64
    var reviveQid: Int32
    /// Popped offsets not yet acknowledged.
    var pending: Set<Int64>

    var reviveTime: Int64 { popTime &+ invisibleTime }
}

/// What an ordered pop of one queue handed out (Java's `ConsumerOrderInfoManager.OrderInfo`).
struct PopOrderInfo: Sendable {
    var popTime: Int64
    var invisibleTime: Int64
    /// The offsets popped, in order.
    var offsets: [Int64]
    /// Offsets acknowledged among `offsets`.
    var acked: Set<Int64> = []
    /// How often each offset was popped again (0 the first time: Java's `offsetConsumedCount`).
    var counts: [Int64: Int32] = [:]
    /// CHANGE_MESSAGE_INVISIBLETIME of one offset: when it becomes visible again.
    var nextVisible: [Int64: Int64] = [:]

    /// Whether the queue is blocked for other pops at `now`: an offset popped is unacked and still invisible.
    func blocks(now: Int64) -> Bool {
        offsets.contains { offset in
            !acked.contains(offset) && now < (nextVisible[offset] ?? (popTime &+ invisibleTime))
        }
    }
}

/// A POP_MESSAGE or NOTIFICATION held while there is nothing to pop (Java's `PopLongPollingService`).
struct HeldPop {
    enum Kind { case pop, notification }
    var kind: Kind
    var connection: MockConnection
    var request: RemotingCommand
    var group: String
    var topic: String
    var queueId: Int32
    /// `bornTime + pollTime`.
    var expiry: Int64
    var timeout: Scheduled<Void>?

    /// Whether a new message in `key` may interest it (the topic, or its pop retry topic).
    func interested(in key: QueueKey) -> Bool {
        if key.topic == topic { return queueId < 0 || queueId == key.queueId }
        return key.topic == PopRetryFlag.retry.realTopic(topic, group: group)
    }
}

/// The broker's POP bookkeeping.
struct PopState {
    var checkpoints: [Int: PopCheckpoint] = [:]
    var nextCheckpointID = 0
    /// Ordered pops by `topic@group@queueId`.
    var orders: [String: PopOrderInfo] = [:]
    var holds: [Int: HeldPop] = [:]
    var nextHoldID = 0
    /// Java's `ckMessageNumber`: non-ordered pops rotate over the revive queues.
    var ckCounter = 0
    var dirty = false

    mutating func add(_ ck: PopCheckpoint) {
        checkpoints[nextCheckpointID] = ck
        nextCheckpointID += 1
        dirty = true
    }

    /// Acknowledges `offset` in the checkpoint matching the receipt fields; false when none matches (revived,
    /// acknowledged already or unknown: Java answers SUCCESS all the same).
    @discardableResult
    mutating func ack(group: String, topic: String, queueId: Int32, startOffset: Int64, popTime: Int64, offset: Int64) -> Bool {
        guard let (id, _) = checkpoints.first(where: { _, ck in
            ck.group == group && ck.topic == topic && ck.queueId == queueId && ck.startOffset == startOffset
                && ck.popTime == popTime && ck.pending.contains(offset)
        }) else { return false }
        checkpoints[id]?.pending.remove(offset)
        if checkpoints[id]?.pending.isEmpty == true { checkpoints[id] = nil }
        dirty = true
        return true
    }

    static func orderKey(group: String, topic: String, queueId: Int32) -> String { "\(topic)@\(group)@\(queueId)" }

    // MARK: persistence (popCheckpoints.json)

    var json: JSONValue {
        let list = checkpoints.sorted { $0.key < $1.key }.map { _, ck in
            JSONValue.object([
                "c": .string(ck.group), "t": .string(ck.topic), "q": .int(Int64(ck.queueId)), "so": .int(ck.startOffset),
                "pt": .int(ck.popTime), "it": .int(ck.invisibleTime), "rq": .int(Int64(ck.reviveQid)),
                "pending": .array(ck.pending.sorted().map { .int($0) }),
            ])
        }
        return .object(["checkpoints": .array(list)])
    }

    static func loadCheckpoints(from directory: URL) -> [PopCheckpoint] {
        let url = directory.appendingPathComponent("popCheckpoints.json")
        guard let data = try? Data(contentsOf: url), let json = try? JSONParser.parse(Array(data)),
            let list = json["checkpoints"]?.arrayValue
        else { return [] }
        return list.compactMap { v in
            guard let c = v["c"]?.stringValue, let t = v["t"]?.stringValue, let q = v["q"]?.int32Value,
                let so = v["so"]?.int64Value, let pt = v["pt"]?.int64Value, let it = v["it"]?.int64Value,
                let rq = v["rq"]?.int32Value, let pending = v["pending"]?.arrayValue
            else { return nil }
            let offsets = Set(pending.compactMap(\.int64Value))
            guard !offsets.isEmpty else { return nil }
            return PopCheckpoint(
                group: c, topic: t, queueId: q, startOffset: so, popTime: pt, invisibleTime: it, reviveQid: rq, pending: offsets)
        }
    }
}
