import Foundation
import NIOCore

// What POP hands out with each message and takes back with each ack: the receipt (`POP_CK` / `extraInfo`), the
// offset infos of a POP response, and the bit sets of a batch ack.

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
