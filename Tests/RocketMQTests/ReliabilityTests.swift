import Foundation
import Logging
import NIOCore
@_spi(Diagnostics) import RocketMQ
import RocketMQMockBroker
import RocketMQRemoting
import RocketMQWire
import Synchronization
import RocketMQTestSupport
import Testing

// Fast versions of the reliability scenarios (the long ones are `ReliabilitySuite`, run by Scripts/soak.sh).

/// Sends from several tasks until told to stop; records acknowledged ids and failures.
final class SendLedger: Sendable {
    struct State {
        var acked: Set<String> = []
        var failures: [String] = []
        var slowest: Duration = .zero
    }

    let state = Mutex(State())
    private let stopped = Mutex(false)

    func stop() { stopped.withLock { $0 = true } }
    var isStopped: Bool { stopped.withLock { $0 } }
    var acked: Set<String> { state.withLock { $0.acked } }
    var ackedCount: Int { state.withLock { $0.acked.count } }
    var failures: [String] { state.withLock { $0.failures } }
    var slowest: Duration { state.withLock { $0.slowest } }

    /// Sends one message, recording its outcome and how long it took.
    func send(_ producer: Producer, topic: String, _ text: String) async {
        let clock = ContinuousClock()
        let began = clock.now
        do {
            let r = try await producer.send(Message(topic: topic, string: text))
            let took = clock.now - began
            state.withLock {
                $0.acked.insert(r.messageID)
                $0.slowest = max($0.slowest, took)
            }
        } catch {
            let took = clock.now - began
            state.withLock {
                $0.failures.append("\(error)")
                $0.slowest = max($0.slowest, took)
            }
        }
    }

    /// Waits (60 s at most) until `count` more sends than now have been acknowledged.
    func waitForProgress(_ count: Int, _ what: String) async throws {
        let mark = ackedCount
        try await eventually(timeout: .seconds(60), what) { self.ackedCount >= mark + count }
    }

    /// `tasks` senders, each sending until ``stop()`` (or `limit` messages), pacing itself with `gap`.
    func run(_ producer: Producer, topic: String, tasks: Int, limit: Int, gap: Duration) async {
        await withDiscardingTaskGroup { group in
            for t in 0..<tasks {
                group.addTask {
                    for i in 0..<limit where !self.isStopped {
                        await self.send(producer, topic: topic, "\(t)-\(i)")
                        try? await Task.sleep(for: gap)
                    }
                }
            }
        }
    }
}

/// Log records kept in memory.
final class RecordedLogs: Sendable {
    let entries = Mutex<[(level: Logger.Level, message: String, address: String?)]>([])

    var logger: Logger { Logger(label: "reliability-test") { _ in RecordingHandler(logs: self) } }

    func warnings(for address: String) -> Int {
        entries.withLock { $0.filter { $0.level >= .warning && $0.address == address }.count }
    }
}

struct RecordingHandler: LogHandler {
    let logs: RecordedLogs
    var logLevel: Logger.Level = .debug
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let address = (event.metadata?["remoting.address"] ?? metadata["remoting.address"]).map { "\($0)" }
        logs.entries.withLock { $0.append((event.level, event.message.description, address)) }
    }
}

/// Client sockets of this process connected to one of `ports` (from /proc: the fd table and the TCP tables), so the
/// count ignores sockets of tests running in parallel.
func clientSockets(toPorts ports: Set<Int>) -> Int {
    var inodes = Set<Substring>()
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        // procfs files report size 0: read to EOF rather than trusting the size.
        guard let data = FileHandle(forReadingAtPath: table)?.readDataToEndOfFile() else { continue }
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, let colon = fields[2].lastIndex(of: ":"),
                let port = Int(fields[2][fields[2].index(after: colon)...], radix: 16), ports.contains(port)
            else { continue }
            inodes.insert(fields[9])
        }
    }
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return fds.filter { fd in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
            target.hasPrefix("socket:[")
        else { return false }
        return inodes.contains(target.dropFirst("socket:[".count).dropLast())
    }.count
}

