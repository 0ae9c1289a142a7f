import NIOSSL
import Atomics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RocketMQWire

/// Hands out request opaques: one counter per client, shared by its connections, wrapping like Java's `int`.
final class OpaqueGenerator: Sendable {
    private let counter = ManagedAtomic<Int32>(0)

    init() {}

    func next() -> Int32 {
        counter.wrappingIncrementThenLoad(ordering: .relaxed)
    }
}

/// A `"host:port"` address split into its parts (IPv6 hosts may be bracketed: `"[::1]:10911"`).
struct RemotingAddress: Sendable, Hashable {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(parsing address: String) throws {
        guard let colon = address.lastIndex(of: ":") else {
            throw RemotingError(.invalidAddress, address: address, "address is not host:port")
        }
        var host = Substring(address[..<colon])
        let portText = address[address.index(after: colon)...]
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw RemotingError(.invalidAddress, address: address, "port is not a number in 0...65535")
        }
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
        }
        guard !host.isEmpty else {
            throw RemotingError(.invalidAddress, address: address, "host is empty")
        }
        self.host = String(host)
        self.port = port
    }
}

/// Opens channels. Production uses TCP (``SocketConnector``); tests substitute in-memory channels.
protocol RemotingConnector: Sendable {
    /// Connects to `address` on `eventLoop`, running `initialize` on the channel's event loop before connecting.
    func connect(
        to address: RemotingAddress, on eventLoop: any EventLoop, timeout: TimeAmount,
        initialize: @escaping @Sendable (any Channel) throws -> Void
    ) -> EventLoopFuture<any Channel>
}

/// TCP connections through SwiftNIO's `ClientBootstrap`, optionally over TLS (swift-nio-ssl).
struct SocketConnector: RemotingConnector {
    /// The TLS context, or the error that building it from the configuration produced.
    let tls: Result<NIOSSLContext, any Error>?

    init(tls configuration: TLSConfiguration? = nil) {
        tls = configuration.map { config in Result { try NIOSSLContext(configuration: config) } }
    }

    func connect(
        to address: RemotingAddress, on eventLoop: any EventLoop, timeout: TimeAmount,
        initialize: @escaping @Sendable (any Channel) throws -> Void
    ) -> EventLoopFuture<any Channel> {
        var context: NIOSSLContext?
        switch tls {
        case .failure(let error):
            return eventLoop.makeFailedFuture(
                RemotingError(.connectFailed, address: "\(address.host):\(address.port)", "invalid TLS configuration: \(error)"))
        case .success(let c): context = c
        case nil: break
        }
        let sslContext = context
        // SNI and hostname verification use the host only when it is a name, not an IP literal.
        let serverName = address.host.contains(where: { $0.isLetter }) && !address.host.contains(":") ? address.host : nil
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try initialize(channel)
                }
            }
            .connect(host: address.host, port: address.port)
    }
}

/// The task waiting for one response: its continuation, resumed from the event loop.
///
/// Resumed exactly once: the connection's state machine hands each pending request out exactly once (answered,
/// timed out, cancelled or failed at close), and a waiter that never reached the state machine is failed directly.
/// A continuation instead of an `EventLoopPromise` saves the promise, its future and callback list per request.
struct ResponseWaiter: Sendable {
    let continuation: UnsafeContinuation<RemotingCommand, any Error>

    func succeed(_ response: RemotingCommand) { continuation.resume(returning: response) }
    func fail(_ error: any Error) { continuation.resume(throwing: error) }
}

/// Work posted from any thread to a connection's event loop.
enum OutboxItem: Sendable {
    case request(RemotingCommand, waiter: ResponseWaiter, deadline: NIODeadline)
    case oneway(RemotingCommand, promise: EventLoopPromise<Void>)
    case cancel(Int32)
}

struct Outbox: Sendable {
    var items: [OutboxItem] = []
    var drainScheduled = false
    /// An emptied array of an earlier drain, kept for its capacity (no allocation per drain).
    var spare: [OutboxItem] = []
}

/// One connection to one address: sends requests and awaits their responses.
///
/// Thread-safe; every operation hops to the channel's event loop, where the ``RemotingChannelHandler`` lives.
final class RemotingConnection: Sendable {
    let address: String
    let id: UInt64
    let channel: any Channel
    private let handler: NIOLoopBoundBox<RemotingChannelHandler?>
    private let opaques: OpaqueGenerator
    private let outbox = NIOLockedValueBox(Outbox())
    /// Set when a normal answer on this connection must be reported to the connection table (fresh GO_AWAY
    /// replacement, or connected while its address was draining).
    let reportsNormalAnswer = ManagedAtomic<Bool>(false)

    var eventLoop: any EventLoop { channel.eventLoop }

    private init(
        address: String, id: UInt64, channel: any Channel, handler: NIOLoopBoundBox<RemotingChannelHandler?>,
        opaques: OpaqueGenerator
    ) {
        self.address = address
        self.id = id
        self.channel = channel
        self.handler = handler
        self.opaques = opaques
    }

