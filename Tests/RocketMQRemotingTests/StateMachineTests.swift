import NIOCore
import RocketMQWire
import Testing

@testable import RocketMQRemoting

@Suite("Connection state machine (no sockets)")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine<Int>
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func completed(_ action: Machine.CompletionAction) -> Int? {
        if case .complete(let promise, _, _) = action { return promise }
        return nil
    }

    @Test("responses complete the request with the same opaque, in any order")
    func correlationOutOfOrder() {
        var machine = Machine(address: "a:1")
        machine.channelActive()
        for opaque in Int32(1)...5 {
            guard case .write = machine.sendRequest(opaque: opaque, promise: Int(opaque) * 10, deadline: t0 + .seconds(3), now: t0) else {
                Issue.record("send \(opaque) not written")
                return
            }
        }
        #expect(completed(machine.responseReceived(opaque: 4)) == 40)
        #expect(completed(machine.responseReceived(opaque: 1)) == 10)
        #expect(completed(machine.responseReceived(opaque: 5)) == 50)
        #expect(completed(machine.responseReceived(opaque: 4)) == nil)  // duplicate: unknown
        #expect(completed(machine.responseReceived(opaque: 99)) == nil)  // unsolicited: unknown
        #expect(machine.pendingCount == 2)
    }

    @Test("one timer: armed for the first deadline, moved only for an earlier one")
    func timerArming() {
        var machine = Machine(address: "a:1")
        guard case .write(let first) = machine.sendRequest(opaque: 1, promise: 1, deadline: t0 + .seconds(3), now: t0),
            case .write(let later) = machine.sendRequest(opaque: 2, promise: 2, deadline: t0 + .seconds(5), now: t0),
            case .write(let earlier) = machine.sendRequest(opaque: 3, promise: 3, deadline: t0 + .seconds(1), now: t0)
        else {
            Issue.record("not written")
            return
        }
        #expect(first == t0 + .seconds(3))
        #expect(later == nil)
        #expect(earlier == t0 + .seconds(1))
        #expect(machine.timerDeadline == t0 + .seconds(1))
    }

    @Test("timer fires expired requests in deadline order, skips completed ones, rearms at the next live deadline")
    func deadlinesFireAndCancel() {
        var machine = Machine(address: "a:1")
        for (opaque, seconds) in [(Int32(1), Int64(1)), (2, 2), (3, 3), (4, 4)] {
            _ = machine.sendRequest(opaque: opaque, promise: Int(opaque), deadline: t0 + .seconds(seconds), now: t0)
        }
        // Completing (or cancelling) is O(1): the heap entry goes stale.
        #expect(completed(machine.cancel(opaque: 2)) == 2)
        #expect(completed(machine.responseReceived(opaque: 3)) == 3)
        let early = machine.timerFired(now: t0 + .milliseconds(500))
        #expect(early.expired.isEmpty)
        #expect(early.armTimer == t0 + .seconds(1))
        let result = machine.timerFired(now: t0 + .milliseconds(3500))
        #expect(result.expired.map(\.promise) == [1])
        #expect(result.armTimer == t0 + .seconds(4))
        let last = machine.timerFired(now: t0 + .seconds(4))
        #expect(last.expired.map(\.promise) == [4])
        #expect(last.armTimer == nil)
        #expect(machine.pendingCount == 0)
        #expect(machine.timerDeadline == nil)
    }

    @Test("a deadline already passed fails at once with timeout")
    func deadlinePassed() {
        var machine = Machine(address: "a:1")
        guard case .fail(let promise, let error) = machine.sendRequest(opaque: 1, promise: 7, deadline: t0, now: t0) else {
            Issue.record("expected a failure")
            return
        }
        #expect(promise == 7)
        #expect(error.kind == .timeout)
        #expect(error.opaque == 1)
    }

    @Test("a duplicate pending opaque is refused")
    func duplicateOpaque() {
        var machine = Machine(address: "a:1")
        _ = machine.sendRequest(opaque: 1, promise: 1, deadline: t0 + .seconds(1), now: t0)
        guard case .fail(_, let error) = machine.sendRequest(opaque: 1, promise: 2, deadline: t0 + .seconds(1), now: t0) else {
            Issue.record("expected a failure")
            return
        }
        #expect(!error.isRetryable)
    }

    @Test("closing fails everything pending at once; later sends fail with the same error")
    func closeFailsAll() {
        var machine = Machine(address: "a:1")
        for opaque in Int32(1)...1000 {
            _ = machine.sendRequest(opaque: opaque, promise: Int(opaque), deadline: t0 + .seconds(3), now: t0)
        }
        let error = RemotingError(.channelClosed, address: "a:1", "closed by peer")
        let failed = machine.close(error: error)
        #expect(failed.count == 1000)
        #expect(Set(failed.map(\.promise)) == Set(1...1000))
        #expect(machine.pendingCount == 0)
        #expect(machine.close(error: error).isEmpty)
        guard case .fail(_, let later) = machine.sendRequest(opaque: 5000, promise: 0, deadline: t0 + .seconds(3), now: t0) else {
            Issue.record("expected a failure")
            return
        }
        #expect(later.kind == .channelClosed)
        #expect(later.opaque == 5000)
    }

    @Test("a retired connection closes when its last in-flight request finishes")
    func retireAfterDrain() {
        var idle = Machine(address: "a:1")
        let closeNow = idle.retire()
        #expect(closeNow)

        var machine = Machine(address: "a:1")
        machine.channelActive()
        _ = machine.sendRequest(opaque: 1, promise: 1, deadline: t0 + .seconds(3), now: t0)
        _ = machine.sendRequest(opaque: 2, promise: 2, deadline: t0 + .seconds(1), now: t0)
        let closeAtOnce = machine.retire()
        #expect(!closeAtOnce)
        guard case .complete(_, _, let closeAfterFirst) = machine.responseReceived(opaque: 1) else {
            Issue.record("not completed")
            return
        }
        #expect(!closeAfterFirst)
        let fired = machine.timerFired(now: t0 + .seconds(1))
        #expect(fired.expired.map(\.promise) == [2])
        #expect(fired.close)
    }

    @Test("stale deadline entries stay bounded under many completed requests")
    func staleEntriesBounded() {
        var machine = Machine(address: "a:1")
        _ = machine.sendRequest(opaque: -1, promise: -1, deadline: t0 + .seconds(30), now: t0)
        for opaque in Int32(0)..<50_000 {
            _ = machine.sendRequest(opaque: opaque, promise: Int(opaque), deadline: t0 + .seconds(30), now: t0)
            _ = machine.responseReceived(opaque: opaque)
            #expect(machine.deadlineEntryCount <= 2 * machine.pendingCount + 1025)
        }
        #expect(machine.pendingCount == 1)
        let fired = machine.timerFired(now: t0 + .seconds(30))
        #expect(fired.expired.map(\.promise) == [-1])
    }
}

