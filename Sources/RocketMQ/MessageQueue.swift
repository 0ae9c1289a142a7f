/// One queue of a topic on one broker: the unit that producers choose and consumers are allocated.
///
/// Mirrors Java's `org.apache.rocketmq.common.message.MessageQueue`: equality, ordering and ``description`` follow
/// Java exactly, because consumers of one group (in any language) must sort queues and hash their text identically
/// to agree on who owns what.
public struct MessageQueue: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The broker group (`brokerName`) that hosts the queue.
    public var brokerName: String
    /// The queue number within the topic on that broker.
    public var queueId: Int32

    /// Creates a queue reference.
    public init(topic: String, brokerName: String, queueId: Int32) {
        self.topic = topic
        self.brokerName = brokerName
        self.queueId = queueId
    }

    /// Java's `toString()`: `MessageQueue [topic=T, brokerName=B, queueId=Q]`.
    ///
    /// ``AllocateConsistentHash`` hashes exactly this text.
    public var description: String {
        "MessageQueue [topic=\(topic), brokerName=\(brokerName), queueId=\(queueId)]"
    }

    /// Java's `equals`: identical code units in topic and brokerName, same queueId.
    public static func == (lhs: MessageQueue, rhs: MessageQueue) -> Bool {
        lhs.queueId == rhs.queueId && JavaStringOrder.equals(lhs.brokerName, rhs.brokerName)
            && JavaStringOrder.equals(lhs.topic, rhs.topic)
    }

    /// Hashes the exact bytes, consistent with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(queueId)
        Self.combineBytes(of: topic, into: &hasher)
        Self.combineBytes(of: brokerName, into: &hasher)
    }

    private static func combineBytes(of string: String, into hasher: inout Hasher) {
        hasher.combine(string.utf8.count)
        let done: Void? = string.utf8.withContiguousStorageIfAvailable {
            hasher.combine(bytes: UnsafeRawBufferPointer($0))
        }
        if done == nil {  // a bridged, non-contiguous string: same bytes, same hash
            Array(string.utf8).withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    /// Java's `compareTo` order: topic, then brokerName (both by `String.compareTo`, UTF-16 code units), then queueId.
    ///
    /// Java compares queue ids as `this.queueId - o.queueId`, which overflows only for ids more than 2^31 apart
    /// (real ids are small and non-negative); here they are compared as numbers, keeping the order a strict one.
    public static func < (lhs: MessageQueue, rhs: MessageQueue) -> Bool {
        let topicOrder = JavaStringOrder.compare(lhs.topic, rhs.topic)
        if topicOrder != 0 { return topicOrder < 0 }
        let brokerOrder = JavaStringOrder.compare(lhs.brokerName, rhs.brokerName)
        if brokerOrder != 0 { return brokerOrder < 0 }
        return lhs.queueId < rhs.queueId
    }
}
