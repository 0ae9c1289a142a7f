import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import RocketMQRemoting
import RocketMQWire
import ServiceLifecycle
import Synchronization

/// Consumes messages pushed to a handler (or an `AsyncSequence`) while sharing queues with the rest of its group.
///
/// A `Service`: pulls (long polling), rebalancing, offset commits and heartbeats run inside ``run()``. Cancelling it
/// or a graceful shutdown stops pulling, waits (bounded) for in-flight handlers, commits offsets, unregisters from
/// the brokers and closes connections.
///
/// Two ways to consume:
/// - a handler: `PushConsumer(configuration:client:handler:)` — called with batches (concurrently up to
///   `maxConcurrency`, or serially per queue when `orderly`); return `.success` or `.retryLater`;
/// - ``messages``: `for try await message in consumer.messages { ...; consumer.acknowledge(message) }`. Unacknowledged
///   messages count against the flow-control thresholds, so a slow reader pauses pulling (bounded memory).
///
/// An offset is committed only past messages whose handler succeeded (or that went to the retry topic).
public final class PushConsumer: Sendable, Service {
    /// A message handler.
    public typealias Handler = @Sendable ([ReceivedMessage]) async throws -> ConsumeResult

    /// The consumer's settings.
    public let configuration: ConsumerConfiguration
    let core: ClientCore
    let offsets: OffsetStore
    let handler: Handler?
    let logger: Logger
    let state: Mutex<State>
    let work = WorkQueue()
    let stream: AsyncStream<ReceivedMessage>
    let streamContinuation: AsyncStream<ReceivedMessage>.Continuation
    let rebalanceSignals: AsyncStream<Void>
    let rebalanceContinuation: AsyncStream<Void>.Continuation
    let metrics: ConsumerMetrics
    /// The group name on the wire (namespace applied).
    let group: String
    /// POP mode's engine (``ConsumerConfiguration/pop``), on this consumer's core.
    let popEngine: SimpleConsumer?
    /// Sends this consumer's trace records (nil: ``ConsumerConfiguration/messageTrace`` is off).
    let messageTrace: MessageTraceDispatcher?

    struct State {
        var subscriptions: [String: SubscriptionData] = [:]
        var processQueues: [MessageQueue: ProcessQueue] = [:]
        /// Each owned queue's pull loop (and, orderly, its consume loop): jobs of the client's background tasks.
        var tasks: [MessageQueue: StoppableJob] = [:]
        var orderlyStreams: [MessageQueue: AsyncStream<[ReceivedMessage]>.Continuation] = [:]
        var running = false
        var stopping = false
        var rebalances = 0
        /// Rebalance rounds run, and the longest (for diagnostics).
        var rebalanceRounds = 0
        var longestRebalanceRound: Duration = .zero
        /// Each topic's queues in the route the last rebalance of it saw.
        var routeQueues: [String: Set<MessageQueue>] = [:]
        /// The current rebalance round left something undone (a route, member list or start offset it could not get).
        var roundIncomplete = false
        var inFlight = 0
    }