@Suite("Reconnect backoff")
struct BackoffTests {
    @Test("grows by the multiplier and stops at the cap")
    func growthAndCap() {
        let backoff = RemotingClientConfiguration.Backoff(initial: .milliseconds(100), maximum: .seconds(1), multiplier: 2, jitter: 0.2)
        let delays = (0...7).map { backoff.delay(afterFailures: $0, jitterSample: 0) }
        #expect(delays == [.zero, .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1), .seconds(1)])
        #expect(backoff.delay(afterFailures: 1_000_000, jitterSample: 0) == .seconds(1))
    }

    @Test("jitter spreads the delay by at most the configured fraction")
    func jitterBounds() {
        let backoff = RemotingClientConfiguration.Backoff()
        #expect(backoff.delay(afterFailures: 1, jitterSample: 1) == .milliseconds(120))
        #expect(backoff.delay(afterFailures: 1, jitterSample: -1) == .milliseconds(80))
        #expect(backoff.delay(afterFailures: 10, jitterSample: 5) == .milliseconds(1200))  // sample clamped
        for _ in 0..<1000 {
            let delay = backoff.delay(afterFailures: 3, jitterSample: Double.random(in: -1...1))
            #expect(delay >= .milliseconds(320) && delay <= .milliseconds(480))
        }
    }

    @Test("defaults are Java's where Java has one")
    func defaults() {
        let configuration = RemotingClientConfiguration()
        #expect(configuration.connectTimeout == .seconds(3))
        #expect(configuration.idleTimeout == .seconds(120))
        #expect(configuration.maxFrameLength == 16_777_216)
        #expect(configuration.eventQueueCapacity == 10_000)
        #expect(configuration.retryOnGoAway)
        #expect(configuration.defaultRequestTimeout == .seconds(3))
    }
}

@Suite("Channel event queue")
struct EventQueueTests {
    @Test("a full queue drops new events, counts them, and never blocks")
    func dropsWhenFull() async {
        let queue = ChannelEventQueue(capacity: 3, logger: testLogger())
        for i in 0..<10 {
            queue.emit(RemotingChannelEvent(.active, address: "a:\(i)"))
        }
        #expect(queue.droppedCount == 7)
        queue.finish()
        var seen: [String] = []
        for await event in queue.stream { seen.append(event.address) }
        #expect(seen == ["a:0", "a:1", "a:2"])
    }
}
