import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RocketMQRemoting
import RocketMQWire

/// One accepted client connection of a mock server.
public final class MockConnection: Sendable, Hashable, CustomStringConvertible {
    /// A process-unique id.
    public let id: Int
    /// The remote address as `ip:port`.
    public let remoteAddress: String
    /// The remote address as the store format's born host (parsed once, not per message).
    let remoteHost: MessageHost?
    let channel: Channel
    private let state = NIOLockedValueBox(State())

    struct State {
        var lastActivityNanos: UInt64 = 0
        var clientVersion: Int32 = 0
        var opaque: Int32 = 0
        /// Requests pushed with ``pushRequest(_:fields:body:timeout:)`` awaiting the client's response, by opaque.
        var pendingPushes: [Int32: EventLoopPromise<RemotingCommand>] = [:]
        /// Set once the channel went inactive: no new push may wait for an answer.
        var closed = false
    }

    /// Why a push awaiting a response failed.
    enum PushError: Error, CustomStringConvertible {
        /// The connection closed before the client answered.
        case closed
        /// The client did not answer in time.
        case timedOut(TimeAmount)

        var description: String {
            switch self {
            case .closed: return "connection closed"
            case .timedOut(let t): return "no response within \(t.nanoseconds / 1_000_000) ms"
            }
        }
    }

    init(id: Int, channel: Channel) {
        self.id = id
        self.channel = channel
        self.remoteAddress = Self.format(channel.remoteAddress)
        self.remoteHost = MessageHost(remoteAddress)
    }

    static func format(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "unknown" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }

    func touch(version: Int32) {
        state.withLockedValue {
            $0.lastActivityNanos = NIODeadline.now().uptimeNanoseconds
            $0.clientVersion = version
        }
    }

    var lastActivity: NIODeadline { NIODeadline.uptimeNanoseconds(state.withLockedValue { $0.lastActivityNanos }) }

    /// Writes and flushes a command (a response, or a request the server pushes).
    func send(_ command: RemotingCommand) {
        channel.writeAndFlush(command, promise: nil)
    }

    /// Pushes a oneway request to the client with a fresh opaque.
    func pushOneway(_ code: RequestCode, fields: ExtFields, body: ByteBuffer? = nil) {
        let opaque = state.withLockedValue {
            $0.opaque &+= 1
            return $0.opaque
        }
        var command = RemotingCommand.request(code, opaque: opaque, extFields: fields, body: body, oneway: true)
        command.version = RemotingCommand.defaultVersion
        send(command)
    }

    /// Pushes a request to the client and awaits its response, matched by opaque (Java's `invokeSync` from the
    /// server side). The future fails with ``PushError`` when the connection closes first or no response arrives
    /// within `timeout`; it completes on this connection's event loop and never blocks it.
    func pushRequest(_ code: RequestCode, fields: ExtFields, body: ByteBuffer? = nil, timeout: TimeAmount) -> EventLoopFuture<RemotingCommand> {
        let promise = channel.eventLoop.makePromise(of: RemotingCommand.self)
        let opaque = state.withLockedValue { s -> Int32? in
            guard !s.closed else { return nil }
            s.opaque &+= 1
            s.pendingPushes[s.opaque] = promise
            return s.opaque
        }
        guard let opaque else {
            promise.fail(PushError.closed)
            return promise.futureResult
        }
        let timer = channel.eventLoop.scheduleTask(in: timeout) { [self] in
            takePendingPush(opaque)?.fail(PushError.timedOut(timeout))
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        var command = RemotingCommand.request(code, opaque: opaque, extFields: fields, body: body)
        command.version = RemotingCommand.defaultVersion
        channel.writeAndFlush(command).whenFailure { [self] error in
            takePendingPush(opaque)?.fail(error)
        }
        return promise.futureResult
    }

    private func takePendingPush(_ opaque: Int32) -> EventLoopPromise<RemotingCommand>? {
        state.withLockedValue { $0.pendingPushes.removeValue(forKey: opaque) }
    }

    /// A response from the client: completes the push it answers (one nobody waits for any more is dropped).
    func receivedResponse(_ response: RemotingCommand) {
        takePendingPush(response.opaque)?.succeed(response)
    }

    /// The channel went inactive: every push still awaiting an answer fails.
    func markClosed() {
        let pending = state.withLockedValue { s -> [EventLoopPromise<RemotingCommand>] in
            s.closed = true
            defer { s.pendingPushes = [:] }
            return Array(s.pendingPushes.values)
        }
        for p in pending { p.fail(PushError.closed) }
    }

    /// Whether the channel is open and accepts writes now (Java's `isActive() && isWritable()`).
    var isWritable: Bool { channel.isActive && channel.isWritable }
    /// Whether the channel is open.
    var isActive: Bool { channel.isActive }

    /// Closes the connection.
    func close() { channel.close(promise: nil) }

    public static func == (lhs: MockConnection, rhs: MockConnection) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
    public var description: String { "conn#\(id)(\(remoteAddress))" }
}

/// How a role answers one request.
enum ProcessResult {
    /// Send this response now.
    case respond(RemotingCommand)
    /// Send this response when it is ready (e.g. after a push to another client was answered); the event loop is
    /// not blocked meanwhile.
    case later(EventLoopFuture<RemotingCommand>)
    /// Nothing to send (oneway request, or the role answers later through the connection).
    case none
}

/// What the server writes for one inbound frame.
enum ServerReply {
    /// Nothing.
    case none
    /// This response, after `delay` if any.
    case now(RemotingCommand, delay: TimeAmount?)
    /// This response once the future completes, after `delay` if any.
    case later(EventLoopFuture<RemotingCommand>, delay: TimeAmount?)
}

/// A role served on a port: the name server or a broker.
protocol RequestProcessor: AnyObject, Sendable {
    /// Whether the role has a processor for the code (unknown codes get REQUEST_CODE_NOT_SUPPORTED).
    func supports(_ code: RequestCode) -> Bool
    /// Handles a request on the connection's event loop.
    func process(_ request: RemotingCommand, from connection: MockConnection) -> ProcessResult
    /// A connection closed.
    func connectionClosed(_ connection: MockConnection)
}

/// Faults a test can inject into a mock server.
public struct FaultState: Sendable {
    /// Accept requests but never answer them.
    public var paused = false
    /// Delay every response by this long.
    public var responseDelay: TimeAmount?
    /// Answer the next `count` requests (not oneway) with `code`.
    public var failNext: (count: Int, code: ResponseCode, remark: String)?
    /// Answer GO_AWAY to clients above V5_3_1 (graceful drain).
    public var goingAway = false
}

/// A listening socket with its connections: frames in, the role's answers out, faults applied in between.
final class MockServer: Sendable {
    let host: String
    private let hostIP: [UInt8]?
    let group: EventLoopGroup
    let logger: Logger
    private let state = NIOLockedValueBox(ServerState())
    private static let ids = NIOLockedValueBox(0)

