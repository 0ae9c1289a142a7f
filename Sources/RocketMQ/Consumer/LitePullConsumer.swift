import Logging
import NIOCore
import NIOPosix
import RocketMQRemoting
import RocketMQWire
import ServiceLifecycle
import Synchronization
import Tracing

/// Consumes by polling: the application asks for messages when it wants them (Java's `DefaultLitePullConsumer`).
///
/// Either ``subscribe(_:expression:)`` to topics — their queues are shared with the rest of the group and rebalanced
/// as members come and go, exactly as a ``PushConsumer``'s — or ``assign(_:)`` fixed queues (no rebalancing). The two
/// modes are exclusive.
///
/// A `Service`: inside ``run()`` the consumer pulls every owned queue in the background (long polling) into a
/// bounded per-queue buffer — pulling pauses while a queue holds `pullThresholdForQueue` messages or
/// `pullThresholdSizeForQueue` bytes, or the whole buffer `pullThresholdForAll` — and ``poll(timeout:)`` takes from
/// it. ``seek(_:to:)`` repositions a queue. What `poll` returned is committed every `autoCommitInterval` when
/// `autoCommit` is on (the default), or by ``commit()``. Cancelling `run()` or a graceful shutdown stops pulling,
/// commits (what was polled, with `autoCommit`; what was committed, without), unregisters and closes.
///
/// ```swift
/// let consumer = try LitePullConsumer(configuration: .init(group: "G"), client: .init(nameServer: "127.0.0.1:9876"))
/// try consumer.subscribe("Orders")
/// // run `consumer` in a ServiceGroup (or a task), then:
/// while true {
///     for message in try await consumer.poll(timeout: .seconds(5)) { handle(message) }
/// }
/// ```
public final class LitePullConsumer: Sendable, Service {
    /// The consumer's settings.
    public let configuration: LitePullConsumerConfiguration
    let core: ClientCore
    let offsets: OffsetStore
    let logger: Logger
    let state: Mutex<State>
    let rebalanceSignals: AsyncStream<Void>
    let rebalanceContinuation: AsyncStream<Void>.Continuation
    let metrics: ConsumerMetrics
    /// The group name on the wire (namespace applied).
    let group: String

    enum Mode: Sendable {
        case none
        case subscribe
        case assign
    }

    struct State {
        var mode = Mode.none
        /// Subscribed topics (wrapped), in subscribe mode.
        var subscriptions: [String: SubscriptionData] = [:]
        /// Assigned queues (wrapped), in assign mode.
        var assigned: Set<MessageQueue> = []
        var buffer = LitePullBuffer()
        var tasks: [MessageQueue: StoppableJob] = [:]
        /// Pollers waiting for messages; nil until the waiter's continuation is installed.
        var waiters: [Int: CheckedContinuation<Void, Never>?] = [:]
        var lastWaiter = 0
        var running = false
        var stopped = false
        var rebalances = 0
    }

    /// Creates a consumer; nothing connects before ``run()``.
    public init(
        configuration: LitePullConsumerConfiguration, client: ClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "rocketmq.lite-pull-consumer")
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        let core = try ClientCore(configuration: client, eventLoopGroup: eventLoopGroup, logger: logger)
        self.core = core
        self.group = client.wrap(configuration.group)
        var logger = logger
        logger[metadataKey: "rocketmq.client"] = "\(core.clientID)"
        logger[metadataKey: "rocketmq.group"] = "\(configuration.group)"
        self.logger = logger
        offsets = OffsetStore(kind: .remote, group: group, core: core)
        (rebalanceSignals, rebalanceContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        metrics = ConsumerMetrics(group: configuration.group)
        state = Mutex(State())
    }

    /// The client id this consumer reports.
    public var clientID: String { core.clientID }

    // MARK: subscribe or assign

    /// Subscribes to `topic` with a tag expression (`*`, `TagA`, `TagA || TagB`); its queues are rebalanced within
    /// the group. May be called while running. Throws when queues were assigned with ``assign(_:)``.
    public func subscribe(_ topic: String, expression: String = "*") throws {
        try Validators.checkTopic(topic)
        let wrapped = core.wrap(topic)
        let data: SubscriptionData
        do {
            data = try SubscriptionData.build(topic: wrapped, expression: expression, type: ExpressionType.tag)
        } catch {
            throw RocketMQError(.invalidArgument, "bad subscription expression \(expression.debugDescription): \(error)")
        }
        try subscribe(wrapped, data: data)
    }

