/// Message trace: a record of each send, each handling and each transaction outcome, written as ordinary messages to
/// a trace topic, the way Java clients do it with `enableMsgTrace` (RocketMQ 5.3.3's `AsyncTraceDispatcher`).
///
/// Set it as ``ProducerConfiguration/messageTrace`` or ``ConsumerConfiguration/messageTrace`` (`nil`, the default,
/// traces nothing and costs nothing). A traced producer writes a `Pub` record for every send the broker stored
/// (single, ordered, batch, transactional, request-reply; a oneway send has no answer and, as in Java, no record) and
/// an `EndTransaction` record for each transaction outcome it tells a broker; a traced push consumer writes a
/// `SubBefore` and a `SubAfter` record around each handler call.
///
/// Records are never sent in the traced call: they are offered to a bounded buffer (a full buffer drops the record
/// and counts it) and sent in the background of the client's `run()`, batched by traced topic, through the client's
/// own connections. A trace that cannot be written is counted and logged at debug level; it never fails or slows the
/// user's sends or handlers. On shutdown, buffered records are sent within ``shutdownFlushTimeout``.
///
/// **Compatibility.** The records are byte-for-byte Java's (see ``MessageTraceCodec``) and each trace message's `KEYS`
/// are the traced message ids and message keys, so `mqadmin queryMsgTraceById -i <msgId>` (with `-t <topic>` for a
/// custom ``traceTopic``) and the RocketMQ Dashboard's message trace view show Swift and Java clients' traces alike.
/// The brokers must accept writes to the trace topic: `traceTopicEnable=true` creates `RMQ_SYS_TRACE_TOPIC`, else
/// it is auto-created like any topic (`autoCreateTopicEnable`) or must be created by hand.
public struct MessageTraceConfiguration: Sendable, Hashable {
    /// The topic trace messages are written to (Java's `customizedTraceTopic`; default `RMQ_SYS_TRACE_TOPIC`,
    /// `TopicValidator.RMQ_SYS_TRACE_TOPIC`). The default is a system topic and never namespaced; a custom topic is.
    public var traceTopic: String = MessageTraceConfiguration.defaultTraceTopic
    /// Records sent in one trace message at most (Java's `traceMsgBatchNum`, 10; Java caps it at 20, as this does).
    public var batchSize: Int = 10
    /// The largest body of one trace message, in bytes (Java's trace producer's `maxMessageSize`, 128000): a batch
    /// whose records would exceed it is split over several messages.
    public var maxMessageSize: Int = 128_000
    /// Records waiting to be sent at most (Java's trace context queue, 2048); records offered beyond it are dropped
    /// and counted (``MessageTraceStatistics/recordsDropped``).
    public var bufferCapacity: Int = 2048
    /// Buffered records are sent at least this often even when fewer than ``batchSize`` wait (Java's
    /// `flushTraceInterval`, 5 s).
    public var flushInterval: Duration = .seconds(5)
    /// The budget of one trace message's send (Java's trace producer's `sendMsgTimeout`, 5 s).
    public var sendTimeout: Duration = .seconds(5)
    /// Trace messages being sent at once at most (4, as Java's trace executor has 4 threads, though each of those
    /// sends asynchronously). It bounds what tracing takes from the client and the brokers: a producer sending faster
    /// than the trace keeps up with fills the buffer and drops records rather than slowing down. Raise it to keep more
    /// records under heavy load.
    public var concurrentSends: Int = 4
    /// How long shutdown spends sending the records still buffered before it gives up on them (Java waits up to 5 s
    /// for its trace executor).
    public var shutdownFlushTimeout: Duration = .seconds(5)

    /// Java's default trace topic, `RMQ_SYS_TRACE_TOPIC`.
    public static let defaultTraceTopic = "RMQ_SYS_TRACE_TOPIC"
    /// The largest ``batchSize`` honoured (Java's cap).
    public static let maxBatchSize = 20

    /// Creates a configuration with Java's defaults, writing to `traceTopic`.
    public init(traceTopic: String = MessageTraceConfiguration.defaultTraceTopic) {
        self.traceTopic = traceTopic
    }

    /// Checks the settings; ``Producer`` and ``PushConsumer`` call it when created.
    ///
    /// - Throws: ``RocketMQError`` `.invalidArgument` for an invalid trace topic name, or a size, capacity or
    ///   duration that is not positive.
    public func validate() throws {
        do { try Validators.checkTopic(traceTopic) } catch let error as RocketMQError {
            throw RocketMQError(.invalidArgument, "message trace: \(error.remark)")
        }
        guard batchSize >= 1, maxMessageSize >= 1, bufferCapacity >= 1, concurrentSends >= 1 else {
            throw RocketMQError(.invalidArgument, "message trace: batchSize, maxMessageSize, bufferCapacity and concurrentSends must be >= 1")
        }
        guard flushInterval > .zero, sendTimeout > .zero, shutdownFlushTimeout >= .zero else {
            throw RocketMQError(.invalidArgument, "message trace: flushInterval and sendTimeout must be positive, shutdownFlushTimeout not negative")
        }
    }

    /// The batch size in force (``batchSize`` capped at ``maxBatchSize``).
    var effectiveBatchSize: Int { min(max(batchSize, 1), Self.maxBatchSize) }
}

/// What a client's message trace has done so far.
public struct MessageTraceStatistics: Sendable, Hashable {
    /// Records offered to the buffer (each traced send, handled message, transaction outcome).
    public var recordsOffered = 0
    /// Records dropped because the buffer was full.
    public var recordsDropped = 0
    /// Records in trace messages the broker stored.
    public var recordsSent = 0
    /// Records lost because their trace message could not be sent (or shutdown ran out of time for them).
    public var recordsFailed = 0
    /// Trace messages the broker stored.
    public var messagesSent = 0
    /// Trace messages that could not be sent.
    public var messagesFailed = 0

    /// Creates empty statistics.
    public init() {}
}