/// The port of a `host:port` address.
func port(of address: String) -> Int {
    address.split(separator: ":").last.flatMap { Int($0) } ?? -1
}

@Suite("Reliability under faults (fast versions)", .serialized, .heavy)
struct ReliabilityTests {
    @Test("every connection dropped repeatedly during produce and consume: no failed send, nothing lost")
    func connectionDrops() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        let members = try await startGroup(cluster, group: "RG1", topic: "R1", members: 2)
        // On a loaded machine one send may be hit by several drops in a row; more retries absorb that. What this test
        // is about: a reconnect backoff never uses up a send's retries (it used to, in microseconds).
        var producerConfig = ProducerConfiguration(group: "ReliabilityProducer")
        producerConfig.retries = 5
        let producer = try Producer(configuration: producerConfig, client: ClientConfiguration(nameServer: cluster.nameServerAddress))
        let runner = Task { try await producer.run() }
        // A running producer: it knows the route and has its connections.
        for i in 0..<8 { _ = try await producer.send(Message(topic: "R1", string: "warm-up \(i)")) }
        let ledger = SendLedger()
        let sending = Task { await ledger.run(producer, topic: "R1", tasks: 4, limit: 10_000, gap: .milliseconds(5)) }
        // The fault: every client connection (brokers and name server) closed 8 times, each time after the senders
        // got 150 more acknowledgements (paced by progress, not by the clock: a loaded machine gets the same fault).
        for round in 0..<8 {
            try await ledger.waitForProgress(150, "round \(round): sends succeed again after the drops")
            for b in cluster.brokers { b.dropConnections() }
            cluster.nameServer.dropConnections()
        }
        try await ledger.waitForProgress(150, "sends succeed after the last drop")
        ledger.stop()
        await sending.value
        let acked = ledger.acked
        #expect(acked.count > 100)
        // Sends whose connection broke are retried within their deadline, waiting out the reconnect backoff.
        #expect(ledger.failures.isEmpty, "failed sends: \(ledger.failures.prefix(3))")
        try await eventually(timeout: .seconds(60), "every acknowledged message delivered") {
            acked.isSubset(of: members.reduce(into: Set<String>()) { $0.formUnion($1.received.ids) })
        }
        for m in members { await m.stop() }
        runner.cancel()
        await cluster.shutdown()
    }

    @Test("members whose connections drop re-register with every broker by themselves and the group converges")
    func droppedMembersReRegisterAtOnce() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        let members = try await startGroup(cluster, group: "RG6", topic: "R6", members: 2)
        let before = members.map { Set($0.consumer.ownedQueues.filter { $0.topic == "R6" }) }
        var moved = 0
        for round in 0..<3 {
            let reconnects = members.map(\.consumer.reconnectCount)
            // The brokers forget both members with their connections (and would tell the group so).
            for b in cluster.brokers { b.dropConnections() }
            let clock = ContinuousClock()
            let dropped = clock.now
            // The members reconnect and re-register on their own (not only when a pull or heartbeat happens to need
            // the connection). How fast (0.16 s on a quiet machine) is a figure of the drops-and-pause scenario of
            // the ReliabilitySuite, not an assertion here.
            try await eventually(timeout: .seconds(60), "round \(round): both members reconnected and registered again") {
                zip(members, reconnects).allSatisfy { $0.consumer.reconnectCount >= $1 + 2 }
                    && cluster.brokers.allSatisfy { $0.consumerIDs(group: "RG6").count == 2 }
            }
            print("round \(round): re-registered \(clock.now - dropped) after the drop")
            try await eventually(timeout: .seconds(60), "round \(round): every queue owned by exactly one member") {
                exclusivelyOwned(members, topic: "R6", queues: 8)
            }
            if members.map({ Set($0.consumer.ownedQueues.filter { $0.topic == "R6" }) }) != before { moved += 1 }
        }
        print("DROPS rounds=3 roundsWhereQueuesMoved=\(moved)")
        for m in members { await m.stop() }
        await cluster.shutdown()
    }

    @Test("a paused broker: every send returns by its deadline, pending requests go back to 0, nothing acknowledged is lost")
    func pausedBroker() async throws {
        try await withProducer(configure: { p, _ in p.sendTimeout = .seconds(1) }) { cluster, producer in
            cluster.createTopic("R2", queues: 4)
            _ = try await producer.send(Message(topic: "R2", string: "warm-up"))
            let paused = cluster.brokers[0]
            paused.pause(true)
            let ledger = SendLedger()
            await ledger.run(producer, topic: "R2", tasks: 20, limit: 10, gap: .milliseconds(20))
            // Deadlines honoured: nothing took much longer than the 1 s send timeout.
            #expect(ledger.slowest < .milliseconds(1500), "slowest send took \(ledger.slowest)")
            try await eventually(timeout: .seconds(60), "no request pending") { producer.pendingRequestCount == 0 }
            paused.pause(false)
            // Acknowledged means stored.
            let stored = Set(storedMessages(cluster, topic: "R2").compactMap(\.uniqueKey))
            #expect(ledger.acked.isSubset(of: stored))
            #expect(!ledger.acked.isEmpty)
            // The client keeps working once the broker answers again.
            let after = SendLedger()
            await after.run(producer, topic: "R2", tasks: 4, limit: 5, gap: .zero)
            #expect(after.failures.isEmpty, "\(after.failures.prefix(3))")
            #expect(producer.pendingRequestCount == 0)
        }
    }

    @Test("garbage from a server closes only that connection, with a logged error; the client keeps working")
    func garbageClosesOnlyThatConnection() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        let good = cluster.nameServerAddress
        let garbage = try await GarbageServer.start(garbage: .oversizeLength, seed: 7)
        let bad = garbage.address
        let logs = RecordedLogs()
        let client = RemotingClient(logger: logs.logger)
        let events = Mutex<[RemotingChannelEvent]>([])
        let stream = client.events
        let eventTask = Task { for await e in stream { events.withLock { $0.append(e) } } }
        let route = RemotingCommand.request(.getRouteInfoByTopic, extFields: GetRouteInfoRequestHeader(topic: "TBW102").fields)
        #expect(try await client.invoke(route, address: good).responseCode == .success)

        let clock = ContinuousClock()
        for kind in GarbageServer.Garbage.allCases {
            garbage.answer(with: kind)
            var outcome: RemotingError?
            // The previous garbage closed the connection: its reconnect backoff fails fast until it has passed.
            try await eventually(timeout: .seconds(60), "a request reaches the garbage server (\(kind))") {
                let began = clock.now
                do {
                    _ = try await client.invoke(route, address: bad, timeout: .milliseconds(500))
                    Issue.record("garbage (\(kind)) was taken as a response")
                    return true
                } catch let error as RemotingError {
                    if error.kind == .reconnectBackoff { return false }
                    #expect(clock.now - began < .milliseconds(900), "\(kind): failed after \(clock.now - began)")
                    outcome = error
                    return true
                }
            }
            #expect(outcome?.isRetryable == true, "\(kind): \(String(describing: outcome))")
            // The good connection is untouched and keeps answering.
            #expect(try await client.invoke(route, address: good).responseCode == .success)
        }
        let kinds = GarbageServer.Garbage.allCases.count
        try await eventually(timeout: .seconds(60), "every garbage connection closed") {
            events.withLock { $0.filter { $0.address == bad && $0.kind == .close }.count } == kinds
        }
        #expect(logs.warnings(for: bad) >= kinds)
        #expect(events.withLock { $0.filter { $0.address == good && $0.kind == .active }.count } == 1)
        #expect(events.withLock { $0.filter { $0.address == good && $0.kind == .close }.count } == 0)
        #expect(client.pendingRequestCount == 0)
        await client.shutdown()
        await eventTask.value
        await garbage.stop()
        await cluster.shutdown()
    }

    @Test("20 create/run/shutdown cycles of a producer and a consumer leave no socket open and no client alive")
    func createRunShutdownCycles() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("R4", queues: 2)
        let ports = Set([port(of: cluster.nameServerAddress)] + cluster.brokers.map { port(of: $0.address) })
        #expect(clientSockets(toPorts: ports) == 0)
        weak var lastProducer: Producer?
        weak var lastConsumer: PushConsumer?
        for cycle in 0..<20 {
            let member = try startConsumer(cluster, group: "RG4", topic: "R4", configure: { $0.startPoint = .lastOffset })
            let (producer, runner) = try startProducer(cluster)
            try await eventually(timeout: .seconds(60), "cycle \(cycle): the consumer owns the queues") {
                member.consumer.ownedQueues.filter { $0.topic == "R4" }.count == 2
            }
            var sent = Set<String>()
            for i in 0..<5 { sent.insert(try await producer.send(Message(topic: "R4", string: "c\(cycle)-\(i)")).messageID) }
            try await eventually(timeout: .seconds(60), "cycle \(cycle): received") { sent.isSubset(of: member.received.ids) }
            #expect(clientSockets(toPorts: ports) > 0)
            await member.stop()
            runner.cancel()
            _ = try? await runner.value
            lastProducer = producer
            lastConsumer = member.consumer
            // Shutdown closed every client connection (not merely asked them to close).
            #expect(clientSockets(toPorts: ports) == 0, "cycle \(cycle): sockets left open")
        }
        try await eventually(timeout: .seconds(60), "the last clients are freed") { lastProducer == nil && lastConsumer == nil }
        await cluster.shutdown()
    }

    @Test("members joining and leaving under load: nothing lost, the group converges")
    func shortChurn() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        var members = try await startGroup(cluster, group: "RG5", topic: "R5", members: 2)
        var everyone = members
        let (producer, runner) = try startProducer(cluster)
        let ledger = SendLedger()
        let sending = Task { await ledger.run(producer, topic: "R5", tasks: 2, limit: 10_000, gap: .milliseconds(5)) }
        // join, leave, join, leave: one change after every 200 more acknowledged sends.
        for step in 0..<4 {
            try await ledger.waitForProgress(200, "step \(step): sends go on")
            if step % 2 == 0 {
                let m = try startConsumer(cluster, group: "RG5", topic: "R5")
                members.append(m)
                everyone.append(m)
            } else {
                await members.removeFirst().stop()
            }
        }
        let current = members
        try await eventually(timeout: .seconds(60), "the remaining members share the 8 queues") {
            let o = ownership(current, topic: "R5")
            return o.count == 8 && o.values.allSatisfy { $0 == 1 }
                && current.allSatisfy { $0.consumer.ownedQueues.filter { $0.topic == "R5" }.count >= 8 / current.count }
        }
        ledger.stop()
        await sending.value
        let acked = ledger.acked
        #expect(ledger.failures.isEmpty, "\(ledger.failures.prefix(3))")
        try await eventually(timeout: .seconds(60), "every acknowledged message delivered") {
            acked.isSubset(of: everyone.reduce(into: Set<String>()) { $0.formUnion($1.received.ids) })
        }
        let deliveries = everyone.reduce(0) { $0 + $1.received.total }
        let unique = everyone.reduce(into: Set<String>()) { $0.formUnion($1.received.ids) }.count
        print("short churn: \(acked.count) acknowledged, \(deliveries - unique) duplicate deliveries")
        for m in current { await m.stop() }
        runner.cancel()
        await cluster.shutdown()
    }
}
