import NIOCore
import NIOEmbedded
import RocketMQWire
import RocketMQTestSupport
import Testing

@testable import RocketMQRemoting

/// The client over `NIOAsyncTestingChannel`s on a virtual-time event loop, with the test playing the broker.
@Suite("Remoting client against a scripted peer")
struct ScriptedPeerTests {
    let address = "10.0.0.1:10911"

    func request(_ text: String, code: RequestCode = .heartBeat) -> RemotingCommand {
        RemotingCommand.request(code, body: body(text))
    }

    func text(_ command: RemotingCommand) -> String {
        String(decoding: command.bodyBytes, as: UTF8.self)
    }

    func peer(_ connector: TestConnector, _ index: Int) async throws -> ScriptedPeer {
        ScriptedPeer(try await connector.channels.element(at: index).channel)
    }

    @Test("10,000 concurrent requests are matched to their responses by opaque, answered in shuffled order")
    func correlationUnderLoad() async throws {
        let (client, connector, _) = makeTestClient()
        let count = 10_000
        let address = self.address
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<count {
                group.addTask {
                    let response = try await client.invoke(RemotingCommand.request(.heartBeat, body: body("r\(i)")), address: address, timeout: .seconds(60))
                    #expect(String(decoding: response.bodyBytes, as: UTF8.self) == "r\(i)")
                    #expect(response.isResponse)
                }
            }
            let peer = try await peer(connector, 0)
            let requests = try await peer.nextCommands(count).shuffled()
            #expect(Set(requests.map(\.opaque)).count == count)
            #expect(requests.allSatisfy { !$0.isResponse && !$0.isOneway })
            // Answer in batches of many frames per read.
            for chunk in stride(from: 0, to: count, by: 500) {
                var buffer = ByteBuffer()
                for request in requests[chunk..<min(chunk + 500, count)] {
                    try RemotingFrame.encode(RemotingCommand.response(to: request, code: .success, body: request.body), into: &buffer)
                }
                try await peer.channel.writeInbound(buffer)
            }
            try await group.waitForAll()
        }
        #expect(client.pendingRequestCount == 0)
        #expect(connector.attempts.load(ordering: .relaxed) == 1)
        await client.shutdown()
    }

    @Test("single-flight: 100 concurrent first requests open one connection")
    func singleFlightConnect() async throws {
        let (client, connector, _) = makeTestClient()
        let address = self.address
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<100 {
                group.addTask {
                    _ = try await client.invoke(RemotingCommand.request(.heartBeat, body: body("\(i)")), address: address)
                }
            }
            let peer = try await peer(connector, 0)
            for request in try await peer.nextCommands(100) { try await peer.answer(request) }
            try await group.waitForAll()
        }
        #expect(connector.attempts.load(ordering: .relaxed) == 1)
        #expect(connector.channels.count == 1)
        await client.shutdown()
    }

    @Test("without closeOnTimeout a deadline fails only its own request; a late response is dropped; cancellation forgets the request")
    func deadlinesAndCancellation() async throws {
        let (client, connector, loop) = makeTestClient { $0.closeOnTimeout = false }
        let address = self.address
        let short = Outcome { try await client.invoke(request("short"), address: address, timeout: .seconds(1)) }
        let peer = try await peer(connector, 0)
        let shortRequest = try await peer.nextCommand()
        let long = Outcome { try await client.invoke(request("long"), address: address, timeout: .seconds(3)) }
        let longRequest = try await peer.nextCommand()

        await loop.advanceTime(by: .milliseconds(999))
        #expect(!short.isDone)
        await loop.advanceTime(by: .milliseconds(1))
        let timeout = try await short.error()
        #expect(timeout?.kind == .timeout)
        #expect(timeout?.opaque == shortRequest.opaque)
        #expect(timeout?.address == address)
        #expect(timeout?.isRetryable == true)
        #expect(!long.isDone)

        try await peer.answer(shortRequest)  // late: logged and dropped
        try await peer.answer(longRequest)
        guard case .success(let response) = try await long.value() else {
            Issue.record("long request failed")
            return
        }
        #expect(text(response) == "long")
        #expect(client.pendingRequestCount == 0)

        let cancelled = Task { try await client.invoke(request("cancel me"), address: address, timeout: .seconds(30)) }
        _ = try await peer.nextCommand()
        #expect(client.pendingRequestCount == 1)
        cancelled.cancel()
        do {
            _ = try await cancelled.value
            Issue.record("expected cancellation")
        } catch let error as RemotingError {
            #expect(error.kind == .cancelled)
        }
        #expect(client.pendingRequestCount == 0)
        #expect(connector.channels.count == 1)
        await client.shutdown()
    }

    @Test("a timeout closes the connection (Java's clientCloseSocketIfTimeout): the other pending requests fail retryably, the next request reconnects")
    func timeoutClosesTheConnection() async throws {
        let (client, connector, loop) = makeTestClient()
        let address = self.address
        let events = recordEvents(of: client)
        let short = Outcome { try await client.invoke(request("short"), address: address, timeout: .seconds(1)) }
        let stalled = try await peer(connector, 0)
        _ = try await stalled.nextCommand()
        let long = Outcome { try await client.invoke(request("long"), address: address, timeout: .seconds(30)) }
        _ = try await stalled.nextCommand()

        await loop.advanceTime(by: .seconds(1))
        #expect(try await short.error()?.kind == .timeout)
        let collateral = try await long.error()
        #expect(collateral?.kind == .channelClosed)
        #expect(collateral?.isRetryable == true)
        #expect(client.pendingRequestCount == 0)
        let close = try await events.first { _, e in e.kind == .close }
        #expect(close.address == address)

        // A local close: no reconnect backoff; the next request gets a fresh connection at once.
        let next = Outcome { try await client.invoke(request("next"), address: address, timeout: .seconds(5)) }
        let fresh = try await peer(connector, 1)
        try await fresh.answer(try await fresh.nextCommand())
        guard case .success(let response) = try await next.value() else {
            Issue.record("the request after the timeout failed")
            return
        }
        #expect(text(response) == "next")
        #expect(connector.channels.count == 2)
        await client.shutdown()
    }

    @Test("a timeout on a connection that kept answering other requests meanwhile does not close it")
    func timeoutWhilePeerAnswersKeepsTheConnection() async throws {
        let (client, connector, loop) = makeTestClient()
        let address = self.address
        let slow = Outcome { try await client.invoke(request("slow"), address: address, timeout: .seconds(1)) }
        let peer = try await peer(connector, 0)
        _ = try await peer.nextCommand()  // never answered
        await loop.advanceTime(by: .milliseconds(500))
        let quick = Outcome { try await client.invoke(request("quick"), address: address, timeout: .seconds(5)) }
        try await peer.answer(try await peer.nextCommand())
        _ = try await quick.value()
        let waiting = Outcome { try await client.invoke(request("waiting"), address: address, timeout: .seconds(5)) }
        let waitingRequest = try await peer.nextCommand()
        await loop.advanceTime(by: .milliseconds(500))
        #expect(try await slow.error()?.kind == .timeout)
        try await peer.answer(waitingRequest)
        guard case .success(let response) = try await waiting.value() else {
            Issue.record("a request on the live connection failed after another one timed out")
            return
        }
        #expect(text(response) == "waiting")
        #expect(connector.channels.count == 1)
        await client.shutdown()
    }

    @Test("a timeout with less than 100 ms on the connection does not close it")
    func shortTimeoutKeepsTheConnection() async throws {
        let (client, connector, loop) = makeTestClient()
        let address = self.address
        let first = Outcome { try await client.invoke(request("first"), address: address, timeout: .seconds(5)) }
        let peer = try await peer(connector, 0)
        try await peer.answer(try await peer.nextCommand())
        _ = try await first.value()
        let tiny = Outcome { try await client.invoke(request("tiny"), address: address, timeout: .milliseconds(50)) }
        _ = try await peer.nextCommand()
        await loop.advanceTime(by: .milliseconds(50))
        #expect(try await tiny.error()?.kind == .timeout)
        let after = Outcome { try await client.invoke(request("after"), address: address, timeout: .seconds(5)) }
        try await peer.answer(try await peer.nextCommand())
        guard case .success = try await after.value() else {
            Issue.record("the connection was closed by a 50 ms timeout")
            return
        }
        #expect(connector.channels.count == 1)
        await client.shutdown()
    }

    @Test("a channel dying with 1,000 pending requests fails them all at once")
    func channelDeathFailsPending() async throws {
        let (client, connector, _) = makeTestClient()
        let events = recordEvents(of: client)
        let address = self.address
        let outcomes = (0..<1000).map { i in
            Outcome { try await client.invoke(RemotingCommand.request(.heartBeat, body: body("\(i)")), address: address, timeout: .seconds(60)) }
        }
        let peer = try await peer(connector, 0)
        _ = try await peer.nextCommands(1000)
        #expect(client.pendingRequestCount == 1000)
        try await peer.channel.close()
        for outcome in outcomes {
            let error = try await outcome.error()
            #expect(error?.kind == .channelClosed)
        }
        #expect(client.pendingRequestCount == 0)
        let close = try await events.first { _, event in event.kind == .close }
        #expect(close.address == address)
        let kinds = events.items.map(\.kind)
        #expect(Array(kinds.prefix(3)) == [.connect, .active, .close])
        await client.shutdown()
    }

    @Test("pushed requests go to the registered processor; others get REQUEST_CODE_NOT_SUPPORTED unless oneway")
    func pushedRequests() async throws {
        let (client, connector, _) = makeTestClient()
        let running = Task { await client.run() }  // processes the pushed requests
        let seen = Recorder<RemotingCommand>()
        client.register(
            ClosureRequestProcessor { request, context in
                seen.append(request)
                #expect(context.address == "10.0.0.1:10911")
                if request.code == RequestCode.getConsumerRunningInfo.rawValue {
                    return RemotingCommand(code: ResponseCode.success.rawValue, opaque: 0, remark: "running", body: body("info"))
                }
                return nil
            }, for: [.notifyConsumerIdsChanged, .getConsumerRunningInfo])
        struct Broken: Error {}
        client.register(ClosureRequestProcessor { _, _ in throw Broken() }, for: [.resetConsumerClientOffset])

        let address = self.address
        let first = Outcome { try await client.invoke(request("hello"), address: address) }
        let peer = try await peer(connector, 0)
        try await peer.answer(try await peer.nextCommand())
        _ = try await first.value()

        // Oneway NOTIFY_CONSUMER_IDS_CHANGED: processed, never answered.
        try await peer.send(RemotingCommand.request(.notifyConsumerIdsChanged, opaque: 77, oneway: true))
        let notified = try await seen.element(at: 0)
        #expect(notified.opaque == 77)

        // GET_CONSUMER_RUNNING_INFO: the processor's answer, with the request's opaque and the response flag.
        try await peer.send(RemotingCommand.request(.getConsumerRunningInfo, opaque: 78))
        let info = try await peer.nextCommand()
        #expect(info.opaque == 78)
        #expect(info.isResponse)
        #expect(info.remark == "running")
        #expect(text(info) == "info")

        // No processor, oneway: dropped silently (the next answer on the wire is for opaque 80).
        try await peer.send(RemotingCommand.request(.checkTransactionState, opaque: 79, oneway: true))
        // No processor: REQUEST_CODE_NOT_SUPPORTED with Java's remark.
        try await peer.send(RemotingCommand.request(.consumeMessageDirectly, opaque: 80))
        let unsupported = try await peer.nextCommand()
        #expect(unsupported.opaque == 80)
        #expect(unsupported.isResponse)
        #expect(unsupported.code == ResponseCode.requestCodeNotSupported.rawValue)
        #expect(unsupported.remark == " request type 309 not supported")

        // A throwing processor: SYSTEM_ERROR.
        try await peer.send(RemotingCommand.request(.resetConsumerClientOffset, opaque: 81))
        let failed = try await peer.nextCommand()
        #expect(failed.opaque == 81)
        #expect(failed.code == ResponseCode.systemError.rawValue)
        #expect(seen.count == 1 + 1)
        await client.shutdown()
        await running.value
    }

    @Test("a malformed frame closes only that connection and fails its requests with protocolError")
    func malformedFrame() async throws {
        let (client, connector, _) = makeTestClient()
        let events = recordEvents(of: client)
        let good = "10.0.0.2:10911"
        let address = self.address
        let warmup = Outcome { try await client.invoke(request("warm"), address: good) }
        let goodPeer = try await peer(connector, 0)
        try await goodPeer.answer(try await goodPeer.nextCommand())
        _ = try await warmup.value()
        let goodConnection = try #require(client.currentConnection(address: good))

        let victim = Outcome { try await client.invoke(request("victim"), address: address, timeout: .seconds(30)) }
        let badPeer = try await peer(connector, 1)
        _ = try await badPeer.nextCommand()
        var garbage = ByteBuffer()
        garbage.writeInteger(Int32(-5))
        garbage.writeBytes([1, 2, 3, 4])
        try await badPeer.channel.writeInbound(garbage)

        let error = try await victim.error()
        guard case .protocolError(let wire)? = error?.kind else {
            Issue.record("expected protocolError, got \(String(describing: error))")
            return
        }
        #expect(wire.kind == .invalidLength)
        #expect(error?.address == address)
        let exception = try await events.first { _, event in event.kind == .exception && event.address == address }
        #expect(exception.error?.kind == error?.kind)
        _ = try await events.first { _, event in event.kind == .close && event.address == address }
        try await withTimeout { try await badPeer.channel.closeFuture.get() }

        // The other connection is untouched.
        #expect(client.currentConnection(address: good) === goodConnection)
        let after = Outcome { try await client.invoke(request("still fine"), address: good) }
        try await goodPeer.answer(try await goodPeer.nextCommand())
        guard case .success(let response) = try await after.value() else {
            Issue.record("good connection failed")
            return
        }
        #expect(text(response) == "still fine")
        #expect(!events.items.contains { $0.address == good && $0.kind == .close })
        await client.shutdown()
    }

    @Test("a peer closing in the middle of a frame is a protocol error (truncated), reported and logged like any other")
    func truncatedFrameAtEOF() async throws {
        let (client, connector, _) = makeTestClient()
        let events = recordEvents(of: client)
        let address = self.address
        let victim = Outcome { try await client.invoke(request("victim"), address: address, timeout: .seconds(30)) }
        let peer = try await peer(connector, 0)
        let sent = try await peer.nextCommand()
        let whole = try frame(RemotingCommand.response(to: sent, code: .success, body: body("a fine answer, cut short")))
        try await peer.channel.writeInbound(whole.getSlice(at: whole.readerIndex, length: whole.readableBytes / 2))
        #expect(!victim.isDone)
        try await peer.channel.close()

        let error = try await victim.error()
        guard case .protocolError(let wire)? = error?.kind else {
            Issue.record("expected protocolError, got \(String(describing: error))")
            return
        }
        #expect(wire.kind == WireError.Kind.truncated)
        #expect(error?.isRetryable == true)
        let exception = try await events.first { _, event in event.kind == .exception && event.address == address }
        #expect(exception.error?.kind == error?.kind)
        await client.shutdown()
    }

    @Test("a request waits for a connect no longer than its own deadline")
    func connectWaitBoundedByDeadline() async throws {
        let (client, connector, loop) = makeTestClient()  // connect timeout 3 s
        let address = self.address
        connector.blackhole(address)
        let outcome = Outcome { try await client.invoke(request("x"), address: address, timeout: .milliseconds(500)) }
        try await withTimeout { while connector.attempts.load(ordering: .relaxed) == 0 { await Task.yield() } }
        await loop.advanceTime(by: .milliseconds(499))
        #expect(!outcome.isDone)
        await loop.advanceTime(by: .milliseconds(1))
        let error = try await outcome.error()
        #expect(error?.kind == .timeout)
        #expect(error?.isRetryable == true)
        await client.shutdown()
    }

    @Test("a connect failure gates the next connect (fail fast) until the backoff has passed")
    func reconnectBackoff() async throws {
        let (client, connector, loop) = makeTestClient()
        let address = self.address
        connector.refuse(address)
        let first = Outcome { try await client.invoke(request("1"), address: address) }
        #expect(try await first.error()?.kind == .connectFailed)
        let second = Outcome { try await client.invoke(request("2"), address: address) }
        let gated = try await second.error()
        #expect(gated?.kind == .reconnectBackoff)
        #expect(gated?.isRetryable == true)
        #expect(connector.attempts.load(ordering: .relaxed) == 1)

        connector.refuse(address, false)
        await loop.advanceTime(by: .milliseconds(121))  // initial 100 ms + at most 20 % jitter
        let third = Outcome { try await client.invoke(request("3"), address: address) }
        let peer = try await peer(connector, 0)
        try await peer.answer(try await peer.nextCommand())
        guard case .success = try await third.value() else {
            Issue.record("reconnect failed")
            return
        }
        #expect(connector.attempts.load(ordering: .relaxed) == 2)
        await client.shutdown()
    }

    @Test("oneway requests carry flag bit 1, complete when written, and expect no response")
    func oneway() async throws {
        let (client, connector, _) = makeTestClient()
        let address = self.address
        let sent = Outcome { try await client.invokeOneway(request("offset", code: .updateConsumerOffset), address: address) }
        let peer = try await peer(connector, 0)
        let command = try await peer.nextCommand()
        #expect(command.isOneway)
        #expect(!command.isResponse)
        #expect(command.flag == RemotingCommand.onewayFlag)
        guard case .success = try await sent.value() else {
            Issue.record("oneway failed")
            return
        }
        #expect(client.pendingRequestCount == 0)
        await client.shutdown()
    }

    @Test("shutdown fails pending requests with shutdown and later requests too")
    func shutdownFailsPending() async throws {
        let (client, connector, _) = makeTestClient()
        let address = self.address
        let pending = Outcome { try await client.invoke(request("p"), address: address, timeout: .seconds(60)) }
        let peer = try await peer(connector, 0)
        _ = try await peer.nextCommand()
        await client.shutdown()
        #expect(try await pending.error()?.kind == .shutdown)
        let later = Outcome { try await client.invoke(request("later"), address: address) }
        #expect(try await later.error()?.kind == .shutdown)
        #expect(client.pendingRequestCount == 0)
    }
}