    /// Creates a consumer that hands messages to `handler`.
    public convenience init(
        configuration: ConsumerConfiguration, client: ClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "rocketmq.consumer"),
        handler: @escaping Handler
    ) throws {
        try self.init(configuration: configuration, client: client, eventLoopGroup: eventLoopGroup, logger: logger, handler: Optional(handler))
    }

    /// Creates a consumer read through ``messages``.
    public convenience init(
        configuration: ConsumerConfiguration, client: ClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "rocketmq.consumer")
    ) throws {
        try self.init(configuration: configuration, client: client, eventLoopGroup: eventLoopGroup, logger: logger, handler: nil)
    }

    private init(
        configuration: ConsumerConfiguration, client: ClientConfiguration, eventLoopGroup: any EventLoopGroup,
        logger: Logger, handler: Handler?
    ) throws {
        guard !configuration.group.isEmpty else { throw RocketMQError(.invalidArgument, "consumer group is empty") }
        guard configuration.maxConcurrency >= 1, configuration.consumeBatchSize >= 1, configuration.pullBatchSize >= 1 else {
            throw RocketMQError(.invalidArgument, "maxConcurrency, consumeBatchSize and pullBatchSize must be >= 1")
        }
        if configuration.pop != nil {
            guard configuration.messageModel == .clustering, handler != nil else {
                throw RocketMQError(.invalidArgument, "POP mode needs the clustering model and a handler")
            }
            if case .timestamp = configuration.startPoint {
                throw RocketMQError(.invalidArgument, "POP consumption cannot start at a timestamp")
            }
            guard let pop = configuration.pop, (1...32).contains(pop.batchSize), !pop.retryDelays.isEmpty,
                pop.invisibleDuration >= .seconds(1)
            else {
                throw RocketMQError(.invalidArgument, "POP mode needs batchSize in 1...32, retry delays and an invisible duration of at least 1 s")
            }
        }
        try configuration.messageTrace?.validate()
        if configuration.orderly {
            guard configuration.messageModel == .clustering else {
                throw RocketMQError(.invalidArgument, "orderly consumption needs the clustering model")
            }
            guard handler != nil else {
                throw RocketMQError(.invalidArgument, "orderly consumption needs a handler")
            }
        }
        self.configuration = configuration
        self.handler = handler
        let core = try ClientCore(configuration: client, eventLoopGroup: eventLoopGroup, logger: logger)
        self.core = core
        self.group = client.wrap(configuration.group)
        var logger = logger
        logger[metadataKey: "rocketmq.client"] = "\(core.clientID)"
        logger[metadataKey: "rocketmq.group"] = "\(configuration.group)"
        self.logger = logger
        switch configuration.messageModel {
        case .clustering:
            offsets = OffsetStore(kind: .remote, group: group, core: core)
        case .broadcasting:
            let base = configuration.localOffsetDirectory
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".rocketmq_offsets").path
            let path = URL(fileURLWithPath: base).appendingPathComponent(core.clientID.replacingOccurrences(of: "/", with: "_"))
                .appendingPathComponent(group).appendingPathComponent("offsets.json")
            offsets = OffsetStore(kind: .local(path: path), group: group, core: core)
        }
        if let pop = configuration.pop {
            var popConfiguration = SimpleConsumerConfiguration(group: configuration.group)
            popConfiguration.invisibleDuration = pop.invisibleDuration
            popConfiguration.awaitDuration = configuration.longPollingTimeout
            popConfiguration.startPoint = configuration.startPoint
            popConfiguration.orderly = configuration.orderly
            popEngine = SimpleConsumer(configuration: popConfiguration, core: core, logger: logger)
        } else {
            popEngine = nil
        }
        (stream, streamContinuation) = AsyncStream.makeStream(of: ReceivedMessage.self)
        (rebalanceSignals, rebalanceContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        metrics = ConsumerMetrics(group: configuration.group)
        state = Mutex(State())
        messageTrace = configuration.messageTrace.map { trace in
            let ip = MessageHost((client.clientIP ?? ClientConfiguration.localIPv4() ?? "127.0.0.1") + ":0")?.ip ?? [127, 0, 0, 1]
            let ids = UniqueIDGenerator(ip: ip, pid: Int32(truncatingIfNeeded: getpid()), seed: Int32.random(in: .min ... .max))
            return MessageTraceDispatcher(configuration: trace, group: configuration.group, role: .consume, core: core, ids: ids, logger: logger)
        }
    }

    /// The client id this consumer reports.
    public var clientID: String { core.clientID }

    /// Subscribes to `topic` with a tag expression (`*`, `TagA`, `TagA || TagB`). May be called while running.
    public func subscribe(_ topic: String, expression: String = "*") throws {
        try Validators.checkTopic(topic)
        let wrapped = core.wrap(topic)
        let data: SubscriptionData
        do {
            data = try SubscriptionData.build(topic: wrapped, expression: expression, type: ExpressionType.tag, subVersion: ClientCore.nowMillis())
        } catch {
            throw RocketMQError(.invalidArgument, "bad subscription expression \(expression.debugDescription): \(error)")
        }
        state.withLock { $0.subscriptions[wrapped] = data }
        core.addTopic(wrapped)
        rebalanceNow()
    }

    /// Subscribes to `topic` with an SQL92 filter on message properties (`a > 5 AND region = 'eu'`), evaluated by
    /// the broker (which needs `enablePropertyFilter=true`; brokers without it refuse such pulls).
    ///
    /// - Throws: ``RocketMQError`` `.invalidArgument` for an expression RocketMQ's SQL92 parser would refuse (checked
    ///   here with ``SQL92Expression``, so the mistake surfaces at once rather than as refused pulls).
    public func subscribe(_ topic: String, sql: String) throws {
        try Validators.checkTopic(topic)
        let wrapped = core.wrap(topic)
        let data = try SubscriptionData.sql92(topic: wrapped, sql)
        state.withLock { $0.subscriptions[wrapped] = data }
        core.addTopic(wrapped)
        rebalanceNow()
    }

    /// Stops consuming `topic` (its queues are released at the next rebalance, which runs at once).
    public func unsubscribe(_ topic: String) {
        let wrapped = core.wrap(topic)
        _ = state.withLock { $0.subscriptions.removeValue(forKey: wrapped) }
        rebalanceNow()
    }

    /// Messages, for consumers created without a handler. Iterate once; acknowledge each message with
    /// ``acknowledge(_:)`` (or ``retryLater(_:)``).
    public var messages: AsyncStream<ReceivedMessage> { stream }

    /// Marks a message from ``messages`` handled, so its offset may be committed.
    public func acknowledge(_ message: ReceivedMessage) {
        complete([message])
    }

    /// Sends a message from ``messages`` back for a later redelivery (the group's retry topic).
    public func retryLater(_ message: ReceivedMessage) async {
        await handleFailure([message])
    }

    /// The queues this member currently owns.
    public var ownedQueues: [MessageQueue] {
        state.withLock { s in s.processQueues.keys.sorted() }.map { q in
            var q = q
            q.topic = core.unwrap(q.topic)
            return q
        }
    }

    /// Messages pulled but not yet handled (or acknowledged), across owned queues: what flow control bounds.
    public var cachedMessageCount: Int {
        state.withLock { Array($0.processQueues.values) }.reduce(0) { $0 + $1.state.withLock { $0.cachedCount } }
    }

    /// Connections this consumer re-established, and GO_AWAY answers it handled.
    public var connectionStatistics: (reconnects: Int, goAways: Int) {
        let c = core.counters
        return (c.reconnects, c.goAways)
    }

    /// How many rebalances changed this member's queues.
    public var rebalanceCount: Int { state.withLock { $0.rebalances } }

    /// What message trace did: records sent, dropped (buffer full) and failed (nil when it is off).
    public var messageTraceStatistics: MessageTraceStatistics? { messageTrace?.statistics }

    /// Asks for a rebalance now (coalesced with others pending).
    func rebalanceNow() { rebalanceContinuation.yield() }

    // MARK: lifecycle

    /// Runs until cancelled or a graceful shutdown, then stops as described on the type.
    public func run() async throws {
        let subscribed = state.withLock { s -> Bool in
            s.running = true
            return !s.subscriptions.isEmpty
        }
        guard subscribed else { throw RocketMQError(.invalidArgument, "subscribe to at least one topic before run()") }
        if configuration.messageModel == .clustering && popEngine == nil {
            let retry = "%RETRY%" + group
            if let data = try? SubscriptionData.build(topic: retry, expression: "*", type: "TAG") {
                state.withLock { $0.subscriptions[retry] = data }
                core.addTopic(retry)
            }
        }
        core.registerConsumer(group: group, ConsumerRegistration(
            data: { [weak self] in self?.heartbeatEntry() ?? ConsumerData(groupName: "", consumeType: .consumePassively, messageModel: .clustering, consumeFromWhere: .consumeFromLastOffset, subscriptionDataSet: [], unitMode: false) },
            rebalanceNow: { [weak self] in self?.rebalanceNow() }))
        let notify = ClosureRequestProcessor { [weak self] request, _ in
            if request.requestCode == .notifyConsumerIdsChanged { self?.rebalanceNow() }
            return nil
        }
        core.remoting.register(notify, for: [.notifyConsumerIdsChanged])

        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                await withDiscardingTaskGroup { group in
                    group.addTask { await self.core.run() }
                    if let messageTrace = self.messageTrace { group.addTask { await messageTrace.run() } }
                    if let engine = self.popEngine {
                        // POP: no rebalancing, no offsets to commit; each worker pops, handles, acknowledges.
                        for _ in 0..<self.configuration.maxConcurrency {
                            group.addTask { await self.popWorker(engine) }
                        }
                        return
                    }
                    group.addTask { await self.rebalanceLoop() }
                    group.addTask { await self.commitLoop() }
                    if self.handler != nil && !self.configuration.orderly {
                        for _ in 0..<self.configuration.maxConcurrency {
                            group.addTask { await self.worker() }
                        }
                    }
                    if self.configuration.orderly {
                        group.addTask { await self.lockLoop() }
                    }
                }
            }
        } onGracefulShutdown: {}
        // run() is usually cancelled by now; the shutdown requests (offset commits, unregister) must not be.
        await Task { await self.stop() }.value  // unstructured: awaited at once; shields shutdown from run()'s cancellation
    }

    /// Stop pulling → wait (bounded) for in-flight handlers → send buffered trace records (bounded) → commit offsets →
    /// unregister → close.
    private func stop() async {
        let (queues, tasks, orderly) = state.withLock { s -> ([ProcessQueue], [StoppableJob], [AsyncStream<[ReceivedMessage]>.Continuation]) in
            s.stopping = true
            return (Array(s.processQueues.values), Array(s.tasks.values), Array(s.orderlyStreams.values))
        }
        for t in tasks { t.cancel() }
        work.finish()
        for c in orderly { c.finish() }
        streamContinuation.finish()
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.shutdownTimeout
        while state.withLock({ $0.inFlight }) > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for q in queues { q.drop() }
        await messageTrace?.drain()
        await offsets.persist(sync: true)
        if configuration.orderly { await unlock(queues.map(\.queue)) }
        await core.unregister(producerGroup: nil, consumerGroup: group)
        core.unregisterConsumer(group: group)
        await core.shutdown()
        rebalanceContinuation.finish()
    }

    /// This group's heartbeat entry.
    func heartbeatEntry() -> ConsumerData {
        let subs = state.withLock { Array($0.subscriptions.values) }.sorted { $0.topic < $1.topic }
        let from: ConsumeFromWhere
        switch configuration.startPoint {
        case .lastOffset: from = .consumeFromLastOffset
        case .firstOffset: from = .consumeFromFirstOffset
        case .timestamp: from = .consumeFromTimestamp
        }
        return ConsumerData(
            groupName: group, consumeType: popEngine == nil ? .consumePassively : .consumePop,
            messageModel: configuration.messageModel == .clustering ? .clustering : .broadcasting,
            consumeFromWhere: from, subscriptionDataSet: subs, unitMode: false)
    }

    var isStopping: Bool { state.withLock { $0.stopping } }
}

