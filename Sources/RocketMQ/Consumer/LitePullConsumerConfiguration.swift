/// Settings of a ``LitePullConsumer``. Defaults are Java's `DefaultLitePullConsumer`'s.
public struct LitePullConsumerConfiguration: Sendable {
    /// The consumer group.
    public var group: String
    /// Where to start on a queue the group has no committed offset for.
    public var startPoint: ConsumeStartPoint = .lastOffset
    /// How subscribed queues are shared among the group's members (default: averagely, as Java).
    public var allocationStrategy: any AllocationStrategy = AllocateAveragely()
    /// Messages per pull, and so at most per ``LitePullConsumer/poll(timeout:)`` (`pullBatchSize`, 10).
    public var pullBatchSize: Int32 = 10
    /// Flow control: buffered messages per queue before its pulling pauses (`pullThresholdForQueue`, 1000).
    public var pullThresholdForQueue = 1000
    /// Flow control: buffered bytes per queue (`pullThresholdSizeForQueue`, 100 MiB).
    public var pullThresholdSizeForQueue = 100 * 1024 * 1024
    /// Flow control: buffered messages across all queues (`pullThresholdForAll`, 10 000).
    public var pullThresholdForAll = 10_000
    /// Commit what ``LitePullConsumer/poll(timeout:)`` returned automatically (`autoCommit`, true).
    public var autoCommit = true
    /// How often offsets are committed (`autoCommitIntervalMillis`, 5 s); with `autoCommit` off, only offsets
    /// passed to ``LitePullConsumer/commit()`` whose commit failed are retried at this pace.
    public var autoCommitInterval: Duration = .seconds(5)
    /// How long the broker holds an empty pull (`brokerSuspendMaxTimeMillis`, 20 s).
    public var longPollingTimeout: Duration = .seconds(20)
    /// The pull RPC timeout (`consumerTimeoutMillisWhenSuspend`, 30 s); must exceed `longPollingTimeout`.
    public var pullTimeout: Duration = .seconds(30)
    /// Delay after a pull error (`pullTimeDelayMillsWhenException`, 1 s).
    public var pullRetryDelay: Duration = .seconds(1)
    /// Periodic rebalance interval (20 s); rebalances also run at once on membership changes.
    public var rebalanceInterval: Duration = .seconds(20)

    /// Creates a configuration for consumer group `group`.
    public init(group: String) {
        self.group = group
    }

    func validate() throws {
        guard !group.isEmpty else { throw RocketMQError(.invalidArgument, "consumer group is empty") }
        guard pullBatchSize >= 1, pullThresholdForQueue >= 1, pullThresholdSizeForQueue >= 1, pullThresholdForAll >= 1 else {
            throw RocketMQError(.invalidArgument, "pullBatchSize and the pull thresholds must be >= 1")
        }
        guard autoCommitInterval > .zero, rebalanceInterval > .zero, pullRetryDelay >= .zero else {
            throw RocketMQError(.invalidArgument, "intervals must be positive")
        }
        guard pullTimeout > longPollingTimeout else {
            throw RocketMQError(.invalidArgument, "pullTimeout must be greater than longPollingTimeout")
        }
    }
}
