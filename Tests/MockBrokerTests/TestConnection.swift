import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RocketMQRemoting
import RocketMQTestSupport
import RocketMQWire

/// A minimal remoting client for tests of the broker itself: one TCP connection, requests matched by opaque,
/// requests pushed by the server collected in order.
final class TestConnection: Sendable {
    let channel: Channel
    private let state: NIOLockedValueBox<State>

    struct State {
        var nextOpaque: Int32 = 0
        var pending: [Int32: CheckedContinuation<RemotingCommand, Error>] = [:]
        var pushed: [RemotingCommand] = []
        var pushWaiters: [(RequestCode, CheckedContinuation<RemotingCommand, Error>)] = []
        var closed = false
    }

    struct Closed: Error {}
    struct TimedOut: Error, CustomStringConvertible {
        var description: String
    }

    private init(channel: Channel, state: NIOLockedValueBox<State>) {
        self.channel = channel
        self.state = state
    }

    static func connect(_ address: String) async throws -> TestConnection {
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw TimedOut(description: "bad address \(address)") }
        let state = NIOLockedValueBox(State())
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RemotingFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(RemotingFrameEncoder()))
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state))
                }
            }
            .connect(host: String(parts[0]), port: port).get()
        return TestConnection(channel: channel, state: state)
    }

    /// A plain TCP connection with no handlers, for writing arbitrary bytes.
    static func rawChannel(_ address: String) async throws -> Channel {
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw TimedOut(description: "bad address \(address)") }
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: String(parts[0]), port: port).get()
    }

    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = RemotingCommand
        let state: NIOLockedValueBox<State>
        init(state: NIOLockedValueBox<State>) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let command = unwrapInboundIn(data)
            if command.isResponse {
                let waiter = state.withLockedValue { $0.pending.removeValue(forKey: command.opaque) }
                waiter?.resume(returning: command)
            } else {
                let waiter = state.withLockedValue { s -> CheckedContinuation<RemotingCommand, Error>? in
                    if let i = s.pushWaiters.firstIndex(where: { $0.0.rawValue == command.code }) {
                        return s.pushWaiters.remove(at: i).1
                    }
                    s.pushed.append(command)
                    return nil
                }
                waiter?.resume(returning: command)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            let (pending, waiters) = state.withLockedValue { s in
                s.closed = true
                defer {
                    s.pending = [:]
                    s.pushWaiters = []
                }
                return (Array(s.pending.values), s.pushWaiters.map(\.1))
            }
            for p in pending { p.resume(throwing: Closed()) }
            for w in waiters { w.resume(throwing: Closed()) }
        }
    }

    /// Sends a request and waits for its response (at most `timeout`: a deadline for a failing test, generous
    /// because a loaded machine can take seconds to answer what takes a millisecond when quiet).
    func call(
        _ code: RequestCode, _ fields: ExtFields? = ExtFields(), body: ByteBuffer? = nil, version: Int32 = 479,
        serializeType: SerializeType = .json, timeout: Duration = .seconds(30)
    ) async throws -> RemotingCommand {
        var command = RemotingCommand.request(code, extFields: fields, body: body)
        command.version = version
        command.serializeType = serializeType
        return try await call(command, timeout: timeout)
    }

    func call(_ command: RemotingCommand, timeout: Duration = .seconds(30)) async throws -> RemotingCommand {
        var command = command
        command.opaque = state.withLockedValue {
            $0.nextOpaque += 1
            return $0.nextOpaque
        }
        let opaque = command.opaque
        let sent = command
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)) { [state] in
            let waiter = state.withLockedValue { $0.pending.removeValue(forKey: opaque) }
            waiter?.resume(throwing: TimedOut(description: "no response to \(sent) within \(timeout)"))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let closed = state.withLockedValue { s -> Bool in
                if s.closed { return true }
                s.pending[opaque] = continuation
                return false
            }
            if closed {
                continuation.resume(throwing: Closed())
                return
            }
            channel.writeAndFlush(command, promise: nil)
        }
    }

    /// Sends a oneway request.
    func oneway(_ code: RequestCode, _ fields: ExtFields, body: ByteBuffer? = nil) async throws {
        var command = RemotingCommand.request(code, extFields: fields, body: body, oneway: true)
        command.opaque = state.withLockedValue {
            $0.nextOpaque += 1
            return $0.nextOpaque
        }
        try await channel.writeAndFlush(command)
    }

    /// Waits for a request the server pushes (e.g. NOTIFY_CONSUMER_IDS_CHANGED).
    func nextPush(_ code: RequestCode, timeout: Duration = .seconds(30)) async throws -> RemotingCommand {
        let already = state.withLockedValue { s -> RemotingCommand? in
            guard let i = s.pushed.firstIndex(where: { $0.code == code.rawValue }) else { return nil }
            return s.pushed.remove(at: i)
        }
        if let already { return already }
        let box = NIOLockedValueBox<CheckedContinuation<RemotingCommand, Error>?>(nil)
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)) { [state] in
            let waiter = state.withLockedValue { s -> CheckedContinuation<RemotingCommand, Error>? in
                guard let i = s.pushWaiters.firstIndex(where: { $0.0 == code }) else { return nil }
                return s.pushWaiters.remove(at: i).1
            }
            waiter?.resume(throwing: TimedOut(description: "no \(code) pushed within \(timeout)"))
        }
        defer { timer.cancel() }
        _ = box
        return try await withCheckedThrowingContinuation { continuation in
            let result = state.withLockedValue { s -> (RemotingCommand?, Bool) in
                if let i = s.pushed.firstIndex(where: { $0.code == code.rawValue }) { return (s.pushed.remove(at: i), false) }
                if s.closed { return (nil, true) }
                s.pushWaiters.append((code, continuation))
                return (nil, false)
            }
            if let command = result.0 { continuation.resume(returning: command) } else if result.1 {
                continuation.resume(throwing: Closed())
            }
        }
    }

    /// Answers a request the server pushed (matched by its opaque).
    func respond(to push: RemotingCommand, code: ResponseCode = .success, remark: String? = nil) async throws {
        try await channel.writeAndFlush(RemotingCommand.response(to: push, code: code, remark: remark))
    }

    /// Requests pushed so far and not yet consumed, of `code`.
    func pushedCount(_ code: RequestCode) -> Int {
        state.withLockedValue { $0.pushed.filter { $0.code == code.rawValue }.count }
    }

    /// Waits until the server closes the connection.
    func waitClosed(timeout: Duration = .seconds(30)) async throws {
        let channel = self.channel
        try await withTimeout(timeout, "the server to close the connection") { try await channel.closeFuture.get() }
    }

    func close() async { try? await channel.close() }
}