extension PushConsumer {
    /// POP mode: pops up to ``PopSettings/batchSize`` messages at a time (long polling), hands them to the handler
    /// `consumeBatchSize` at a time and acknowledges the handled ones together (one BATCH_ACK per broker) once the
    /// popped batch is through; a failed chunk becomes invisible for its retry delay (orderly: `orderlyRetryDelay`) and
    /// comes back from the broker. Ends when cancelled or stopping.
    func popWorker(_ engine: SimpleConsumer) async {
        guard let handler, let pop = configuration.pop else { return }
        while !Task.isCancelled && !isStopping {
            engine.setSubscriptions(state.withLock { Array($0.subscriptions.values) })
            let batch: [PoppedMessage]
            do {
                batch = try await engine.receive(maxMessages: pop.batchSize, invisibleDuration: pop.invisibleDuration)
            } catch {
                if Task.isCancelled || isStopping { return }
                logger.debug("pop failed; retrying", metadata: ["error": "\(error)"])
                do { try await Task.sleep(for: configuration.pullRetryDelay) } catch { return }
                continue
            }
            guard !batch.isEmpty else { continue }
            metrics.received.increment(by: batch.count)
            state.withLock { $0.inFlight += 1 }
            var handled: [PoppedMessage] = []
            var orderBroken = false
            for start in stride(from: 0, to: batch.count, by: configuration.consumeBatchSize) {
                let chunk = Array(batch[start..<min(start + configuration.consumeBatchSize, batch.count)])
                var result = ConsumeResult.retryLater
                if !orderBroken {
                    result = await consume(chunk.map(\.message)) {
                        do { return try await handler($0) } catch {
                            logger.warning("handler threw; the messages come back later", metadata: ["error": "\(error)"])
                            throw error
                        }
                    }
                }
                // Orderly: after a failure the rest of the batch comes back with it, in order, unhandled.
                if configuration.orderly && result == .retryLater { orderBroken = true }
                switch result {
                case .success:
                    metrics.consumed.increment(by: chunk.count)
                    handled += chunk
                case .retryLater:
                    metrics.failed.increment(by: chunk.count)
                    for message in chunk {
                        let delay = configuration.orderly
                            ? configuration.orderlyRetryDelay
                            : pop.retryDelays[min(Int(message.reconsumeTimes), pop.retryDelays.count - 1)]
                        _ = try? await engine.changeInvisibleDuration(message, to: delay)
                    }
                }
            }
            if !handled.isEmpty {
                do { try await engine.ack(handled) } catch {
                    // An expired receipt: the message is handed out again (at least once).
                    logger.warning("ack failed; the messages may be delivered again", metadata: ["error": "\(error)"])
                }
            }
            state.withLock { $0.inFlight -= 1 }
        }
    }
}