    struct ServerState {
        var listener: Channel?
        var port: Int = 0
        var connections: [Int: MockConnection] = [:]
        var faults = FaultState()
        var processor: (any RequestProcessor)?
        /// Between start and stop: connections accepted outside this window are closed at once.
        var serving = false
    }

    init(host: String, group: EventLoopGroup, logger: Logger) {
        self.host = host
        self.hostIP = MessageHost("\(host):0")?.ip
        self.group = group
        self.logger = logger
    }

    /// The bound port (0 before `start`).
    var port: Int { state.withLockedValue { $0.port } }
    /// `host:port`.
    var address: String { "\(host):\(port)" }
    /// The listening address as the store format's store host (the host parsed once, not per message).
    var storeHost: MessageHost? { hostIP.map { MessageHost(ip: $0, port: Int32(port)) } }
    /// Whether the listener is up.
    var isListening: Bool { state.withLockedValue { $0.listener != nil } }

    var faults: FaultState {
        get { state.withLockedValue { $0.faults } }
    }

    func updateFaults(_ body: @Sendable (inout FaultState) -> Void) {
        state.withLockedValue { body(&$0.faults) }
    }

    var connections: [MockConnection] { state.withLockedValue { Array($0.connections.values) } }

    /// Binds `port` (0 = ephemeral; a previous port when restarting) and serves `processor` there.
    func start(port: Int, processor: any RequestProcessor) async throws {
        state.withLockedValue {
            $0.processor = processor
            $0.serving = true
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = Self.ids.withLockedValue {
                        $0 += 1
                        return $0
                    }
                    let connection = MockConnection(id: id, channel: channel)
                    // The handler reads and writes bytes itself; commands written from elsewhere (pushed requests,
                    // late answers) go through the encoder behind it.
                    try channel.pipeline.syncOperations.addHandler(MockServerHandler(server: self, connection: connection))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(RemotingFrameEncoder()))
                }
            }
        let listener = try await bootstrap.bind(host: host, port: port).get()
        let bound = listener.localAddress?.port ?? port
        state.withLockedValue {
            $0.listener = listener
            $0.port = bound
            $0.faults = FaultState()
        }
    }

    /// Stops listening and closes every connection (no GO_AWAY): a crash, as far as clients can tell.
    func stop() async {
        let listener = state.withLockedValue { s -> Channel? in
            let l = s.listener
            s.listener = nil
            s.serving = false
            s.faults = FaultState()
            return l
        }
        try? await listener?.close()
        // Taken after the listener closed; a connection it accepted just before and that registers only now is
        // refused by register(). Otherwise it would outlive the stop and be served again after a restart.
        let conns = state.withLockedValue { Array($0.connections.values) }
        for c in conns { try? await c.channel.close() }
    }

    /// Closes every client connection but keeps listening.
    func dropConnections() {
        for c in connections { c.close() }
    }

    func register(_ connection: MockConnection) {
        let accepted = state.withLockedValue { s -> Bool in
            guard s.serving else { return false }
            s.connections[connection.id] = connection
            return true
        }
        if !accepted { connection.close() }
    }

    func unregister(_ connection: MockConnection) {
        let processor = state.withLockedValue { s -> (any RequestProcessor)? in
            s.connections.removeValue(forKey: connection.id) != nil ? s.processor : nil
        }
        processor?.connectionClosed(connection)
    }

    /// Runs a request through faults, drain and the role; returns what to write.
    func handle(_ request: RemotingCommand, from connection: MockConnection) -> ServerReply {
        connection.touch(version: request.version)
        guard !request.isResponse else {
            // An answer to one of our pushes: completes the push awaiting it (others, e.g. to oneway pushes, are dropped).
            connection.receivedResponse(request)
            return .none
        }
        let code = request.requestCode
        guard let processor = state.withLockedValue({ $0.processor }) else { return .none }
        // Java's order: no processor -> NOT_SUPPORTED (even while draining), then GO_AWAY.
        guard processor.supports(code) else {
            if request.isOneway { return .none }
            return .now(RemotingCommand.response(
                to: request, code: .requestCodeNotSupported, remark: " request type \(code.rawValue) not supported"), delay: nil)
        }
        let decision = state.withLockedValue { s -> (pause: Bool, goAway: Bool, fail: (ResponseCode, String)?, delay: TimeAmount?) in
            if s.faults.paused { return (true, false, nil, nil) }
            if s.faults.goingAway && request.version > MQVersion.v5_3_1.rawValue { return (false, true, nil, nil) }
            var fail: (ResponseCode, String)?
            if !request.isOneway, let f = s.faults.failNext, f.count > 0 {
                fail = (f.code, f.remark)
                s.faults.failNext = f.count > 1 ? (f.count - 1, f.code, f.remark) : nil
            }
            return (false, false, fail, s.faults.responseDelay)
        }
        if decision.pause { return .none }
        if decision.goAway {
            if request.isOneway { return .none }
            var goAway = RemotingCommand.response(to: request, code: .goAway, remark: "please go away")
            goAway.extFields = nil
            return .now(goAway, delay: nil)
        }
        if let (code, remark) = decision.fail {
            return .now(RemotingCommand.response(to: request, code: code, remark: remark), delay: decision.delay)
        }
        switch processor.process(request, from: connection) {
        case .respond(let response):
            return request.isOneway ? .none : .now(response, delay: decision.delay)
        case .later(let future):
            return request.isOneway ? .none : .later(future, delay: decision.delay)
        case .none:
            return .none
        }
    }
}

