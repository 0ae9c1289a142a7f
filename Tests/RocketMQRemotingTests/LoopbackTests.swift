import Atomics
import NIOCore
import NIOPosix
import NIOSSL
import RocketMQWire
import RocketMQTestSupport
import Testing

@testable import RocketMQRemoting

/// What the in-test server does with one request.
enum ServerAction: Sendable {
    case reply(RemotingCommand)
    case raw(ByteBuffer)
    case close
}

/// A small remoting server on 127.0.0.1, port 0, answering by script.
final class TestServer: Sendable {
    typealias Script = @Sendable (_ request: RemotingCommand, _ connectionIndex: Int) -> [ServerAction]

    let channel: any Channel
    let accepted: ManagedAtomic<Int>
    /// Accepted connections, in order.
    let children: Recorder<any Channel>
    /// Responses the client sent to pushed requests.
    let responses: Recorder<RemotingCommand>

    private init(channel: any Channel, accepted: ManagedAtomic<Int>, children: Recorder<any Channel>, responses: Recorder<RemotingCommand>) {
        self.channel = channel
        self.accepted = accepted
        self.children = children
        self.responses = responses
    }

    var address: String { "127.0.0.1:\(channel.localAddress?.port ?? 0)" }

    static func echo(_ request: RemotingCommand, _ index: Int) -> [ServerAction] {
        request.isOneway ? [] : [.reply(RemotingCommand.response(to: request, code: .success, body: request.body))]
    }

    static func start(script: @escaping Script = echo, tls: NIOSSLContext? = nil) async throws -> TestServer {
        let accepted = ManagedAtomic<Int>(0)
        let children = Recorder<any Channel>()
        let responses = Recorder<RemotingCommand>()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                let index = accepted.loadThenWrappingIncrement(ordering: .relaxed)
                children.append(child)
                return child.eventLoop.makeCompletedFuture {
                    if let tls { try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(RemotingFrameDecoder()))
                    try child.pipeline.syncOperations.addHandler(ScriptHandler(script: script, index: index, responses: responses))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestServer(channel: channel, accepted: accepted, children: children, responses: responses)
    }

    /// Sends a request to the client on accepted connection `index`.
    func push(_ request: RemotingCommand, connection index: Int) async throws {
        let child = try await children.element(at: index)
        try await child.writeAndFlush(try RemotingFrame.encode(request))
    }

    func close() async {
        try? await channel.close()
        for child in children.items { try? await child.close() }
    }
}

final class ScriptHandler: ChannelInboundHandler {
    typealias InboundIn = RemotingCommand
    typealias OutboundOut = ByteBuffer

    let script: TestServer.Script
    let index: Int
    let responses: Recorder<RemotingCommand>

