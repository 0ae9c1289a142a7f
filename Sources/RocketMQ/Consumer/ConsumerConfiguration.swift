import RocketMQWire

/// How a consumer group shares messages.
public enum MessageModelKind: Sendable, Hashable {
    /// Queues are allocated among the group's members; each message goes to one member. Offsets live on the broker.
    case clustering
    /// Every member gets every message. Offsets live in a local file.
    case broadcasting
}

/// Where a group starts on a queue it has no committed offset for.
public enum ConsumeStartPoint: Sendable, Hashable {
    /// The queue's end (new messages only) — Java's `CONSUME_FROM_LAST_OFFSET`.
    case lastOffset
    /// The queue's beginning — `CONSUME_FROM_FIRST_OFFSET`.
    case firstOffset
    /// The first message stored at or after this time (ms since 1970) — `CONSUME_FROM_TIMESTAMP`.
    case timestamp(Int64)
}

/// Settings of a `PushConsumer`. Defaults are Java's `DefaultMQPushConsumer`'s.
public struct ConsumerConfiguration: Sendable {
    /// The consumer group.
    public var group: String
    /// Clustering (default) or broadcasting.
    public var messageModel: MessageModelKind = .clustering
    /// Where to start without a committed offset.
    public var startPoint: ConsumeStartPoint = .lastOffset
    /// How queues are shared among members (default: averagely, as Java).
    public var allocationStrategy: any AllocationStrategy = AllocateAveragely()
    /// Consume each queue serially under a broker lock (orderly); clustering only.
    public var orderly = false
    /// Handler calls running at once (concurrent mode; Java's `consumeThreadMax`, 20).
    public var maxConcurrency = 20
    /// Messages per handler call (`consumeMessageBatchMaxSize`, 1).
    public var consumeBatchSize = 1
    /// Messages per pull (`pullBatchSize`, 32).
    public var pullBatchSize: Int32 = 32
    /// Flow control: cached messages per queue before pulling pauses (`pullThresholdForQueue`, 1000).
    public var pullThresholdForQueue = 1000
    /// Flow control: cached bytes per queue (`pullThresholdSizeForQueue`, 100 MiB).
    public var pullThresholdSizeForQueue = 100 * 1024 * 1024
    /// Flow control: largest offset span of cached messages (`consumeConcurrentlyMaxSpan`, 2000).
    public var consumeConcurrentlyMaxSpan: Int64 = 2000
    /// How long the broker holds an empty pull (`brokerSuspendMaxTimeMillis`, 15 s).
    public var longPollingTimeout: Duration = .seconds(15)
    /// The pull RPC timeout (30 s).
    public var pullTimeout: Duration = .seconds(30)
    /// Delay after a pull error (`pullTimeDelayMillsWhenException`, 1 s).
    public var pullRetryDelay: Duration = .seconds(1)
    /// How often offsets are committed to the broker (`persistConsumerOffsetInterval`, 5 s).
    public var offsetCommitInterval: Duration = .seconds(5)
    /// Periodic rebalance interval (20 s); rebalances also run at once on membership changes.
    public var rebalanceInterval: Duration = .seconds(20)
    /// Deliveries before a failing message goes to the dead-letter queue (`maxReconsumeTimes`; 16, or unlimited
    /// when orderly).
    public var maxReconsumeTimes: Int32 = 16
    /// How long an orderly queue waits before redelivering a failed batch (`suspendCurrentQueueTimeMillis`, 1 s).
    public var orderlyRetryDelay: Duration = .seconds(1)
    /// Bounded wait for in-flight handlers at shutdown.
    public var shutdownTimeout: Duration = .seconds(10)
    /// Where broadcasting consumers keep offsets (default `~/.rocketmq_offsets`).
    public var localOffsetDirectory: String?
    /// POP mode (RocketMQ 5; clustering, handler only): the brokers hand out messages, there is no client-side
    /// rebalancing and no pause when members come and go. `nil` (the default) consumes by pulling owned queues.
    public var pop: PopSettings?
    /// Message trace (Java's `enableMsgTrace` with `customizedTraceTopic`): a `SubBefore` and a `SubAfter` record
    /// around every handler call (pull and POP modes, concurrent and orderly; not for messages read through
    /// ``PushConsumer/messages``, which have no handler), written to the trace topic in the background, where
    /// `mqadmin queryMsgTraceById` and the Dashboard find them. `nil` (the default) traces nothing, at no cost. See
    /// ``MessageTraceConfiguration``.
    public var messageTrace: MessageTraceConfiguration?

    /// Creates a configuration for consumer group `group`.
    public init(group: String) {
        self.group = group
    }
}

/// What a handler says about the messages it was given.
public enum ConsumeResult: Sendable, Hashable {
    /// Handled: the offset may be committed past them.
    case success
    /// Failed: redeliver later (concurrent: through the broker's retry topic with backoff; orderly: the same queue
    /// after `orderlyRetryDelay`).
    case retryLater
}

/// How a ``PushConsumer`` consumes in POP mode (Java's push consumer with POP message request mode).
public struct PopSettings: Sendable, Hashable {
    /// How long a message handed to the handler stays invisible to the group (Java's `popInvisibleTime`, 60 s).
    public var invisibleDuration: Duration = .seconds(60)
    /// Messages per POP request (`popBatchNums`, 32 at most).
    public var batchSize = 32
    /// How long a failed message stays invisible before its redelivery, by its reconsume count (Java's
    /// `popDelayLevel`: 10 s, 30 s, 1 min, 2 min, … 2 h; the last entry repeats).
    public var retryDelays: [Duration] = [10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200]
        .map { .seconds($0) }

    /// Java's defaults.
    public init() {}
}