@Suite("GO_AWAY against a scripted peer")
struct GoAwayTests {
    let address = "10.0.0.1:10911"

    func request(_ text: String) -> RemotingCommand {
        RemotingCommand.request(.sendMessageV2, body: body(text))
    }

    func goAway(_ request: RemotingCommand) -> RemotingCommand {
        RemotingCommand.response(to: request, code: .goAway, remark: "please go away")
    }

    func text(_ command: RemotingCommand) -> String {
        String(decoding: command.bodyBytes, as: UTF8.self)
    }

    func peer(_ connector: TestConnector, _ index: Int) async throws -> ScriptedPeer {
        ScriptedPeer(try await connector.channels.element(at: index).channel)
    }

    @Test("GO_AWAY swaps the connection, retries once with a new opaque, and closes the old one after its in-flight requests")
    func swapAndRetry() async throws {
        let (client, connector, _) = makeTestClient()
        let events = recordEvents(of: client)
        let address = self.address
        let inflight = Outcome { try await client.invoke(request("inflight"), address: address, timeout: .seconds(30)) }
        let old = try await peer(connector, 0)
        let inflightRequest = try await old.nextCommand()
        let moved = Outcome { try await client.invoke(request("moved"), address: address, timeout: .seconds(30)) }
        let movedRequest = try await old.nextCommand()
        try await old.send(goAway(movedRequest))

        let fresh = try await peer(connector, 1)
        let retried = try await fresh.nextCommand()
        #expect(text(retried) == "moved")
        #expect(retried.code == movedRequest.code)
        #expect(retried.opaque != movedRequest.opaque)
        try await fresh.answer(retried)
        guard case .success(let response) = try await moved.value() else {
            Issue.record("retry failed")
            return
        }
        #expect(text(response) == "moved")
        let event = try await events.first { _, event in event.kind == .goAway }
        #expect(event.address == address)

        // The old connection is still open for its in-flight request, then closes.
        #expect(old.channel.isActive)
        try await old.answer(inflightRequest)
        guard case .success(let inflightResponse) = try await inflight.value() else {
            Issue.record("in-flight request failed")
            return
        }
        #expect(text(inflightResponse) == "inflight")
        try await withTimeout { try await old.channel.closeFuture.get() }

        // New requests use the fresh connection; no third connection.
        let next = Outcome { try await client.invoke(request("next"), address: address) }
        try await fresh.answer(try await fresh.nextCommand())
        guard case .success = try await next.value() else {
            Issue.record("next request failed")
            return
        }
        #expect(connector.channels.count == 2)
        #expect(!client.isDraining(address: address))
        await client.shutdown()
    }