    private func subscribe(_ wrapped: String, data: SubscriptionData) throws {
        try state.withLock { s in
            guard s.mode != .assign else {
                throw RocketMQError(.invalidArgument, "subscribe and assign are mutually exclusive")
            }
            s.mode = .subscribe
            s.subscriptions[wrapped] = data
        }
        core.addTopic(wrapped)
        rebalanceNow()
    }

    /// Subscribes to `topic` with an SQL92 filter on message properties (`a > 5 AND region = 'eu'`), evaluated by the
    /// broker (which needs `enablePropertyFilter=true`). Not with ``assign(_:)``.
    ///
    /// - Throws: ``RocketMQError`` `.invalidArgument` for an expression RocketMQ's SQL92 parser would refuse, or after
    ///   ``assign(_:)``.
    public func subscribe(_ topic: String, sql: String) throws {
        try Validators.checkTopic(topic)
        let wrapped = core.wrap(topic)
        try subscribe(wrapped, data: try SubscriptionData.sql92(topic: wrapped, sql))
    }

    /// Stops consuming `topic`; its queues are released (and committed, with `autoCommit`) at once.
    public func unsubscribe(_ topic: String) {
        let wrapped = core.wrap(topic)
        _ = state.withLock { $0.subscriptions.removeValue(forKey: wrapped) }
        rebalanceNow()
    }

    /// Consumes exactly `queues`, without rebalancing (replacing an earlier assignment). May be called while running.
    /// Throws when topics were subscribed with ``subscribe(_:expression:)``, or `queues` is empty.
    public func assign(_ queues: [MessageQueue]) throws {
        guard !queues.isEmpty else { throw RocketMQError(.invalidArgument, "assign needs at least one queue") }
        for q in queues { try Validators.checkTopic(q.topic) }
        let wrapped = Set(queues.map(wrap))
        try state.withLock { s in
            guard s.mode != .subscribe else {
                throw RocketMQError(.invalidArgument, "subscribe and assign are mutually exclusive")
            }
            s.mode = .assign
            s.assigned = wrapped
        }
        for topic in Set(wrapped.map(\.topic)) { core.addTopic(topic) }
        rebalanceNow()
    }

    /// The queues of `topic`, for ``assign(_:)`` (asks the name server when the route is not cached).
    public func messageQueues(of topic: String) async throws -> [MessageQueue] {
        try Validators.checkTopic(topic)
        guard let info = try await core.routeInfo(core.wrap(topic)) else {
            throw RocketMQError(.topicNotFound, "no route for topic \(topic)")
        }
        return info.subscribeQueues.map(unwrap)
    }

    /// The queues this consumer currently owns (subscribe mode: its share after rebalancing; assign mode: the assigned
    /// queues once their start offset is known).
    public var assignment: [MessageQueue] {
        state.withLock { $0.buffer.queues.keys.sorted() }.map(unwrap)
    }

    /// Messages pulled and buffered, not yet polled.
    public var bufferedMessageCount: Int { state.withLock { $0.buffer.totalCount } }

    /// How many rebalances changed this member's queues.
    public var rebalanceCount: Int { state.withLock { $0.rebalances } }

    // MARK: poll, seek, commit

