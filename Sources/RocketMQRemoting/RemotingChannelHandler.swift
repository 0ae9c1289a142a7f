import Logging
import NIOCore
import RocketMQWire

/// Why a connection closed; decides the error pending requests fail with and whether the reconnect backoff applies.
enum ConnectionCloseCause: Sendable, Hashable {
    /// The peer closed the connection (EOF, reset).
    case peerClosed
    /// An error (I/O, malformed frame) closed it.
    case failed(RemotingError)
    /// No traffic for the idle timeout.
    case idle
    /// Retired after a GO_AWAY swap, once its in-flight requests finished.
    case retired
    /// A request timed out on it (``RemotingClientConfiguration/closeOnTimeout``).
    case timedOut
    /// The client shut down.
    case shutdown
    /// Closed on request.
    case requested

    /// Whether the client itself decided to close (no reconnect backoff follows).
    var isLocal: Bool {
        switch self {
        case .idle, .retired, .timedOut, .shutdown, .requested: return true
        case .peerClosed, .failed: return false
        }
    }

    func error(address: String) -> RemotingError {
        switch self {
        case .peerClosed: return RemotingError(.channelClosed, address: address, "connection closed by the peer")
        case .failed(let error): return error
        case .idle: return RemotingError(.channelClosed, address: address, "connection closed after the idle timeout")
        case .retired: return RemotingError(.channelClosed, address: address, "connection retired after GO_AWAY")
        case .timedOut:
            return RemotingError(.channelClosed, address: address, "connection closed after a request on it timed out")
        case .shutdown: return RemotingError(.shutdown, address: address, "the remoting client is shut down")
        case .requested: return RemotingError(.channelClosed, address: address, "connection closed by the client")
        }
    }
}

/// What a closed connection reports to its owner.
struct ConnectionCloseReport: Sendable {
    var connectionID: UInt64
    var address: String
    var cause: ConnectionCloseCause
    /// Whether any response arrived on the connection (a healthy connection resets the reconnect backoff).
    var receivedResponse: Bool
    /// Whether the connection ever became active (a failed connect is reported by the connect future instead).
    var wasActive: Bool
}

/// What every connection of a client shares: events, pushed-request processors, metrics, settings.
struct ConnectionEnvironment: Sendable {
    var events: ChannelEventQueue?
    var processors: ProcessorRegistry
    /// Where pushed requests are processed: child tasks of ``RemotingClient/run()``.
    var pushedRequests: BackgroundTasks
    var metrics: RemotingMetrics
    var logger: Logger
    var writeBatchBytes: Int
    /// Close a connection after this long with nothing read or written (Java's `IdleStateHandler(0, 0, allIdle)`);
    /// nil: never.
    var idleTimeout: TimeAmount?
    /// Close the connection when a request that waited at least 100 ms times out with nothing received meanwhile.
    var closeOnTimeout: Bool
    var onClose: @Sendable (ConnectionCloseReport) -> Void
}

