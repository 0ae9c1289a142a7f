import Atomics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import RocketMQWire
import RocketMQTestSupport
import Testing

@testable import RocketMQRemoting

/// Collects values and lets tests wait (with a deadline) for one matching a predicate.
final class Recorder<T: Sendable>: Sendable {
    private struct Waiter {
        var predicate: @Sendable (Int, T) -> Bool
        var continuation: CheckedContinuation<T?, Never>
    }
    private struct State {
        var items: [T] = []
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
    }
    private let state = NIOLockedValueBox(State())

    init() {}

    var items: [T] { state.withLockedValue { $0.items } }
    var count: Int { state.withLockedValue { $0.items.count } }

    func append(_ item: T) {
        let ready: [CheckedContinuation<T?, Never>] = state.withLockedValue { state in
            let index = state.items.count
            state.items.append(item)
            var ready: [CheckedContinuation<T?, Never>] = []
            for (id, waiter) in state.waiters where waiter.predicate(index, item) {
                ready.append(waiter.continuation)
                state.waiters.removeValue(forKey: id)
            }
            return ready
        }
        for continuation in ready { continuation.resume(returning: item) }
    }

    /// The first item (already recorded or future) for which `predicate(index, item)` holds.
    func first(
        timeout: Duration = .seconds(20), _ what: String = "a recorded item",
        where predicate: @escaping @Sendable (Int, T) -> Bool
    ) async throws -> T {
        try await withTimeout(timeout, what) {
            guard let value = await self.wait(predicate) else { throw TimedOut(what: what) }
            return value
        }
    }

    /// The item at `index` once it has been recorded.
    func element(at index: Int, timeout: Duration = .seconds(20)) async throws -> T {
        try await first(timeout: timeout, "item #\(index)") { i, _ in i == index }
    }

    private func wait(_ predicate: @escaping @Sendable (Int, T) -> Bool) async -> T? {
        let id = state.withLockedValue { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
                let found: T?? = state.withLockedValue { state in
                    if let match = state.items.enumerated().first(where: { predicate($0.offset, $0.element) }) {
                        return .some(match.element)
                    }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = Waiter(predicate: predicate, continuation: continuation)
                    return nil
                }
                if let found { continuation.resume(returning: found) }
            }
        } onCancel: {
            let waiter = state.withLockedValue { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(returning: nil)
        }
    }
}

/// Drains a client's events into a recorder.
func recordEvents(of client: RemotingClient) -> Recorder<RemotingChannelEvent> {
    let recorder = Recorder<RemotingChannelEvent>()
    let stream = client.events
    Task {
        for await event in stream { recorder.append(event) }
    }
    return recorder
}

/// Hands out `NIOAsyncTestingChannel`s instead of sockets, all on one virtual-time event loop.
final class TestConnector: RemotingConnector, Sendable {
    let loop: NIOAsyncTestingEventLoop
    /// Every channel opened, with its address, in order.
    let channels = Recorder<(address: String, channel: NIOAsyncTestingChannel)>()
    private let refusing = NIOLockedValueBox<Set<String>>([])
    private let blackholed = NIOLockedValueBox<Set<String>>([])
    let attempts = ManagedAtomic<Int>(0)

    init(loop: NIOAsyncTestingEventLoop) {
        self.loop = loop
    }

    /// Connects to `address` hang until the connect timeout, then fail (a black-holed host), while set.
    func blackhole(_ address: String) {
        blackholed.withLockedValue { _ = $0.insert(address) }
    }

    /// Connects to `address` fail (connection refused) while set.
    func refuse(_ address: String, _ refuse: Bool = true) {
        refusing.withLockedValue { if refuse { $0.insert(address) } else { $0.remove(address) } }
    }

    func connect(
        to address: RemotingAddress, on eventLoop: any EventLoop, timeout: TimeAmount,
        initialize: @escaping @Sendable (any Channel) throws -> Void
    ) -> EventLoopFuture<any Channel> {
        attempts.wrappingIncrement(ordering: .relaxed)
        let text = "\(address.host):\(address.port)"
        if refusing.withLockedValue({ $0.contains(text) }) {
            return loop.makeFailedFuture(TestConnectError())
        }
        if blackholed.withLockedValue({ $0.contains(text) }) {
            return loop.scheduleTask(in: timeout) { () throws -> any Channel in throw TestConnectError() }.futureResult
        }
        let channel = NIOAsyncTestingChannel(loop: loop)
        let recorder = channels
        return loop.submit {
            try initialize(channel)
        }.flatMap {
            do {
                return channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: address.port))
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.map {
            recorder.append((text, channel))
            return channel as any Channel
        }
    }
}

