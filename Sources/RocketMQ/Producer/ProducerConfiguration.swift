import RocketMQWire

/// Settings of a `Producer`. Defaults are Java's `DefaultMQProducer`'s, except the compression algorithm (zstd).
public struct ProducerConfiguration: Sendable {
    /// The producer group.
    public var group: String
    /// The whole budget of one `send`, retries included (`sendMsgTimeout`, 3 s).
    public var sendTimeout: Duration = .seconds(3)
    /// Extra attempts on another broker for retryable failures (`retryTimesWhenSendFailed`, 2).
    public var retries: Int = 2
    /// Bodies of at least this many bytes are compressed (`compressMsgBodyOverHowmuch`, 4 KiB).
    public var compressionThreshold: Int = 4096
    /// The algorithm for large bodies (zstd by default; zlib is Java's default; `nil` disables compression).
    public var compression: CompressionType? = .zstd
    /// The compression level (`compressLevel`, 5).
    public var compressionLevel: Int32 = 5
    /// The largest body accepted (`maxMessageSize`, 4 MiB).
    public var maxMessageSize: Int = 4 * 1024 * 1024
    /// Avoid brokers for a while after slow or failed sends (`sendLatencyFaultEnable`). Draining brokers are always
    /// avoided.
    public var latencyFaultTolerance = true
    /// Queues per broker used for a topic the name server does not know yet (auto-created via TBW102).
    public var defaultTopicQueueNums: Int32 = 4
    /// Retry on another broker when the broker stored the message but reports a flush/slave problem
    /// (`retryAnotherBrokerWhenNotStoreOK`, false).
    public var retryAnotherBrokerWhenNotStoreOK = false
    /// Transaction checks answered at once (Java's `checkThreadPoolMaxSize`, 1); more wait in a backlog.
    public var transactionCheckConcurrency = 4
    /// Transaction checks waiting beyond ``transactionCheckConcurrency`` (`checkRequestHoldMax`, 2000). A check that
    /// finds the backlog full is dropped with a warning; the broker asks again at its next check interval.
    public var transactionCheckBacklog = 2000
    /// Message trace (Java's `enableMsgTrace` with `customizedTraceTopic`): a `Pub` record of every stored send and an
    /// `EndTransaction` record of every transaction outcome, written to the trace topic in the background, where
    /// `mqadmin queryMsgTraceById` and the Dashboard find them. `nil` (the default) traces nothing, at no cost. See
    /// ``MessageTraceConfiguration``.
    public var messageTrace: MessageTraceConfiguration?

    /// Creates a configuration for producer group `group`.
    public init(group: String) {
        self.group = group
    }
}