/// The thin shell around ``ConnectionStateMachine``: writes requests (batched, one flush per event-loop tick),
/// matches responses by opaque, runs the deadline timer, dispatches pushed requests, reports channel events.
///
/// Reads and writes bytes: splits frames itself (``RemotingFrameDecoder`` as a single-step processor) and encodes
/// with ``RemotingFrame`` (the same code as ``RemotingFrameEncoder``) into one buffer per tick, so a burst of requests
/// costs one write.
final class RemotingChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Never
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let address: String
    let connectionID: UInt64
    private let environment: ConnectionEnvironment
    private var logger: Logger
    private var stateMachine: ConnectionStateMachine<ResponseWaiter>
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    /// The idle check: one scheduled task per idle period, not a write promise per write (as `IdleStateHandler` has).
    private var idleTimer: Scheduled<Void>?
    /// When the last frame was read or the last bytes were written.
    private var lastActivity: NIODeadline = .now()
    private var outbound = OutboundFrames()
    private var outboundWaiters: [EventLoopPromise<Void>] = []
    private var flushScheduled = false
    private var closeCause: ConnectionCloseCause?
    private var closeReported = false
    private var tableNotified = false
    private var receivedResponse = false
    private var wasActive = false
    /// When the last frame arrived from the peer (for ``ConnectionEnvironment/closeOnTimeout``).
    private var lastInbound: NIODeadline?
    /// Splits the inbound bytes into commands, handed to this handler directly (a decoder handler of its own would
    /// pass each command down the pipeline boxed in an `NIOAny`: an allocation per frame).
    private var decoder: NIOSingleStepByteToMessageProcessor<RemotingFrameDecoder>
    /// Whether ``decoder`` is at work (a close from inside it must not re-enter it).
    private var decoding = false
    /// Whether ``decoder`` has failed: the stream lost its framing, and what follows is not read.
    private var decodeFailed = false

    init(address: String, connectionID: UInt64, maxFrameLength: Int, environment: ConnectionEnvironment) {
        self.decoder = NIOSingleStepByteToMessageProcessor(RemotingFrameDecoder(maxFrameLength: maxFrameLength))
        self.address = address
        self.connectionID = connectionID
        self.environment = environment
        self.stateMachine = ConnectionStateMachine(address: address)
        var logger = environment.logger
        logger[metadataKey: "remoting.address"] = "\(address)"
        logger[metadataKey: "remoting.connection"] = "\(connectionID)"
        self.logger = logger
    }

    /// Requests awaiting a response on this connection.
    var pendingCount: Int { stateMachine.pendingCount }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            becameActive()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        reportClosed()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        becameActive()
        context.fireChannelActive()
    }

    private func becameActive() {
        guard case .idle = stateMachine.state else { return }
        stateMachine.channelActive()
        wasActive = true
        lastActivity = context?.eventLoop.now ?? .now()
        armIdleCheck()
        logger.debug("connection active")
        emit(.active)
    }

    func connect(context: ChannelHandlerContext, to address: SocketAddress, promise: EventLoopPromise<Void>?) {
        emit(.connect)
        context.connect(to: address, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !decoding && !decodeFailed {
            // The frames still buffered (a peer may close right after its last answer); bytes of an incomplete frame
            // left now are an error: the stream has ended.
            decode(context: context) { try $0.finishProcessing(seenEOF: true, $1) }
        }
        reportClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let remotingError: RemotingError
        switch error {
        case let wire as WireError:
            remotingError = RemotingError(.protocolError(wire), address: address, "malformed frame from the peer: \(wire.message)")
        case let remoting as RemotingError:
            remotingError = remoting
        default:
            remotingError = RemotingError(.channelClosed, address: address, "connection failed: \(error)")
        }
        guard closeCause == nil else { return }
        logger.warning("connection error; closing", metadata: ["remoting.error": "\(remotingError)"])
        emit(.exception, error: remotingError)
        close(cause: .failed(remotingError))
    }

    // MARK: Idle check

    private func armIdleCheck() {
        guard let idle = environment.idleTimeout, let context, closeCause == nil else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastActivity + idle) { [self] in
            self.idleCheck()
        }
    }

    private func idleCheck() {
        idleTimer = nil
        guard let idle = environment.idleTimeout, let context, closeCause == nil else { return }
        guard context.eventLoop.now - lastActivity >= idle else {
            armIdleCheck()  // traffic since: check again a full period after it
            return
        }
        logger.info("connection idle; closing")
        emit(.idle)
        close(cause: .idle)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decodeFailed else { return }
        let buffer = unwrapInboundIn(data)
        decode(context: context) { try $0.process(buffer: buffer, $1) }
    }

    /// Runs `step` on the decoder, handling every command it yields; a malformed frame is reported as an error
    /// (which closes the connection) and stops reading.
    private func decode(
        context: ChannelHandlerContext,
        _ step: (inout NIOSingleStepByteToMessageProcessor<RemotingFrameDecoder>, (RemotingCommand) throws -> Void) throws -> Void
    ) {
        decoding = true
        defer { decoding = false }
        do {
            try step(&decoder) { command in self.received(command, context: context) }
        } catch {
            decodeFailed = true
            errorCaught(context: context, error: error)
        }
    }

    private func received(_ command: RemotingCommand, context: ChannelHandlerContext) {
        lastInbound = context.eventLoop.now
        lastActivity = lastInbound ?? lastActivity
        if command.isResponse {
            handleResponse(command)
        } else {
            handleRequest(command, context: context)
        }
    }

    // MARK: Requests we send

    /// Sends `request` (its opaque set); completes `waiter` with the response or an error.
    func send(_ request: RemotingCommand, waiter: ResponseWaiter, deadline: NIODeadline) {
        let opaque = request.opaque
        let now = context?.eventLoop.now ?? .now()
        switch stateMachine.sendRequest(opaque: opaque, promise: waiter, deadline: deadline, now: now) {
        case .fail(let promise, let error):
            promise.fail(error)
        case .write(let armTimer):
            environment.metrics.requestRegistered()
            environment.metrics.requests.increment()
            do {
                try enqueue(request, waiter: nil)
            } catch {
                if case .complete(let promise, _, let close) = stateMachine.cancel(opaque: opaque) {
                    environment.metrics.requestsCompleted()
                    promise.fail(error)
                    if close { self.close(cause: .retired) }
                }
                return
            }
            if let armTimer { arm(at: armTimer) }
            logger.trace("request sent", metadata: ["remoting.opaque": "\(opaque)"])
        }
    }

    /// Sends the oneway `request`; `promise` completes when it has been written to the socket.
    func sendOneway(_ request: RemotingCommand, promise: EventLoopPromise<Void>) {
        if case .closed(let error) = stateMachine.state {
            promise.fail(error.with(opaque: request.opaque))
            return
        }
        environment.metrics.requests.increment()
        do {
            try enqueue(request, waiter: promise)
        } catch {
            promise.fail(error)
        }
    }

    /// The caller stopped waiting for `opaque` (its task was cancelled).
    func cancel(opaque: Int32) {
        guard case .complete(let promise, _, let close) = stateMachine.cancel(opaque: opaque) else { return }
        environment.metrics.requestsCompleted()
        promise.fail(RemotingError(.cancelled, address: address, opaque: opaque, "the waiting task was cancelled"))
        if close { self.close(cause: .retired) }
    }

    /// Take no new traffic from the table; close once in-flight requests finished (GO_AWAY swap).
    func retire() {
        if stateMachine.retire() {
            close(cause: .retired)
        }
    }

    /// Closes the connection, failing pending requests with the cause's error at once.
    func close(cause: ConnectionCloseCause) {
        guard closeCause == nil else { return }
        closeCause = cause
        forgetInTable(cause: cause)
        failAllPending(with: cause.error(address: address))
        context?.close(promise: nil)
    }

    /// Tells the connection table (once) that this connection is gone, before its pending requests fail and before
    /// the close event: whoever reacts to either (a retry, a reconnect) must get a new connection, never this one.
    private func forgetInTable(cause: ConnectionCloseCause) {
        guard !tableNotified else { return }
        tableNotified = true
        environment.onClose(
            ConnectionCloseReport(connectionID: connectionID, address: address, cause: cause, receivedResponse: receivedResponse,
            wasActive: wasActive))
    }

    private func failAllPending(with error: RemotingError) {
        let failed = stateMachine.close(error: error)
        timer?.cancel()
        timer = nil
        idleTimer?.cancel()
        idleTimer = nil
        environment.metrics.requestsCompleted(failed.count)
        for (opaque, promise) in failed {
            promise.fail(error.with(opaque: opaque))
        }
    }

    private func reportClosed() {
        guard !closeReported else { return }
        closeReported = true
        let cause = closeCause ?? .peerClosed
        closeCause = cause
        forgetInTable(cause: cause)
        let error = cause.error(address: address)
        failAllPending(with: error)
        outbound.reset()
        let waiters = outboundWaiters
        outboundWaiters = []
        for waiter in waiters { waiter.fail(error) }
        logger.debug("connection closed", metadata: ["remoting.cause": "\(cause)"])
        if case .failed(let failure) = cause {
            emit(.close, error: failure, closedByPeer: true)
        } else {
            emit(.close, closedByPeer: !cause.isLocal)
        }
    }

    // MARK: Deadline timer

    private func arm(at deadline: NIODeadline) {
        guard let context else { return }
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        guard let context else { return }
        let result = stateMachine.timerFired(now: context.eventLoop.now)
        if !result.expired.isEmpty {
            environment.metrics.requestsCompleted(result.expired.count)
            environment.metrics.timeouts.increment(by: result.expired.count)
            for (opaque, promise) in result.expired {
                logger.debug("request timed out", metadata: ["remoting.opaque": "\(opaque)"])
                promise.fail(RemotingError(.timeout, address: address, opaque: opaque, "no response before the deadline"))
            }
        }
        let silentSince = context.eventLoop.now - result.longestWait
        if environment.closeOnTimeout, result.longestWait >= Self.closeOnTimeoutMinimumWait, closeCause == nil,
            lastInbound.map({ $0 <= silentSince }) ?? true
        {
            // As Java's client (clientCloseSocketIfTimeout): a peer that stopped answering, or a byte stream that
            // lost its framing, would otherwise keep timing out every request sent on this connection. Unlike Java,
            // only when nothing at all arrived while the request waited: one slow answer on a connection that keeps
            // answering others must not fail every request in flight on it.
            logger.warning(
                "request timed out; closing the connection",
                metadata: ["remoting.timeouts": "\(result.expired.count)", "remoting.pending": "\(stateMachine.pendingCount)"])
            close(cause: .timedOut)
            return
        }
        if let next = result.armTimer { arm(at: next) }
        if result.close { close(cause: .retired) }
    }

    /// A timeout closes the connection only if the request had this long on it (Java: `MIN_CLOSE_TIMEOUT_MILLIS`), so
    /// a request whose deadline was nearly spent before it was written says nothing about the connection.
    static let closeOnTimeoutMinimumWait = TimeAmount.milliseconds(100)

    // MARK: Inbound

    private func handleResponse(_ response: RemotingCommand) {
        switch stateMachine.responseReceived(opaque: response.opaque) {
        case .unknown:
            logger.debug(
                "response with no pending request dropped",
                metadata: ["remoting.opaque": "\(response.opaque)", "remoting.code": "\(response.code)"])
        case .complete(let promise, let sentAt, let close):
            receivedResponse = true
            environment.metrics.requestsCompleted()
            let now = context?.eventLoop.now ?? .now()
            environment.metrics.latency.recordNanoseconds((now - sentAt).nanoseconds)
            promise.succeed(response)
            if close { self.close(cause: .retired) }
        }
    }

    private func handleRequest(_ request: RemotingCommand, context: ChannelHandlerContext) {
        guard let processor = environment.processors.processor(for: request.code) else {
            if request.isOneway {
                logger.debug("oneway request with no processor dropped", metadata: ["remoting.code": "\(request.code)"])
                return
            }
            logger.debug(
                "request with no processor answered REQUEST_CODE_NOT_SUPPORTED",
                metadata: ["remoting.opaque": "\(request.opaque)", "remoting.code": "\(request.code)"])
            let response = RemotingCommand.response(
                to: request, code: .requestCodeNotSupported, remark: " request type \(request.code) not supported")
            writeResponse(response)
            return
        }
        let requestContext = RemotingRequestContext(address: address, connectionID: connectionID)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let accepted = environment.pushedRequests.spawn {
            var response: RemotingCommand?
            do {
                response = try await processor.process(request, context: requestContext)
            } catch {
                response = RemotingCommand.response(to: request, code: .systemError, remark: "\(error)")
            }
            guard !request.isOneway, var response else { return }
            response.opaque = request.opaque
            response.isResponse = true
            response.isOneway = false
            let answer = response
            eventLoop.execute { handler.value.writeResponse(answer) }
        }
        if !accepted {
            logger.debug("pushed request dropped: the client is not running", metadata: ["remoting.code": "\(request.code)"])
        }
    }

    /// Writes a response to a pushed request (dropped when the connection has closed meanwhile).
    func writeResponse(_ response: RemotingCommand) {
        guard !stateMachine.isClosed else { return }
        do {
            try enqueue(response, waiter: nil)
        } catch {
            logger.warning("could not encode a response", metadata: ["remoting.error": "\(error)"])
        }
    }

    // MARK: Write batching

    /// Encodes `command` after this tick's other frames; they are written and flushed at the end of the tick (or
    /// earlier, without a flush, once they hold ``ConnectionEnvironment/writeBatchBytes``), so the frames of a tick
    /// share one buffer and one write. A command that cannot be encoded throws
    /// ``RemotingError/Kind/invalidRequest(_:)`` and leaves the others as they were.
    private func enqueue(_ command: RemotingCommand, waiter: EventLoopPromise<Void>?) throws {
        guard let context else {
            throw RemotingError(.channelClosed, address: address, "connection is not open")
        }
        do {
            try outbound.append(command, allocator: context.channel.allocator)
        } catch let error as WireError {
            throw RemotingError(.invalidRequest(error), address: address, opaque: command.opaque, "cannot encode: \(error.message)")
        }
        if let waiter { outboundWaiters.append(waiter) }
        if outbound.readableBytes >= environment.writeBatchBytes {
            writeOutbound(context: context)
        }
        scheduleFlush(context: context)
    }

    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            self.flushOutbound()
        }
    }

    private func flushOutbound() {
        flushScheduled = false
        guard let context else { return }
        writeOutbound(context: context)
        context.flush()
    }

    private func writeOutbound(context: ChannelHandlerContext) {
        guard let buffer = outbound.take() else { return }
        lastActivity = context.eventLoop.now
        guard !outboundWaiters.isEmpty else {
            // Nobody waits for the write itself (requests wait for their responses): no promise. A write that fails
            // closes the channel, and the close fails whatever is pending.
            context.write(wrapOutboundOut(buffer), promise: nil)
            return
        }
        let waiters = outboundWaiters
        outboundWaiters = []
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.write(wrapOutboundOut(buffer), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            for waiter in waiters { waiter.completeWith(result) }
            if case .failure(let error) = result, self.closeCause == nil {
                self.logger.debug("write failed", metadata: ["remoting.error": "\(error)"])
                self.close(cause: .failed(RemotingError(.channelClosed, address: self.address, "write failed: \(error)")))
            }
        }
    }

    private func emit(_ kind: RemotingChannelEvent.Kind, error: RemotingError? = nil, closedByPeer: Bool = false) {
        environment.events?.emit(
            RemotingChannelEvent(kind, address: address, connectionID: connectionID, error: error, closedByPeer: closedByPeer))
    }
}
