import NIOCore
import Testing

@testable import RocketMQRemoting

@Suite("Connection table state machine (no sockets)")
struct ConnectionTableTests {
    typealias Table = ConnectionTable<String, Int>
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let backoff = RemotingClientConfiguration.Backoff(initial: .milliseconds(100), maximum: .seconds(1), multiplier: 2, jitter: 0.2)

    final class AttemptCounter {
        var made = 0
        func make() -> Int {
            made += 1
            return made
        }
    }

    func connect(_ table: inout Table, _ address: String, now: NIODeadline, counter: AttemptCounter) -> Table.ConnectOrder? {
        if case .connect(let order) = table.acquire(address: address, now: now, makeAttempt: counter.make) { return order }
        return nil
    }

    @Test("single-flight: concurrent acquires share one connect attempt")
    func singleFlight() throws {
        var table = Table(backoff: backoff)
        let counter = AttemptCounter()
        let order = try #require(connect(&table, "b:1", now: t0, counter: counter))
        for _ in 0..<99 {
            guard case .wait(let attempt) = table.acquire(address: "b:1", now: t0, makeAttempt: counter.make) else {
                Issue.record("expected to join the attempt")
                return
            }
            #expect(attempt == order.attempt)
        }
        #expect(counter.made == 1)
        guard case .succeed(let attempt) = table.connectSucceeded(address: "b:1", id: order.id, connection: "c1") else {
            Issue.record("expected success")
            return
        }
        #expect(attempt == order.attempt)
        guard case .use(let connection) = table.acquire(address: "b:1", now: t0, makeAttempt: counter.make) else {
            Issue.record("expected the connection")
            return
        }
        #expect(connection == "c1")
        #expect(!order.isReconnect)
    }

    @Test("connect failures gate the next connect behind a growing, capped backoff")
    func backoffGate() throws {
        var table = Table(backoff: backoff)
        let counter = AttemptCounter()
        var now = t0
        var gates: [Int64] = []
        for _ in 0..<7 {
            let order = try #require(connect(&table, "b:1", now: now, counter: counter))
            let failed = table.connectFailed(
                address: "b:1", id: order.id, error: RemotingError(.connectFailed, "refused"), now: now, jitterSample: 0)
            #expect(failed == order.attempt)
            let gate = try #require(table.entries["b:1"]?.gate)
            gates.append((gate - now).nanoseconds / 1_000_000)
            // Inside the gate: fail fast, no new attempt.
            guard case .fail(let error) = table.acquire(address: "b:1", now: gate - .milliseconds(1), makeAttempt: counter.make) else {
                Issue.record("expected fail-fast")
                return
            }
            #expect(error.kind == .reconnectBackoff)
            #expect(error.isRetryable)
            now = gate
        }
        #expect(gates == [100, 200, 400, 800, 1000, 1000, 1000])
        #expect(counter.made == 7)
    }

    @Test("a broken healthy connection gates with the initial delay; a local close does not gate")
    func closeGates() throws {
        var table = Table(backoff: backoff)
        let counter = AttemptCounter()
        let first = try #require(connect(&table, "b:1", now: t0, counter: counter))
        _ = table.connectSucceeded(address: "b:1", id: first.id, connection: "c1")
        _ = table.connectionClosed(address: "b:1", id: first.id, cause: .peerClosed, receivedResponse: true, now: t0, jitterSample: 0)
        #expect(table.entries["b:1"]?.gate == t0 + .milliseconds(100))
        guard case .fail = table.acquire(address: "b:1", now: t0, makeAttempt: counter.make) else {
            Issue.record("expected fail-fast")
            return
        }
        // A connection that breaks before any answer grows the streak.
        let second = try #require(connect(&table, "b:1", now: t0 + .milliseconds(100), counter: counter))
        #expect(second.isReconnect)
        _ = table.connectSucceeded(address: "b:1", id: second.id, connection: "c2")
        _ = table.connectionClosed(
            address: "b:1", id: second.id, cause: .peerClosed, receivedResponse: false, now: t0 + .seconds(1), jitterSample: 0)
        #expect(table.entries["b:1"]?.gate == t0 + .seconds(1) + .milliseconds(200))
        // Idle close (ours): no gate.
        let third = try #require(connect(&table, "b:1", now: t0 + .seconds(2), counter: counter))
        _ = table.connectSucceeded(address: "b:1", id: third.id, connection: "c3")
        _ = table.connectionClosed(address: "b:1", id: third.id, cause: .idle, receivedResponse: true, now: t0 + .seconds(3), jitterSample: 0)
        #expect(table.entries["b:1"]?.gate == nil)
        #expect(connect(&table, "b:1", now: t0 + .seconds(3), counter: counter) != nil)
    }