    @Test("a second GO_AWAY fails the request (retryable), marks the address draining until a later connection answers normally")
    func secondGoAwayDrains() async throws {
        let (client, connector, loop) = makeTestClient()
        let events = recordEvents(of: client)
        let address = self.address
        let outcome = Outcome { try await client.invoke(request("twice"), address: address, timeout: .seconds(30)) }
        let old = try await peer(connector, 0)
        try await old.send(goAway(try await old.nextCommand()))
        let fresh = try await peer(connector, 1)
        try await fresh.send(goAway(try await fresh.nextCommand()))

        let error = try await outcome.error()
        #expect(error?.kind == .goAway)
        #expect(error?.isRetryable == true)
        #expect(client.isDraining(address: address))
        _ = try await events.first { _, event in event.kind == .draining && event.address == address }

        // Draining: fail at once, no new connection, no swap.
        let refused = Outcome { try await client.invoke(request("refused"), address: address) }
        #expect(try await refused.error()?.kind == .draining)
        let onewayRefused = Outcome { try await client.invokeOneway(request("oneway"), address: address) }
        #expect(try await onewayRefused.error()?.kind == .draining)
        #expect(connector.channels.count == 2)

        // The drained server closes its connection; after the backoff a later connection answers normally.
        try await fresh.channel.close()
        await loop.advanceTime(by: .milliseconds(121))
        let later = Outcome { try await client.invoke(request("later"), address: address) }
        let third = try await peer(connector, 2)
        try await third.answer(try await third.nextCommand())
        guard case .success = try await later.value() else {
            Issue.record("later request failed")
            return
        }
        #expect(!client.isDraining(address: address))
        _ = try await events.first { _, event in event.kind == .drainingEnded && event.address == address }
        await client.shutdown()
    }