    /// Opens a connection through `connector`, installing the idle handler, frame decoder and channel handler.
    static func connect(
        address: String, id: UInt64, connector: any RemotingConnector, eventLoop: any EventLoop,
        configuration: RemotingClientConfiguration, environment: ConnectionEnvironment, opaques: OpaqueGenerator
    ) -> EventLoopFuture<RemotingConnection> {
        let parsed: RemotingAddress
        do {
            parsed = try RemotingAddress(parsing: address)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let box = NIOLoopBoundBox<RemotingChannelHandler?>.makeEmptyBox(valueType: RemotingChannelHandler.self, eventLoop: eventLoop)
        let maxFrame = configuration.maxFrameLength
        let future = connector.connect(
            to: parsed, on: eventLoop, timeout: TimeAmount(configuration.connectTimeout),
            initialize: { channel in
                let handler = RemotingChannelHandler(
                    address: address, connectionID: id, maxFrameLength: maxFrame, environment: environment)
                try channel.pipeline.syncOperations.addHandler(handler)
                box.value = handler
            })
        return future.map { channel in
            RemotingConnection(address: address, id: id, channel: channel, handler: box, opaques: opaques)
        }.flatMapErrorThrowing { error in
            if let remoting = error as? RemotingError { throw remoting }
            throw RemotingError(.connectFailed, address: address, "connect failed: \(error)")
        }
    }

    private func onLoop(_ body: @escaping @Sendable (RemotingChannelHandler?) -> Void) {
        if eventLoop.inEventLoop {
            body(handler.value)
        } else {
            let handler = self.handler
            eventLoop.execute { body(handler.value) }
        }
    }

    /// Hands `item` to the event loop. Items posted while a drain is already scheduled ride along with it, so a
    /// burst of requests from many tasks costs one event-loop task (and wake-up), not one each. Order is preserved,
    /// so a cancellation always follows its request. On the event loop itself, with nothing queued, the item is
    /// handled at once (a sender running on the loop, see ``EventLoopTaskExecutor``, pays no task hop).
    private func post(_ item: OutboxItem) {
        let onLoop = eventLoop.inEventLoop
        let mustSchedule = outbox.withLockedValue { outbox -> Bool? in
            if onLoop && !outbox.drainScheduled { return nil }
            outbox.items.append(item)
            if outbox.drainScheduled { return false }
            outbox.drainScheduled = true
            return true
        }
        switch mustSchedule {
        case nil: Self.handle(item, handler: handler.value, address: address)
        case false?: return
        case true?:
            // Capturing `self` alone: the closure needs no context of its own (one allocation less per drain).
            eventLoop.execute { self.drainOutbox() }
        }
    }

    /// On the event loop: handles the items posted since the last drain, in order.
    private func drainOutbox() {
        var items = outbox.withLockedValue { outbox -> [OutboxItem] in
            var items = outbox.spare
            outbox.spare = []
            swap(&items, &outbox.items)
            outbox.drainScheduled = false
            return items
        }
        let handler = self.handler.value
        for item in items { Self.handle(item, handler: handler, address: address) }
        items.removeAll(keepingCapacity: true)
        if items.capacity <= 1024 {
            outbox.withLockedValue { if $0.spare.capacity < items.capacity { $0.spare = items } }
        }
    }

    private static func handle(_ item: OutboxItem, handler: RemotingChannelHandler?, address: String) {
        switch item {
        case .request(let request, let waiter, let deadline):
            if let handler {
                handler.send(request, waiter: waiter, deadline: deadline)
            } else {
                waiter.fail(RemotingError(.channelClosed, address: address, opaque: request.opaque, "connection is not open"))
            }
        case .oneway(let request, let promise):
            if let handler {
                handler.sendOneway(request, promise: promise)
            } else {
                promise.fail(RemotingError(.channelClosed, address: address, opaque: request.opaque, "connection is not open"))
            }
        case .cancel(let opaque):
            handler?.cancel(opaque: opaque)
        }
    }

    /// Sends `request` with a fresh opaque and waits for its response until `deadline`.
    ///
    /// The event loop encodes the frame into the outbound buffer of its tick, with the other frames written in that
    /// tick (a frame buffer of its own per request cost two allocations); a request that cannot be encoded fails
    /// with ``RemotingError/Kind/invalidRequest(_:)``. Cancelling the task fails the request with
    /// ``RemotingError/Kind/cancelled`` and forgets it.
    func send(_ request: RemotingCommand, deadline: NIODeadline) async throws -> RemotingCommand {
        var request = request
        let opaque = opaques.next()
        request.opaque = opaque
        request.flag &= ~(RemotingCommand.responseFlag | RemotingCommand.onewayFlag)
        if Task.isCancelled {
            throw RemotingError(.cancelled, address: address, opaque: opaque, "the waiting task was cancelled")
        }
        let prepared = request
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                post(.request(prepared, waiter: ResponseWaiter(continuation: continuation), deadline: deadline))
                // A cancellation that raced ahead of the post above is repeated behind it.
                if Task.isCancelled { post(.cancel(opaque)) }
            }
        } onCancel: {
            post(.cancel(opaque))
        }
    }

    /// Sends `request` as oneway (flag bit 1); returns once it has been written to the socket.
    func sendOneway(_ request: RemotingCommand) async throws {
        var request = request
        request.opaque = opaques.next()
        request.isResponse = false
        request.isOneway = true
        let promise = eventLoop.makePromise(of: Void.self)
        post(.oneway(request, promise: promise))
        try await promise.futureResult.get()
    }

    /// Closes once the requests in flight have finished; takes no new requests from the table.
    func retire() {
        onLoop { $0?.retire() }
    }

    /// Closes now, failing pending requests with the error for `cause`.
    func close(cause: ConnectionCloseCause) {
        let channel = self.channel
        onLoop { handler in
            if let handler {
                handler.close(cause: cause)
            } else {
                channel.close(promise: nil)
            }
        }
    }

    /// Requests awaiting a response on this connection.
    func pendingCount() async -> Int {
        let handler = self.handler
        return (try? await eventLoop.submit { handler.value?.pendingCount ?? 0 }.get()) ?? 0
    }

    /// Completes when the channel has closed.
    var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}
