import Foundation
import Logging
import NIOCore
import RocketMQWire
import Synchronization

/// One mock broker: stores messages in the real store format, serves sends, pulls with long polling, offsets,
/// heartbeats and consumer groups, retries and dead letters, queue locks and transactions.
public final class MockBroker: RequestProcessor, Sendable {
    /// Its settings.
    public let configuration: MockBrokerConfiguration
    let server: MockServer
    let eventLoop: EventLoop
    let logger: Logger
    let state: Mutex<State>
    let directory: BrokerDirectory

    struct HeldPull {
        var id: Int
        var connection: MockConnection
        var request: RemotingCommand
        var header: PullMessageRequestHeader
        /// The filter the pull was held with: a new message wakes it only if it passes.
        var filter: PullFilter
        /// Messages before this queue offset are known not to pass `filter` (so each wake-up scans only new ones).
        var scannedTo: Int64
        var timeout: Scheduled<Void>?
    }

    struct State {
        var store: MessageStore?
        var topics: [String: TopicConfig] = [:]
        var registry = ClientRegistry()
        var offsets: [String: [Int32: Int64]] = [:]
        var offsetsDirty = false
        /// Where each group's last pull of each queue ended (Java's `pullOffsetTable`, by `topic@group`; in memory).
        var pullOffsets: [String: [Int32: Int64]] = [:]
        /// Messages pulled per second, by `topic@group` (GET_CONSUME_STATS's `consumeTps`).
        var getRates: [String: RateCounter] = [:]
        var locks: LockTable
        var holds: [QueueKey: [HeldPull]] = [:]
        /// Whether any pull or pop request is held: a store wakes holds only then (no lock taken again per message
        /// otherwise). Checked under the same lock as the store, so a hold placed later still sees the message.
        var anyHolds: Bool { !holds.isEmpty || !pop.holds.isEmpty }
        /// Transactions pending and ended, derived from the store at start (``rebuildTransactions()``).
        var transactions = TransactionTable()
        /// Parked (delayed, retried, timer) messages already delivered to their real topic.
        var deliveredParked: Set<ParkedKey> = []
        /// Deliveries of parked messages still to come, by id: cancelled when the broker stops (a restart schedules
        /// what is still owed from the store again).
        var pendingDeliveries: [Int: Scheduled<Void>] = [:]
        var nextDeliveryID = 0
        /// Compiled SQL92 expressions by text (Java's parser caches 100 too), failures included.
        var sqlCache: [String: Result<SQL92Expression, WireError>] = [:]
        var nextHoldID = 0
        /// POP checkpoints, ordered pops and held pops.
        var pop = PopState()
        var uniqueIDGenerator: UniqueIDGenerator?
        var tasks: [RepeatedTask] = []
        var running = false
        /// Completed when the grace period of a drain in progress ends.
        var graceOver: EventLoopPromise<Void>?
        /// Counts starts: a drain stops the broker only if it was not stopped and started again meanwhile.
        var generation = 0
    }

    init(configuration: MockBrokerConfiguration, group: EventLoopGroup, directory: BrokerDirectory, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = group.next()
        self.directory = directory
        var logger = logger
        logger[metadataKey: "broker"] = "\(configuration.name)"
        self.logger = logger
        self.state = Mutex(State(locks: LockTable(leaseMillis: configuration.lockLease.nanoseconds / 1_000_000)))
        self.server = MockServer(host: configuration.host, group: group, logger: logger)
    }

    /// `host:port` as clients see it.
    public var address: String { server.address }
    /// ``address`` as the store format's store host.
    var storeHost: MessageHost { server.storeHost ?? MessageHost(ip: [127, 0, 0, 1], port: Int32(port)) }
    /// The bound port.
    public var port: Int { server.port }
    /// The broker name.
    public var name: String { configuration.name }
    /// Whether it is serving.
    public var isRunning: Bool { state.withLock { $0.running } }

    // MARK: lifecycle