    @Test("a connection closing before its connect is reported fails the shared attempt")
    func closedWhileConnecting() throws {
        var table = Table(backoff: backoff)
        let counter = AttemptCounter()
        let order = try #require(connect(&table, "b:1", now: t0, counter: counter))
        let attempt = table.connectionClosed(address: "b:1", id: order.id, cause: .peerClosed, receivedResponse: false, now: t0, jitterSample: 0)
        #expect(attempt == order.attempt)
        guard case .discard = table.connectSucceeded(address: "b:1", id: order.id, connection: "c1") else {
            Issue.record("expected discard")
            return
        }
    }

    @Test("GO_AWAY: swap once, join the swap, mark draining on a second GO_AWAY, end draining on a later normal answer")
    func goAwayDrain() throws {
        var table = Table(backoff: backoff)
        let counter = AttemptCounter()
        let first = try #require(connect(&table, "b:1", now: t0, counter: counter))
        _ = table.connectSucceeded(address: "b:1", id: first.id, connection: "old")

        // First GO_AWAY on the ordinary connection: retire it, open a fresh one, retry there.
        let swap = table.goAwayReceived(address: "b:1", connectionID: first.id, canRetry: true, swapEnabled: true, now: t0, makeAttempt: counter.make)
        #expect(swap.retire == "old")
        let fresh = try #require(swap.connect)
        #expect(fresh.reportsNormalAnswer)
        guard case .attempt(let retryAttempt) = swap.retryOn else {
            Issue.record("expected retry on the swap")
            return
        }
        #expect(retryAttempt == fresh.attempt)
        #expect(swap.events == [.goAway])
        #expect(swap.error == nil)

        // Another request answered GO_AWAY by the old connection joins the same swap (single-flight).
        let joined = table.goAwayReceived(address: "b:1", connectionID: first.id, canRetry: true, swapEnabled: true, now: t0, makeAttempt: counter.make)
        #expect(joined.connect == nil)
        #expect(joined.retire == nil)
        #expect(joined.events.isEmpty)
        guard case .attempt(let joinedAttempt) = joined.retryOn else {
            Issue.record("expected to join the swap")
            return
        }
        #expect(joinedAttempt == fresh.attempt)

        _ = table.connectSucceeded(address: "b:1", id: fresh.id, connection: "fresh")
        // The old connection closing (after its in-flight requests) does not disturb the table.
        _ = table.connectionClosed(address: "b:1", id: first.id, cause: .retired, receivedResponse: true, now: t0, jitterSample: 0)
        guard case .use("fresh") = table.acquire(address: "b:1", now: t0, makeAttempt: counter.make) else {
            Issue.record("expected the fresh connection")
            return
        }

        // GO_AWAY on the fresh connection: the server itself drains. No second swap.
        let second = table.goAwayReceived(address: "b:1", connectionID: fresh.id, canRetry: false, swapEnabled: true, now: t0, makeAttempt: counter.make)
        #expect(second.connect == nil)
        #expect(second.retire == nil)
        #expect(second.error?.kind == .goAway)
        #expect(second.events == [.goAway, .draining])
        #expect(table.isDraining(address: "b:1"))
        guard case .fail(let draining) = table.acquire(address: "b:1", now: t0, makeAttempt: counter.make) else {
            Issue.record("expected draining")
            return
        }
        #expect(draining.kind == .draining)
        #expect(draining.isRetryable)
        // Further GO_AWAYs while draining: no swap.
        let third = table.goAwayReceived(address: "b:1", connectionID: fresh.id, canRetry: true, swapEnabled: true, now: t0, makeAttempt: counter.make)
        #expect(third.connect == nil && third.retryOn == nil)
        #expect(third.error?.kind == .goAway)

        // The server closes the drained connection; a later connection answers normally.
        _ = table.connectionClosed(address: "b:1", id: fresh.id, cause: .peerClosed, receivedResponse: true, now: t0, jitterSample: 0)
        let later = try #require(connect(&table, "b:1", now: t0 + .seconds(1), counter: counter))
        #expect(later.reportsNormalAnswer)
        _ = table.connectSucceeded(address: "b:1", id: later.id, connection: "later")
        #expect(table.isDraining(address: "b:1"))
        #expect(table.answeredNormally(address: "b:1", connectionID: fresh.id).isEmpty)
        #expect(table.answeredNormally(address: "b:1", connectionID: later.id) == [.drainingEnded])
        #expect(!table.isDraining(address: "b:1"))
    }