    /// The next buffered messages (one pull's worth, at most `pullBatchSize`, from one queue), waiting up to
    /// `timeout` for some to arrive; empty when none did. Messages of one queue come in offset order.
    ///
    /// - Throws: ``RocketMQError`` `notRunning` once the consumer has shut down; `CancellationError` when the calling
    ///   task is cancelled.
    public func poll(timeout: Duration = .seconds(5)) async throws -> [ReceivedMessage] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let started = DefaultTracerClock.now
        while true {
            let (batch, stopped) = state.withLock { s in s.stopped ? (nil, true) : (s.buffer.take(), false) }
            if stopped { throw RocketMQError(.notRunning, "the lite pull consumer has shut down") }
            if let batch {
                let messages = batch.messages.map(present)
                MessagingTracing.received(messages, group: group, tracer: core.tracer, since: started)
                return messages
            }
            try Task.checkCancellation()
            if clock.now >= deadline { return [] }
            await waitForMessages(until: deadline)
        }
    }

    /// Runs `body` in a `"<topic> process"` consumer span, a child of the span that sent `message` (its trace context
    /// travels in the message's properties): wrap the handling of each polled message in it to connect the producer's
    /// trace to this consumer's work. Without a tracer it just runs `body`.
    public func withProcessingSpan<T>(
        for message: ReceivedMessage, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async rethrows -> T {
        try await MessagingTracing.processing(message, group: group, tracer: core.tracer, isolation: isolation, body)
    }

    /// Pulls `queue` from `offset` next: what was buffered for it is discarded and the consumed offset (what the next
    /// commit writes) becomes `offset`.
    ///
    /// - Throws: ``RocketMQError`` `invalidArgument` when the queue is not owned (subscribe mode: perhaps it is being
    ///   rebalanced) or `offset` is outside the queue's `[min, max]`; a broker error when those could not be read.
    public func seek(_ queue: MessageQueue, to offset: Int64) async throws {
        let q = wrap(queue)
        try requireOwned(q)
        let min = try await core.queueOffset(.getMinOffset, queue: q)
        let max = try await core.queueOffset(.getMaxOffset, queue: q)
        guard offset >= min, offset <= max else {
            throw RocketMQError(.invalidArgument, "seek offset \(offset) is outside [\(min), \(max)] of \(queue)")
        }
        try reposition(q, to: offset)
    }

    /// Seeks `queue` to its first stored message.
    public func seekToBeginning(_ queue: MessageQueue) async throws {
        let q = wrap(queue)
        try requireOwned(q)
        try reposition(q, to: try await core.queueOffset(.getMinOffset, queue: q))
    }

    /// Seeks `queue` past its last stored message (only new messages follow).
    public func seekToEnd(_ queue: MessageQueue) async throws {
        let q = wrap(queue)
        try requireOwned(q)
        try reposition(q, to: try await core.queueOffset(.getMaxOffset, queue: q))
    }

    /// Commits, for every owned queue, the offset after what ``poll(timeout:)`` returned (or where it was sought to),
    /// and waits for the brokers to store it. A commit that fails is retried every `autoCommitInterval`.
    public func commit() async {
        let queues = stageConsumedOffsets()
        await offsets.persist(queues, sync: true)
    }

    /// The group's committed offset of `queue` as its broker holds it; nil when the group has none there.
    public func committedOffset(_ queue: MessageQueue) async throws -> Int64? {
        try await offsets.read(wrap(queue))
    }

    // MARK: lifecycle

    /// Runs until cancelled or a graceful shutdown, then stops as described on the type.
    public func run() async throws {
        let mode = state.withLock { s -> Mode in
            s.running = true
            return s.mode
        }
        guard mode != .none else {
            throw RocketMQError(.invalidArgument, "subscribe to a topic or assign queues before run()")
        }
        core.registerConsumer(group: group, ConsumerRegistration(
            data: { [weak self] in self?.heartbeatEntry() ?? ConsumerData(groupName: "", consumeType: .consumeActively, messageModel: .clustering, consumeFromWhere: .consumeFromLastOffset, subscriptionDataSet: [], unitMode: false) },
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
                    group.addTask { await self.rebalanceLoop() }
                    group.addTask { await self.commitLoop() }
                }
            }
        } onGracefulShutdown: {}
        // run() is usually cancelled by now; the shutdown requests (offset commits, unregister) must not be.
        await Task { await self.stop() }.value  // unstructured: awaited at once; shields shutdown from run()'s cancellation
    }

    /// Stop pulling → wake pollers → commit → unregister → close.
    private func stop() async {
        let (tasks, waiters) = state.withLock { s -> ([StoppableJob], [CheckedContinuation<Void, Never>]) in
            s.stopped = true
            let tasks = Array(s.tasks.values)
            s.tasks = [:]
            let waiters = s.waiters.values.compactMap { $0 }
            s.waiters = [:]
            return (tasks, waiters)
        }
        for t in tasks { t.cancel() }
        for w in waiters { w.resume() }
        if configuration.autoCommit { _ = stageConsumedOffsets() }
        await offsets.persist(sync: true)
        await core.unregister(producerGroup: nil, consumerGroup: group)
        core.unregisterConsumer(group: group)
        await core.shutdown()
        rebalanceContinuation.finish()
    }

    /// Commits every `autoCommitInterval` (oneway, as Java's periodic offset persistence).
    private func commitLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.autoCommitInterval) } catch { return }
            if configuration.autoCommit { _ = stageConsumedOffsets() }
            await offsets.persist()
        }
    }

    /// This group's heartbeat entry: pulled actively; subscriptions only in subscribe mode.
    func heartbeatEntry() -> ConsumerData {
        let subs = state.withLock { Array($0.subscriptions.values) }.sorted { $0.topic < $1.topic }
        let from: ConsumeFromWhere
        switch configuration.startPoint {
        case .lastOffset: from = .consumeFromLastOffset
        case .firstOffset: from = .consumeFromFirstOffset
        case .timestamp: from = .consumeFromTimestamp
        }
        return ConsumerData(
            groupName: group, consumeType: .consumeActively, messageModel: .clustering, consumeFromWhere: from,
            subscriptionDataSet: subs, unitMode: false)
    }

    // MARK: helpers

    /// Asks for a rebalance now (coalesced with others pending).
    func rebalanceNow() { rebalanceContinuation.yield() }

    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Hands the offset after what was polled to the offset store; returns the owned queues.
    private func stageConsumedOffsets() -> [MessageQueue] {
        let (consumed, owned) = state.withLock { ($0.buffer.consumedOffsets, Array($0.buffer.queues.keys)) }
        for (queue, offset) in consumed where offsets.current(queue) != offset {
            offsets.update(queue, offset: offset, increaseOnly: false)
        }
        return owned
    }

    private func requireOwned(_ queue: MessageQueue) throws {
        let (owned, mode) = state.withLock { ($0.buffer.contains(queue), $0.mode) }
        guard owned else {
            let hint = mode == .subscribe ? " (it may be being rebalanced)" : ""
            throw RocketMQError(.invalidArgument, "\(unwrap(queue)) is not owned by this consumer\(hint)")
        }
    }

    /// Moves a queue and restarts its pull task, so that a long poll held at the old offset does not delay the new one.
    private func reposition(_ queue: MessageQueue, to offset: Int64) throws {
        let old = try state.withLock { s -> StoppableJob? in
            guard !s.stopped, s.buffer.seek(queue, to: offset) else {
                throw RocketMQError(.invalidArgument, "\(unwrap(queue)) is not owned by this consumer")
            }
            let old = s.tasks[queue]
            s.tasks[queue] = core.tasks.spawnStoppable { [weak self] in await self?.pullLoop(queue) }
            return old
        }
        old?.cancel()
        logger.info("seek", metadata: ["queue": "\(queue)", "offset": "\(offset)"])
    }

    private func wrap(_ queue: MessageQueue) -> MessageQueue {
        var q = queue
        q.topic = core.wrap(q.topic)
        return q
    }

    private func unwrap(_ queue: MessageQueue) -> MessageQueue {
        var q = queue
        q.topic = core.unwrap(q.topic)
        return q
    }

    /// A message as the application sees it: names without the namespace.
    private func present(_ message: ReceivedMessage) -> ReceivedMessage {
        guard core.configuration.namespace != nil else { return message }
        var m = message
        m.topic = core.unwrap(m.topic)
        m.queue = unwrap(m.queue)
        return m
    }

    // MARK: waiting for messages

    /// Returns when messages were buffered, the consumer stopped, `deadline` passed or the task was cancelled.
    private func waitForMessages(until deadline: ContinuousClock.Instant) async {
        let id = state.withLock { s -> Int in
            s.lastWaiter += 1
            s.waiters[s.lastWaiter] = .some(nil)
            return s.lastWaiter
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal(id) }
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal(_ id: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    // Missing: cancelled before we got here. Ready: no need to sleep.
                    guard s.waiters[id] != nil, !s.buffer.hasBatches, !s.stopped else {
                        s.waiters[id] = nil
                        return true
                    }
                    s.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let installed = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.waiters.removeValue(forKey: id) ?? nil
            }
            installed?.resume()
        }
    }

    /// Wakes every poller that is asleep (those still arriving find the buffer non-empty).
    func wakePollers() {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            var out: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in s.waiters {
                guard let waiter else { continue }
                out.append(waiter)
                s.waiters[id] = nil
            }
            return out
        }
        for w in ready { w.resume() }
    }
}