/// swift-metrics instruments of a consumer.
struct ConsumerMetrics: Sendable {
    let received: Counter
    let consumed: Counter
    let failed: Counter
    let rebalances: Counter

    init(group: String) {
        let dims = [("group", group)]
        received = Counter(label: "rocketmq.consumer.received", dimensions: dims)
        consumed = Counter(label: "rocketmq.consumer.consumed", dimensions: dims)
        failed = Counter(label: "rocketmq.consumer.failed", dimensions: dims)
        rebalances = Counter(label: "rocketmq.consumer.rebalances", dimensions: dims)
    }
}

extension SubscriptionData {
    /// An SQL92 subscription of (already namespaced) `topic`, checked with ``SQL92Expression`` so that an expression
    /// RocketMQ's parser would refuse fails here with `.invalidArgument` rather than as refused pulls.
    static func sql92(topic: String, _ sql: String) throws -> SubscriptionData {
        guard !sql.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RocketMQError(.invalidArgument, "empty SQL92 expression")
        }
        do {
            _ = try SQL92Expression(parsing: sql)
            return try SubscriptionData.build(topic: topic, expression: sql, type: ExpressionType.sql92, subVersion: ClientCore.nowMillis())
        } catch {
            throw RocketMQError(.invalidArgument, "bad SQL92 expression \(sql.debugDescription): \(error)")
        }
    }
}