    @Test("the retry after GO_AWAY gets only the remaining time of the original deadline")
    func retryKeepsDeadline() async throws {
        let (client, connector, loop) = makeTestClient()
        let address = self.address
        let outcome = Outcome { try await client.invoke(request("deadline"), address: address, timeout: .seconds(1)) }
        let old = try await peer(connector, 0)
        let first = try await old.nextCommand()
        await loop.advanceTime(by: .milliseconds(600))
        try await old.send(goAway(first))
        let fresh = try await peer(connector, 1)
        _ = try await fresh.nextCommand()  // never answered

        await loop.advanceTime(by: .milliseconds(399))
        #expect(!outcome.isDone)
        await loop.advanceTime(by: .milliseconds(1))
        let error = try await outcome.error(timeout: .seconds(20))
        #expect(error?.kind == .timeout)
        #expect(client.pendingRequestCount == 0)
        await client.shutdown()
    }

    @Test("with GO_AWAY retry off, GO_AWAY fails the request as retryable without a new connection")
    func retryDisabled() async throws {
        let (client, connector, _) = makeTestClient { $0.retryOnGoAway = false }
        let address = self.address
        let outcome = Outcome { try await client.invoke(request("x"), address: address) }
        let old = try await peer(connector, 0)
        try await old.send(goAway(try await old.nextCommand()))
        let error = try await outcome.error()
        #expect(error?.kind == .goAway)
        #expect(error?.isRetryable == true)
        #expect(connector.attempts.load(ordering: .relaxed) == 1)
        await client.shutdown()
    }
}