struct TestConnectError: Error {}

/// Encodes `command` as one frame.
func frame(_ command: RemotingCommand) throws -> ByteBuffer {
    try RemotingFrame.encode(command)
}

/// The scripted peer's side of a testing channel: reads the client's frames, writes answers.
struct ScriptedPeer {
    let channel: NIOAsyncTestingChannel
    private let pending = NIOLockedValueBox<[RemotingCommand]>([])

    init(_ channel: NIOAsyncTestingChannel) {
        self.channel = channel
    }

    /// The next command the client wrote (waits for a flush).
    func nextCommand() async throws -> RemotingCommand {
        if let command = pending.withLockedValue({ $0.isEmpty ? nil : $0.removeFirst() }) {
            return command
        }
        let channel = self.channel
        var buffer = try await withTimeout(.seconds(20), "an outbound write") {
            try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        }
        var commands: [RemotingCommand] = []
        while let inner = try RemotingFrame.split(&buffer) {
            commands.append(try RemotingFrame.decode(inner))
        }
        #expect(buffer.readableBytes == 0)
        guard !commands.isEmpty else { throw TimedOut(what: "a frame") }
        let first = commands.removeFirst()
        pending.withLockedValue { $0.append(contentsOf: commands) }
        return first
    }

    /// The next `count` commands.
    func nextCommands(_ count: Int) async throws -> [RemotingCommand] {
        var result: [RemotingCommand] = []
        result.reserveCapacity(count)
        while result.count < count { result.append(try await nextCommand()) }
        return result
    }

    /// Writes `command` to the client as one frame.
    func send(_ command: RemotingCommand) async throws {
        try await channel.writeInbound(try frame(command))
    }

    /// Answers `request` with `code`, echoing its body.
    func answer(_ request: RemotingCommand, code: ResponseCode = .success, remark: String? = nil) async throws {
        try await send(RemotingCommand.response(to: request, code: code, remark: remark, body: request.body))
    }
}

func body(_ text: String) -> ByteBuffer {
    ByteBuffer(string: text)
}

func testLogger() -> Logger {
    var logger = Logger(label: "test.remoting")
    logger.logLevel = .critical
    return logger
}

/// A client over testing channels on a virtual-time loop.
func makeTestClient(
    _ configure: (inout RemotingClientConfiguration) -> Void = { _ in }
) -> (client: RemotingClient, connector: TestConnector, loop: NIOAsyncTestingEventLoop) {
    let loop = NIOAsyncTestingEventLoop()
    let connector = TestConnector(loop: loop)
    var configuration = RemotingClientConfiguration()
    configure(&configuration)
    let client = RemotingClient(configuration: configuration, eventLoopGroup: loop, connector: connector, logger: testLogger())
    return (client, connector, loop)
}

/// Captures the outcome of an async call started in the background.
final class Outcome<T: Sendable>: Sendable {
    private let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
    private let done = Recorder<Int>()

    init(_ body: @escaping @Sendable () async throws -> T) {
        Task {
            do {
                self.complete(.success(try await body()))
            } catch {
                self.complete(.failure(error))
            }
        }
    }

    private func complete(_ value: Result<T, any Error>) {
        result.withLockedValue { $0 = value }
        done.append(0)
    }

    var isDone: Bool { result.withLockedValue { $0 != nil } }

    func value(timeout: Duration = .seconds(20)) async throws -> Result<T, any Error> {
        _ = try await done.first(timeout: timeout, "the call to finish") { _, _ in true }
        guard let value = result.withLockedValue({ $0 }) else { throw TimedOut(what: "a result") }
        return value
    }

    func error(timeout: Duration = .seconds(20)) async throws -> RemotingError? {
        switch try await value(timeout: timeout) {
        case .success: return nil
        case .failure(let error): return error as? RemotingError
        }
    }
}
