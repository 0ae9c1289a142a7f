import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RocketMQWire

/// The connection table: one connection per address (`"host:port"`), requests and responses matched by opaque,
/// per-request deadlines, server-pushed requests, channel events, idle close and GO_AWAY handling.
///
/// - Connects are **single-flight**: concurrent first requests to an address share one connect attempt.
/// - After a connect failure, or a connection the client did not close itself breaking, the next connect to that
///   address waits out an exponential backoff with jitter (``RemotingClientConfiguration/reconnectBackoff``).
///   Requests during that window **fail fast** with the retryable ``RemotingError/Kind/reconnectBackoff`` rather than
///   wait, so a producer moves on to another broker at once.
/// - When a connection dies, every request pending on it fails at once with a typed error.
/// - A request that times out on a connection the peer sent nothing on meanwhile closes that connection
///   (``RemotingClientConfiguration/closeOnTimeout``): a stalled peer or a stream out of step is replaced at once.
/// - GO_AWAY (1500): see ``invoke(_:address:timeout:)``.
///
/// Writes issued in the same event-loop tick are encoded into one buffer and flushed once.
public final class RemotingClient: Sendable {
    typealias Table = ConnectionTable<RemotingConnection, EventLoopPromise<RemotingConnection>>

    /// The settings this client was created with.
    public let configuration: RemotingClientConfiguration
    private let group: any EventLoopGroup
    private let clock: any EventLoop
    private let connector: any RemotingConnector
    private let logger: Logger
    private let table: NIOLockedValueBox<Table>
    private let eventQueue: ChannelEventQueue
    private let processors = ProcessorRegistry()
    private let pushedRequests = BackgroundTasks()
    private let opaques = OpaqueGenerator()
    private let metrics: RemotingMetrics
    private let environment: ConnectionEnvironment