    init(script: @escaping TestServer.Script, index: Int, responses: Recorder<RemotingCommand>) {
        self.script = script
        self.index = index
        self.responses = responses
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let command = unwrapInboundIn(data)
        if command.isResponse {
            responses.append(command)
            return
        }
        for action in script(command, index) {
            switch action {
            case .reply(let response):
                if let buffer = try? RemotingFrame.encode(response, allocator: context.channel.allocator) {
                    context.write(wrapOutboundOut(buffer), promise: nil)
                }
            case .raw(let bytes):
                context.write(wrapOutboundOut(bytes), promise: nil)
            case .close:
                context.close(promise: nil)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@Suite("Remoting client over loopback TCP", .heavy)
struct LoopbackTests {
    func client(_ configure: (inout RemotingClientConfiguration) -> Void = { _ in }) -> RemotingClient {
        var configuration = RemotingClientConfiguration()
        // Generous by default (a loaded 2-core machine stalls debug builds); tests of deadlines set their own.
        configuration.defaultRequestTimeout = .seconds(20)
        configuration.connectTimeout = .seconds(10)
        configure(&configuration)
        return RemotingClient(configuration: configuration, logger: testLogger())
    }

    @Test("10,000 concurrent requests over one socket come back to their callers")
    func correlationUnderLoad() async throws {
        let server = try await TestServer.start()
        let client = client()
        let address = server.address
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<10_000 {
                group.addTask {
                    let response = try await client.invoke(RemotingCommand.request(.heartBeat, body: body("loop-\(i)")), address: address, timeout: .seconds(60))
                    #expect(String(decoding: response.bodyBytes, as: UTF8.self) == "loop-\(i)")
                }
            }
            try await group.waitForAll()
        }
        #expect(server.accepted.load(ordering: .relaxed) == 1)
        #expect(client.pendingRequestCount == 0)
        await client.shutdown()
        await server.close()
    }

    @Test("single-flight: 100 concurrent first requests make the server see exactly one connection")
    func singleFlight() async throws {
        let server = try await TestServer.start()
        let client = client()
        let address = server.address
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask { _ = try await client.invoke(RemotingCommand.request(.heartBeat), address: address, timeout: .seconds(30)) }
            }
            try await group.waitForAll()
        }
        #expect(server.accepted.load(ordering: .relaxed) == 1)
        await client.shutdown()
        await server.close()
    }

    @Test("a connection idle for the idle timeout is closed with an IDLE event; the next request reconnects at once")
    func idleClose() async throws {
        let server = try await TestServer.start()
        let client = client { $0.idleTimeout = .milliseconds(300) }
        let events = recordEvents(of: client)
        let address = server.address
        // On a loaded machine even this first exchange may outlast 300 ms; either way the connection goes idle.
        _ = try? await client.invoke(RemotingCommand.request(.heartBeat), address: address)
        let idle = try await events.first { _, event in event.kind == .idle }
        #expect(idle.address == address)
        _ = try await events.first { _, event in event.kind == .close && event.connectionID == idle.connectionID }
        let child = try await server.children.element(at: 0)
        try await withTimeout { try await child.closeFuture.get() }
        let kinds = events.items.filter { $0.connectionID == idle.connectionID }.map(\.kind)
        #expect(kinds == [.connect, .active, .idle, .close])
        // Closing an idle connection is the client's own decision: no reconnect backoff.
        do {
            _ = try await client.invoke(RemotingCommand.request(.heartBeat), address: address)
        } catch let error as RemotingError {
            #expect(error.kind != .reconnectBackoff)
        }
        _ = try await server.children.element(at: 1)
        await client.shutdown()
        await server.close()
    }

    @Test("a malformed frame from one server closes only that connection")
    func malformedFrame() async throws {
        let bad = try await TestServer.start { _, _ in
            var garbage = ByteBuffer()
            garbage.writeInteger(Int32(40))
            garbage.writeInteger(UInt32(0x0700_0004))  // serialize type 7
            garbage.writeBytes(Array(repeating: UInt8(0x41), count: 36))
            return [.raw(garbage)]
        }
        let good = try await TestServer.start()
        let client = client()
        _ = try await client.invoke(RemotingCommand.request(.heartBeat), address: good.address)
        let goodConnection = try #require(client.currentConnection(address: good.address))
        do {
            _ = try await client.invoke(RemotingCommand.request(.heartBeat), address: bad.address)
            Issue.record("expected a protocol error")
        } catch let error as RemotingError {
            guard case .protocolError(let wire) = error.kind else {
                Issue.record("expected protocolError, got \(error)")
                return
            }
            #expect(wire.kind == .unknownSerializeType)
        }
        let badChild = try await bad.children.element(at: 0)
        try await withTimeout { try await badChild.closeFuture.get() }
        _ = try await client.invoke(RemotingCommand.request(.heartBeat), address: good.address)
        #expect(client.currentConnection(address: good.address) === goodConnection)
        #expect(good.accepted.load(ordering: .relaxed) == 1)
        await client.shutdown()
        await bad.close()
        await good.close()
    }

    @Test("the server closing with 1,000 pending requests fails them all promptly")
    func serverCloseFailsPending() async throws {
        let seen = ManagedAtomic<Int>(0)
        let server = try await TestServer.start { _, _ in
            seen.wrappingIncrementThenLoad(ordering: .relaxed) == 1000 ? [.close] : []
        }
        let client = client()
        let address = server.address
        let failures = ManagedAtomic<Int>(0)
        try await withTimeout(.seconds(30), "all requests to fail") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<1000 {
                    group.addTask {
                        do {
                            _ = try await client.invoke(RemotingCommand.request(.heartBeat), address: address, timeout: .seconds(60))
                        } catch let error as RemotingError where error.kind == .channelClosed {
                            failures.wrappingIncrement(ordering: .relaxed)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(failures.load(ordering: .relaxed) == 1000)
        #expect(client.pendingRequestCount == 0)
        await client.shutdown()
        await server.close()
    }

    @Test("requests pushed by the server are answered by the processor or with REQUEST_CODE_NOT_SUPPORTED")
    func pushedRequests() async throws {
        let server = try await TestServer.start()
        let client = client()
        let running = Task { await client.run() }  // processes the pushed requests
        client.register(
            ClosureRequestProcessor { request, _ in
                RemotingCommand(code: ResponseCode.success.rawValue, remark: "ok", body: request.body)
            }, for: [.getConsumerRunningInfo])
        _ = try await client.invoke(RemotingCommand.request(.heartBeat), address: server.address)
        try await server.push(RemotingCommand.request(.getConsumerRunningInfo, opaque: 901, body: body("running?")), connection: 0)
        let answer = try await server.responses.element(at: 0)
        #expect(answer.opaque == 901)
        #expect(answer.code == 0)
        #expect(String(decoding: answer.bodyBytes, as: UTF8.self) == "running?")
        try await server.push(RemotingCommand.request(.pushReplyMessageToClient, opaque: 902), connection: 0)
        let unsupported = try await server.responses.element(at: 1)
        #expect(unsupported.opaque == 902)
        #expect(unsupported.code == ResponseCode.requestCodeNotSupported.rawValue)
        #expect(unsupported.remark == " request type 326 not supported")
        await client.shutdown()
        await running.value
        await server.close()
    }

    @Test("GO_AWAY over TCP: the request succeeds on a second connection and the first one is closed")
    func goAwaySwap() async throws {
        let server = try await TestServer.start { request, index in
            if index == 0 {
                return [.reply(RemotingCommand.response(to: request, code: .goAway, remark: "please go away"))]
            }
            return TestServer.echo(request, index)
        }
        let client = client()
        let response = try await client.invoke(RemotingCommand.request(.sendMessageV2, body: body("m")), address: server.address)
        #expect(String(decoding: response.bodyBytes, as: UTF8.self) == "m")
        #expect(server.accepted.load(ordering: .relaxed) == 2)
        let first = try await server.children.element(at: 0)
        try await withTimeout { try await first.closeFuture.get() }
        await client.shutdown()
        await server.close()
    }

    @Test("connect to a port nobody listens on fails with connectFailed, then the backoff fails fast")
    func connectRefused() async throws {
        // Port 1, below the ephemeral range (connecting to a free ephemeral port can self-connect on Linux).
        let address = "127.0.0.1:1"
        // A long backoff so the fail-fast window cannot pass while the test runs.
        let client = client { $0.reconnectBackoff = .init(initial: .seconds(60), maximum: .seconds(60)) }
        do {
            _ = try await client.invoke(RemotingCommand.request(.heartBeat), address: address)
            Issue.record("expected a connect failure")
        } catch let error as RemotingError {
            #expect(error.kind == .connectFailed)
            #expect(error.isRetryable)
        }
        do {
            _ = try await client.invoke(RemotingCommand.request(.heartBeat), address: address)
            Issue.record("expected fail-fast")
        } catch let error as RemotingError {
            #expect(error.kind == .reconnectBackoff)
        }
        await client.shutdown()
    }
}