    /// Opens the store (replaying the data directory) and starts listening on `port`.
    func start(port: Int) async throws {
        let dir = configuration.dataDirectory?.appendingPathComponent(configuration.name)
        let persisted = try dir.map { try PersistedState.load(from: $0) }
        try state.withLock { s in
            if s.store == nil || dir != nil {
                s.store?.close()
                s.store = try MessageStore(directory: dir)
                // What was delivered is what the reopened store holds (rescheduleParked() reads it back).
                s.deliveredParked = []
                if let persisted {
                    s.topics = persisted.topics
                    s.offsets = persisted.offsets
                }
                if let dir {
                    s.pop.checkpoints = [:]
                    for ck in PopState.loadCheckpoints(from: dir) { s.pop.add(ck) }
                    s.pop.dirty = false
                }
                s.pop.orders = [:]
            }
            // Every broker serves its cluster's request-reply topic (Java's TopicConfigManager creates it at start).
            let replyTopic = TopicConfig.replyTopic(cluster: configuration.clusterName)
            if s.topics[replyTopic] == nil { s.topics[replyTopic] = TopicConfig(name: replyTopic, queues: 1) }
            s.topics[TopicConfig.autoCreateKey] = configuration.autoCreateTopics
                ? TopicConfig(name: TopicConfig.autoCreateKey, queues: configuration.defaultQueueNums, perm: [.read, .write, .inherit])
                : nil
            s.registry = ClientRegistry()
            s.holds = [:]
            s.pop.holds = [:]
            // Pending and ended transactions are what the store says (before the first request can add to it).
            if let store = s.store { s.transactions = TransactionTable.rebuild(from: store) }
            // Serving from the first request the listener accepts: a client that reconnects at once after a restart
            // must not be told "broker is stopping".
            s.running = true
            s.generation += 1
        }
        do {
            try await server.start(port: port, processor: self)
        } catch {
            state.withLock { $0.running = false }
            throw error
        }
        let scan = eventLoop.scheduleRepeatedTask(initialDelay: configuration.clientScanInterval, delay: configuration.clientScanInterval) { [weak self] _ in
            self?.expireClients()
        }
        let flush = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            self?.persistIfDirty()
        }
        let interval = max(configuration.scaled(configuration.transactionCheckInterval), .milliseconds(5))
        let check = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            self?.checkTransactions()
        }
        let revive = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { [weak self] _ in
            self?.revivePops()
        }
        state.withLock { $0.tasks = [scan, flush, check, revive] }
        rescheduleParked()
        directory.register(self)
    }

    /// Stops serving: leaves the routes, closes the listener and every connection, persists offsets.
    func stop() async {
        directory.unregister(self)
        let (tasks, holds, deliveries, graceOver, popHolds) = state.withLock { s -> ([RepeatedTask], [HeldPull], [Scheduled<Void>], EventLoopPromise<Void>?, [Scheduled<Void>]) in
            s.running = false
            let p = dropPopHolds(&s)
            let g = s.graceOver
            s.graceOver = nil
            let t = s.tasks
            s.tasks = []
            let h = s.holds.values.flatMap { $0 }
            s.holds = [:]
            let d = Array(s.pendingDeliveries.values)
            s.pendingDeliveries = [:]
            return (t, h, d, g, p)
        }
        for p in popHolds { p.cancel() }
        graceOver?.succeed()  // a drain in progress ends with this stop
        for t in tasks { t.cancel() }
        for h in holds { h.timeout?.cancel() }
        // A stopped broker owes its parked messages until it starts again; then rescheduleParked() schedules them
        // from the store at their original due times (a task left over from before the stop would race that).
        for d in deliveries { d.cancel() }
        await server.stop()
        persistIfDirty()
        state.withLock {
            $0.registry = ClientRegistry()
            if configuration.dataDirectory != nil {
                $0.store?.close()
                $0.store = nil
            }
        }
    }

    /// Graceful drain: answer GO_AWAY to new clients, leave the routes at once, keep doing so for `grace` (or until
    /// ``endGracePeriod()``), then stop.
    func drain(grace: TimeAmount) async {
        // GO_AWAY first: a client that finds the broker gone from the routes must already be told to go away.
        server.updateFaults { $0.goingAway = true }
        directory.unregister(self)
        logger.info("draining: answering GO_AWAY", metadata: ["grace": "\(grace)"])
        let graceOver = eventLoop.makePromise(of: Void.self)
        let (generation, previous) = state.withLock { s -> (Int, EventLoopPromise<Void>?) in
            defer { s.graceOver = graceOver }
            return (s.generation, s.graceOver)
        }
        previous?.succeed()  // a second drain takes over from the first
        let end: @Sendable () -> Void = { [self] in
            state.withLock { s in
                if s.graceOver == graceOver { s.graceOver = nil }
            }
            graceOver.succeed()  // completing an already completed promise does nothing
        }
        let timer = eventLoop.scheduleTask(in: grace, end)
        await withTaskCancellationHandler {
            try? await graceOver.futureResult.get()
        } onCancel: {
            end()
        }
        timer.cancel()
        // Not if the broker was killed meanwhile (and maybe restarted: that one is not draining).
        if state.withLock({ $0.running && $0.generation == generation }) { await stop() }
    }

    /// Ends the grace period of a drain in progress now (as if it had been that short): the broker stops answering
    /// GO_AWAY, closes its connections and stops. Does nothing when no drain is under way. For tests, which would
    /// otherwise have to finish their checks within a fixed grace period.
    public func endGracePeriod() {
        state.withLock { s -> EventLoopPromise<Void>? in
            defer { s.graceOver = nil }
            return s.graceOver
        }?.succeed()
    }

    // MARK: topics

    /// Creates (or updates) a topic on this broker.
    public func createTopic(_ topic: TopicConfig) {
        state.withLock {
            $0.topics[topic.name] = topic
        }
        persistTopics()
        directory.routesChanged()
    }

    /// The topics this broker holds.
    public var topics: [TopicConfig] { state.withLock { Array($0.topics.values) } }

    func topicConfig(_ name: String) -> TopicConfig? { state.withLock { $0.topics[name] } }

    // MARK: RequestProcessor

    static let supported: Set<Int32> = [
        RequestCode.sendMessage, .sendMessageV2, .sendBatchMessage, .pullMessage, .litePullMessage,
        .queryConsumerOffset, .updateConsumerOffset, .searchOffsetByTimestamp, .getMaxOffset, .getMinOffset,
        .getEarliestMsgStoreTime, .heartBeat, .unregisterClient, .consumerSendMsgBack, .endTransaction,
        .getConsumerListByGroup, .lockBatchMQ, .unlockBatchMQ, .checkClientConfig, .updateAndCreateTopic,
        .sendReplyMessage, .sendReplyMessageV2, .popMessage, .ackMessage, .batchAckMessage, .peekMessage,
        .changeMessageInvisibleTime, .notification, .pollingInfo, .queryMessage, .viewMessageById, .getConsumeStats,
        .getConsumerConnectionList, .getTopicStatsInfo,
    ].reduce(into: Set<Int32>()) { $0.insert($1.rawValue) }

    func supports(_ code: RequestCode) -> Bool { Self.supported.contains(code.rawValue) }

    func process(_ request: RemotingCommand, from connection: MockConnection) -> ProcessResult {
        do {
            switch request.requestCode {
            case .sendMessage, .sendMessageV2, .sendBatchMessage: return try processSend(request, from: connection)
            case .pullMessage, .litePullMessage: return try processPull(request, from: connection, allowSuspend: true)
            case .queryConsumerOffset: return try queryOffset(request)
            case .updateConsumerOffset: return try updateOffset(request)
            case .searchOffsetByTimestamp, .getMaxOffset, .getMinOffset, .getEarliestMsgStoreTime:
                return try offsetQuery(request)
            case .heartBeat: return try heartbeat(request, from: connection)
            case .unregisterClient: return try unregister(request, from: connection)
            case .getConsumerListByGroup: return try consumerList(request)
            case .consumerSendMsgBack: return try sendBack(request)
            case .endTransaction: return try endTransaction(request, from: connection)
            case .sendReplyMessage, .sendReplyMessageV2: return try processReply(request, from: connection)
            case .lockBatchMQ, .unlockBatchMQ: return try lock(request)
            case .checkClientConfig: return checkClientConfig(request)
            case .updateAndCreateTopic: return try createTopic(request)
            case .popMessage: return try processPop(request, from: connection)
            case .ackMessage, .batchAckMessage: return try processAck(request)
            case .changeMessageInvisibleTime: return try processChangeInvisibleTime(request)
            case .peekMessage: return try processPeek(request, from: connection)
            case .notification: return try processNotification(request, from: connection)
            case .pollingInfo: return try processPollingInfo(request)
            case .queryMessage: return try queryMessage(request)
            case .viewMessageById: return try viewMessage(request)
            case .getConsumeStats: return try consumeStats(request)
            case .getConsumerConnectionList: return try consumerConnectionList(request)
            case .getTopicStatsInfo: return try topicStats(request)
            default:
                return .respond(.response(to: request, code: .requestCodeNotSupported, remark: " request type \(request.code) not supported"))
            }
        } catch let error as WireError {
            return .respond(response(to: request, .systemError, "\(error)"))
        } catch {
            return .respond(response(to: request, .systemError, "\(error)"))
        }
    }

    func connectionClosed(_ connection: MockConnection) {
        let notify = state.withLock { s -> [(String, [MockConnection])] in
            for key in Array(s.holds.keys) {
                s.holds[key]?.removeAll { hold in
                    guard hold.connection == connection else { return false }
                    hold.timeout?.cancel()
                    return true
                }
            }
            popHoldsClosed(&s, connection: connection)
            return s.registry.connectionClosed(connection).map { ($0, s.registry.members($0)) }
        }
        self.notify(notify)
    }

    func response(to request: RemotingCommand, _ code: ResponseCode, _ remark: String? = nil, fields: ExtFields? = nil, body: ByteBuffer? = nil) -> RemotingCommand {
        var r = RemotingCommand.response(to: request, code: code, remark: remark, extFields: fields, body: body, version: configuration.version)
        r.serializeType = .json  // Java answers in its own (JSON) serialization whatever the request used
        return r
    }

    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: notifications

    func notify(_ groups: [(String, [MockConnection])]) {
        for (group, members) in groups {
            for member in members {
                member.pushOneway(.notifyConsumerIdsChanged, fields: NotifyConsumerIdsChangedRequestHeader(consumerGroup: group).fields)
            }
        }
    }

    private func expireClients() {
        let now = Self.nowMillis()
        let expired = state.withLock { $0.registry.expired(now: now, timeoutMillis: configuration.clientExpiry.nanoseconds / 1_000_000) }
        for connection in expired {
            logger.info("client heartbeat expired; closing", metadata: ["remote": "\(connection.remoteAddress)"])
            // Forget it first, then close, as Java's scanNotActiveChannel does: whoever sees the close (the client,
            // a test) must find it gone. channelInactive then finds nothing left to remove.
            connectionClosed(connection)
            connection.close()
        }
    }
}