/// The per-connection handler: decode → server.handle → write, flushing once per read burst.
///
/// Splits frames itself and encodes the answers of a read burst into one buffer, written and flushed when the burst
/// ends: no command boxed on its way through the pipeline and no buffer per answer (the broker's hot path).
final class MockServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: MockServer
    let connection: MockConnection
    private var decoder = NIOSingleStepByteToMessageProcessor(RemotingFrameDecoder())
    /// Whether a malformed frame ended reading (the connection is closing).
    private var decodeFailed = false
    /// The answers of this read burst.
    private var outbound = OutboundFrames()

    init(server: MockServer, connection: MockConnection) {
        self.server = server
        self.connection = connection
    }

    func channelActive(context: ChannelHandlerContext) {
        server.register(connection)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !decodeFailed {
            // Frames still buffered are handled; bytes of an incomplete one are the peer's error (logged).
            do {
                try decoder.finishProcessing(seenEOF: true) { request in handle(request, context: context) }
            } catch {
                decodeFailed = true
                errorCaught(context: context, error: error)
            }
        }
        connection.markClosed()
        server.unregister(connection)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decodeFailed else { return }
        do {
            try decoder.process(buffer: unwrapInboundIn(data)) { request in handle(request, context: context) }
        } catch {
            decodeFailed = true
            errorCaught(context: context, error: error)
        }
    }

    private func handle(_ request: RemotingCommand, context: ChannelHandlerContext) {
        switch server.handle(request, from: connection) {
        case .none:
            return
        case .now(let response, let delay):
            if let delay {
                let channel = context.channel
                context.eventLoop.scheduleTask(in: delay) {
                    channel.writeAndFlush(response, promise: nil)
                }
            } else {
                do {
                    try outbound.append(response, allocator: context.channel.allocator)
                } catch {
                    server.logger.warning("answer not encodable; dropped", metadata: ["error": "\(error)"])
                }
            }
        case .later(let future, let delay):
            let channel = context.channel
            let eventLoop = context.eventLoop
            future.hop(to: eventLoop).whenComplete { result in
                let response: RemotingCommand
                switch result {
                case .success(let r): response = r
                case .failure(let error):
                    response = RemotingCommand.response(to: request, code: .systemError, remark: "\(error)")
                }
                if let delay {
                    eventLoop.scheduleTask(in: delay) { channel.writeAndFlush(response, promise: nil) }
                } else {
                    channel.writeAndFlush(response, promise: nil)
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let buffer = outbound.take() {
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
        context.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Malformed frames (and any other error) close only this connection, as Java's NettyDecoder does.
        server.logger.warning(
            "closing connection after error", metadata: ["remote": "\(connection.remoteAddress)", "error": "\(error)"])
        context.close(promise: nil)
    }
}