    @Test("a fresh connection that answered normally is swapped again on a later GO_AWAY")
    func newDrainSwapsAgain() throws {
        var table = Table(backoff: backoff)
        let counter = AttemptCounter()
        let first = try #require(connect(&table, "b:1", now: t0, counter: counter))
        _ = table.connectSucceeded(address: "b:1", id: first.id, connection: "c1")
        let fresh = try #require(
            table.goAwayReceived(address: "b:1", connectionID: first.id, canRetry: true, swapEnabled: true, now: t0, makeAttempt: counter.make).connect)
        _ = table.connectSucceeded(address: "b:1", id: fresh.id, connection: "c2")
        _ = table.answeredNormally(address: "b:1", connectionID: fresh.id)
        let again = table.goAwayReceived(address: "b:1", connectionID: fresh.id, canRetry: true, swapEnabled: true, now: t0, makeAttempt: counter.make)
        #expect(again.retire == "c2")
        #expect(again.connect != nil)
        #expect(!table.isDraining(address: "b:1"))
    }

    @Test("with GO_AWAY retry off the request fails, one event per connection, no swap")
    func swapDisabled() throws {
        var table = Table(backoff: backoff)
        let counter = AttemptCounter()
        let first = try #require(connect(&table, "b:1", now: t0, counter: counter))
        _ = table.connectSucceeded(address: "b:1", id: first.id, connection: "c1")
        let a = table.goAwayReceived(address: "b:1", connectionID: first.id, canRetry: true, swapEnabled: false, now: t0, makeAttempt: counter.make)
        let b = table.goAwayReceived(address: "b:1", connectionID: first.id, canRetry: true, swapEnabled: false, now: t0, makeAttempt: counter.make)
        #expect(a.error?.kind == .goAway && b.error?.kind == .goAway)
        #expect(a.events == [.goAway] && b.events.isEmpty)
        #expect(a.connect == nil && a.retire == nil)
    }

    @Test("shutdown hands back every connection and attempt and refuses new work")
    func shutdown() throws {
        var table = Table(backoff: backoff)
        let counter = AttemptCounter()
        let a = try #require(connect(&table, "a:1", now: t0, counter: counter))
        _ = table.connectSucceeded(address: "a:1", id: a.id, connection: "ca")
        let b = try #require(connect(&table, "b:1", now: t0, counter: counter))
        let (connections, attempts) = table.shutdown()
        #expect(connections == ["ca"])
        #expect(attempts == [b.attempt])
        guard case .fail(let error) = table.acquire(address: "a:1", now: t0, makeAttempt: counter.make) else {
            Issue.record("expected shutdown")
            return
        }
        #expect(error.kind == .shutdown)
    }

    @Test("addresses parse as host:port, with bracketed IPv6")
    func addressParsing() throws {
        #expect(try RemotingAddress(parsing: "127.0.0.1:10911") == RemotingAddress(host: "127.0.0.1", port: 10911))
        #expect(try RemotingAddress(parsing: "[::1]:9876") == RemotingAddress(host: "::1", port: 9876))
        for bad in ["nohost", ":1", "h:", "h:70000", "h:-1", "h:x"] {
            #expect(throws: RemotingError.self) { try RemotingAddress(parsing: bad) }
        }
    }
}

@Suite("Request timeouts in nanoseconds")
struct DurationNanosecondsTests {
    @Test func wholeNanosecondsAgreeWithComponentsAndSaturate() {
        for duration: Duration in [.zero, .nanoseconds(1), .milliseconds(3_000), .seconds(86_400), .nanoseconds(-5), .seconds(-2)] {
            let (seconds, attoseconds) = duration.components
            #expect(duration.wholeNanoseconds == seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
        #expect(Duration.seconds(Int64.max).wholeNanoseconds == .max)
        #expect(Duration.seconds(Int64.min).wholeNanoseconds == .min)
    }
}