    /// Creates a client. Nothing connects until the first request to an address.
    ///
    /// - Parameters:
    ///   - configuration: timeouts, backoff, idle, event queue capacity, GO_AWAY retry.
    ///   - eventLoopGroup: where connections live (NIO's shared singleton by default).
    ///   - logger: the logger; connection logs carry `remoting.address`, requests `remoting.opaque`.
    public convenience init(
        configuration: RemotingClientConfiguration = RemotingClientConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "rocketmq.remoting")
    ) {
        self.init(configuration: configuration, eventLoopGroup: eventLoopGroup, connector: SocketConnector(tls: configuration.tls), logger: logger)
    }

    init(
        configuration: RemotingClientConfiguration, eventLoopGroup: any EventLoopGroup, connector: any RemotingConnector,
        logger: Logger
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.clock = eventLoopGroup.next()
        self.connector = connector
        self.logger = logger
        let table = NIOLockedValueBox(Table(backoff: configuration.reconnectBackoff))
        self.table = table
        let events = ChannelEventQueue(capacity: configuration.eventQueueCapacity, logger: logger)
        self.eventQueue = events
        let metrics = RemotingMetrics()
        self.metrics = metrics
        let clock = self.clock
        self.environment = ConnectionEnvironment(
            events: events, processors: processors, pushedRequests: pushedRequests, metrics: metrics, logger: logger,
            writeBatchBytes: max(configuration.writeBatchBytes, 1),
            idleTimeout: configuration.idleTimeout > .zero ? TimeAmount(configuration.idleTimeout) : nil,
            closeOnTimeout: configuration.closeOnTimeout,
            onClose: { report in
                // A connect that failed before ACTIVE is reported through the connect future.
                guard report.wasActive else { return }
                let now = clock.now
                let jitter = Double.random(in: -1...1)
                let attempt = table.withLockedValue {
                    $0.connectionClosed(
                        address: report.address, id: report.connectionID, cause: report.cause,
                        receivedResponse: report.receivedResponse, now: now, jitterSample: jitter)
                }
                attempt?.fail(report.cause.error(address: report.address))
            })
    }

    // MARK: Public API

    /// Channel events (connect, active, close, idle, exception, goAway, draining, drainingEnded) of every
    /// connection, in order per connection, through one queue bounded by
    /// ``RemotingClientConfiguration/eventQueueCapacity``. When the queue is full new events are dropped (counted in
    /// ``droppedEventCount``); emitting never blocks an event loop. Meant for one consumer; finishes on ``shutdown()``.
    public var events: AsyncStream<RemotingChannelEvent> { eventQueue.stream }

    /// Events dropped because the event queue was full.
    public var droppedEventCount: Int { eventQueue.droppedCount }

    /// Requests awaiting a response, across all connections.
    public var pendingRequestCount: Int { metrics.pendingCount }

    /// Routes requests the server pushes with one of `codes` to `processor` (replacing an earlier registration).
    ///
    /// A pushed request with no processor is answered REQUEST_CODE_NOT_SUPPORTED (remark
    /// `" request type <code> not supported"`), unless it is oneway. Processors run as child tasks of ``run()``:
    /// a client that registers processors must run it.
    public func register(_ processor: some RemotingRequestProcessor, for codes: [RequestCode]) {
        processors.register(processor, for: codes)
    }

    /// Whether `address` is draining: its fresh connection answered GO_AWAY, so requests to it fail at once with
    /// ``RemotingError/Kind/draining`` until a later connection answers normally.
    public func isDraining(address: String) -> Bool {
        table.withLockedValue { $0.isDraining(address: address) }
    }

    /// Lets the next request to `address` connect at once, skipping what is left of its reconnect backoff: for a
    /// caller that learned the server is back (it reappeared in the name server's routes).
    public func resetReconnectBackoff(address: String) {
        table.withLockedValue { _ = $0.clearBackoff(address: address) }
    }

    /// Sends `request` to `address` and waits for its response until `timeout` (default
    /// ``RemotingClientConfiguration/defaultRequestTimeout``) has passed since this call, connect time included.
    ///
    /// The opaque is assigned here (the caller's is ignored). Response codes are returned as they are, except
    /// GO_AWAY (1500): with ``RemotingClientConfiguration/retryOnGoAway`` the address's connection is swapped for a
    /// fresh one (single-flight; the old one closes after its in-flight requests) and the request is retried once
    /// there with a new opaque and the **remaining** time. A second GO_AWAY fails with the retryable
    /// ``RemotingError/Kind/goAway`` and marks the address draining (see ``isDraining(address:)``).
    public func invoke(_ request: RemotingCommand, address: String, timeout: Duration? = nil) async throws -> RemotingCommand {
        let deadline = clock.now + .nanoseconds((timeout ?? configuration.defaultRequestTimeout).wholeNanoseconds)
        // An open connection is taken without a suspension point (an async call allocates a frame per request).
        let action = acquireAction(address: address)
        let connection: RemotingConnection
        if case .use(let open) = action { connection = open } else { connection = try await acquire(action, address: address, deadline: deadline) }
        let response = try await connection.send(request, deadline: deadline)
        guard response.code == ResponseCode.goAway.rawValue else {
            noteNormalAnswer(on: connection)
            return response
        }
        return try await retryAfterGoAway(request, address: address, connection: connection, deadline: deadline)
    }

    /// Sends `request` to `address` as oneway (flag bit 1): no response is awaited; returns once the request has
    /// been written to the socket. `timeout` bounds getting a connection.
    public func invokeOneway(_ request: RemotingCommand, address: String, timeout: Duration? = nil) async throws {
        let deadline = clock.now + .nanoseconds((timeout ?? configuration.defaultRequestTimeout).wholeNanoseconds)
        let connection = try await acquire(address: address, deadline: deadline)
        guard clock.now < deadline else {
            throw RemotingError(.timeout, address: address, "deadline passed while connecting")
        }
        try await connection.sendOneway(request)
    }

    /// Processes requests the server pushes (see ``register(_:for:)``), each as a child task, until cancelled or
    /// ``shutdown()``; then waits for those still running. Requests pushed before it starts wait for it.
    public func run() async {
        await pushedRequests.run()
    }

    /// Closes every connection (pending requests fail with ``RemotingError/Kind/shutdown``), fails connects in
    /// flight, finishes ``events``. Later requests fail with ``RemotingError/Kind/shutdown``.
    public func shutdown() async {
        let (connections, attempts) = table.withLockedValue { $0.shutdown() }
        for attempt in attempts {
            attempt.fail(RemotingError(.shutdown, "the remoting client is shut down"))
        }
        for connection in connections {
            connection.close(cause: .shutdown)
        }
        for connection in connections {
            try? await connection.closeFuture.get()
        }
        eventQueue.finish()
        pushedRequests.finish()
    }

    // MARK: Connections

    /// The number of open or opening connections (current and retired), for tests.
    var connectionCount: Int {
        table.withLockedValue { table in
            table.entries.values.reduce(0) { count, entry in
                if case .none = entry.slot { return count + entry.retired.count }
                return count + 1 + entry.retired.count
            }
        }
    }

    /// The address's current connection, for tests.
    func currentConnection(address: String) -> RemotingConnection? {
        table.withLockedValue { table in
            if case .ready(_, let connection) = table.entries[address]?.slot { return connection }
            return nil
        }
    }

    private func makeAttempt() -> EventLoopPromise<RemotingConnection> {
        group.next().makePromise(of: RemotingConnection.self)
    }

    func acquire(address: String, deadline: NIODeadline) async throws -> RemotingConnection {
        try await acquire(acquireAction(address: address), address: address, deadline: deadline)
    }

    /// What the connection table says to do for a request to `address` (use, wait, connect or fail).
    private func acquireAction(address: String) -> Table.AcquireAction {
        let now = clock.now
        return table.withLockedValue { $0.acquire(address: address, now: now, makeAttempt: makeAttempt) }
    }

    private func acquire(
        _ action: Table.AcquireAction,
        address: String, deadline: NIODeadline
    ) async throws -> RemotingConnection {
        switch action {
        case .use(let connection):
            return connection
        case .wait(let attempt):
            return try await awaitConnect(attempt, address: address, deadline: deadline)
        case .connect(let order):
            startConnect(address: address, order: order)
            return try await awaitConnect(order.attempt, address: address, deadline: deadline)
        case .fail(let error):
            throw error
        }
    }

    /// Waits for a shared connect attempt, but not past the request's `deadline` (a connect may take up to
    /// ``RemotingClientConfiguration/connectTimeout``); the attempt goes on for the other requests sharing it.
    private func awaitConnect(
        _ attempt: EventLoopPromise<RemotingConnection>, address: String, deadline: NIODeadline
    ) async throws -> RemotingConnection {
        let future = attempt.futureResult
        let loop = future.eventLoop
        let bounded = loop.makePromise(of: RemotingConnection.self)
        let timer = loop.scheduleTask(deadline: deadline) {
            bounded.fail(RemotingError(.timeout, address: address, "deadline passed while connecting"))
        }
        future.whenComplete { result in
            timer.cancel()
            bounded.completeWith(result)  // a no-op once the timer failed it
        }
        return try await bounded.futureResult.get()
    }

    private func startConnect(address: String, order: Table.ConnectOrder) {
        if order.isReconnect { metrics.reconnects.increment() }
        logger.debug("connecting", metadata: ["remoting.address": "\(address)", "remoting.connection": "\(order.id)"])
        let table = self.table
        let clock = self.clock
        let logger = self.logger
        RemotingConnection.connect(
            address: address, id: order.id, connector: connector, eventLoop: order.attempt.futureResult.eventLoop,
            configuration: configuration, environment: environment, opaques: opaques
        ).whenComplete { result in
            switch result {
            case .success(let connection):
                if order.reportsNormalAnswer { connection.reportsNormalAnswer.store(true, ordering: .relaxed) }
                switch table.withLockedValue({ $0.connectSucceeded(address: address, id: order.id, connection: connection) }) {
                case .succeed(let attempt):
                    attempt.succeed(connection)
                case .discard:
                    connection.close(cause: .shutdown)
                    order.attempt.fail(RemotingError(.shutdown, address: address, "the remoting client is shut down"))
                }
            case .failure(let error):
                let failure =
                    error as? RemotingError ?? RemotingError(.connectFailed, address: address, "connect failed: \(error)")
                logger.debug("connect failed", metadata: ["remoting.address": "\(address)", "remoting.error": "\(failure)"])
                let now = clock.now
                let jitter = Double.random(in: -1...1)
                let attempt = table.withLockedValue {
                    $0.connectFailed(address: address, id: order.id, error: failure, now: now, jitterSample: jitter)
                }
                (attempt ?? order.attempt).fail(failure)
            }
        }
    }

    // MARK: GO_AWAY

    private func retryAfterGoAway(
        _ request: RemotingCommand, address: String, connection: RemotingConnection, deadline: NIODeadline
    ) async throws -> RemotingCommand {
        metrics.goAways.increment()
        logger.info("GO_AWAY received", metadata: ["remoting.address": "\(address)", "remoting.connection": "\(connection.id)"])
        guard let target = try perform(goAwayFrom: connection, address: address, canRetry: true) else {
            throw RemotingError(.goAway, address: address, "the server answered GO_AWAY")
        }
        let retryConnection: RemotingConnection
        switch target {
        case .connection(let existing): retryConnection = existing
        case .attempt(let attempt): retryConnection = try await awaitConnect(attempt, address: address, deadline: deadline)
        }
        let response = try await retryConnection.send(request, deadline: deadline)
        guard response.code == ResponseCode.goAway.rawValue else {
            noteNormalAnswer(on: retryConnection)
            return response
        }
        metrics.goAways.increment()
        _ = try perform(goAwayFrom: retryConnection, address: address, canRetry: false)
        throw RemotingError(.goAway, address: address, "the server answered GO_AWAY twice")
    }

    private func perform(goAwayFrom connection: RemotingConnection, address: String, canRetry: Bool) throws -> Table.RetryTarget? {
        let now = clock.now
        let swapEnabled = configuration.retryOnGoAway
        let action = table.withLockedValue {
            $0.goAwayReceived(
                address: address, connectionID: connection.id, canRetry: canRetry, swapEnabled: swapEnabled, now: now,
                makeAttempt: makeAttempt)
        }
        if let retired = action.retire {
            logger.debug("retiring connection after GO_AWAY", metadata: ["remoting.address": "\(address)", "remoting.connection": "\(retired.id)"])
            retired.retire()
        }
        if let order = action.connect {
            startConnect(address: address, order: order)
        }
        for kind in action.events {
            if kind == .draining {
                logger.warning("address is draining: GO_AWAY on the fresh connection", metadata: ["remoting.address": "\(address)"])
            }
            eventQueue.emit(RemotingChannelEvent(kind, address: address, connectionID: connection.id))
        }
        if let error = action.error { throw error }
        return action.retryOn
    }

    private func noteNormalAnswer(on connection: RemotingConnection) {
        guard connection.reportsNormalAnswer.load(ordering: .relaxed),
            connection.reportsNormalAnswer.exchange(false, ordering: .relaxed)
        else { return }
        let address = connection.address
        let events = table.withLockedValue { $0.answeredNormally(address: address, connectionID: connection.id) }
        for kind in events {
            logger.info("address no longer draining", metadata: ["remoting.address": "\(address)"])
            eventQueue.emit(RemotingChannelEvent(kind, address: address, connectionID: connection.id))
        }
    }
}
