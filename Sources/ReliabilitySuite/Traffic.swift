import Foundation
import NIOCore
@_spi(Diagnostics) import RocketMQ
import Synchronization

/// Every send the load generator made: sequence numbers acknowledged and failed, latencies per phase, errors by kind.
///
/// Each message carries its sequence number in the user property `seq`, so receipts are matched to sends without
/// keeping message ids.
final class Ledger: Sendable {
    struct State {
        var started = 0
        var acked = Bitmap()
        var failed = Bitmap()
        var failures: [String: Int] = [:]
        var failuresByPhase: [String: Int] = [:]
        var all = Histogram()
        var byPhase: [String: Histogram] = [:]
        var inFlight = 0
        var phase = "steady"
        /// Named watches: set when created, resolved by the first acknowledgement after that.
        var ackWatches: [String: (since: ContinuousClock.Instant, first: ContinuousClock.Instant?)] = [:]
        var firstErrors: [String] = []
        /// Sends (acknowledged or failed) that took longer than ``Ledger/deadline``.
        var overDeadline = 0
    }

    let state = Mutex(State())
    /// The send deadline plus the allowed slack; longer sends are counted in ``overDeadline``.
    let deadline: Duration

    init(deadline: Duration = .seconds(3) + .milliseconds(500)) {
        self.deadline = deadline
    }

    /// Sends started from now on are counted in `phase`.
    func enter(_ phase: String) { state.withLock { $0.phase = phase } }

    /// Starts a watch resolved by the next acknowledgement (e.g. recovery after a restart).
    func watchFirstAck(_ name: String) {
        state.withLock { $0.ackWatches[name] = (ContinuousClock.now, nil) }
    }

    /// How long after the watch started the first acknowledgement came (nil: none yet).
    func firstAck(_ name: String) -> Duration? {
        state.withLock { s in
            guard let w = s.ackWatches[name], let first = w.first else { return nil }
            return first - w.since
        }
    }

    func began() -> (seq: Int, phase: String) {
        state.withLock { s in
            let seq = s.started
            s.started += 1
            s.inFlight += 1
            return (seq, s.phase)
        }
    }

    func acknowledged(_ seq: Int, phase: String, latency: Duration) {
        let now = ContinuousClock.now
        state.withLock { s in
            s.inFlight -= 1
            if latency > deadline { s.overDeadline += 1 }
            s.acked.insert(seq)
            s.all.record(latency)
            s.byPhase[phase, default: Histogram()].record(latency)
            for (name, w) in s.ackWatches where w.first == nil && w.since <= now {
                s.ackWatches[name] = (w.since, now)
            }
        }
    }

    func failed(_ seq: Int, phase: String, latency: Duration, error: any Error) {
        let kind: String
        if let e = error as? RocketMQError { kind = e.code.description } else { kind = String(describing: type(of: error)) }
        state.withLock { s in
            s.inFlight -= 1
            if latency > deadline { s.overDeadline += 1 }
            s.failed.insert(seq)
            s.failures[kind, default: 0] += 1
            s.failuresByPhase[phase, default: 0] += 1
            s.all.record(latency)
            s.byPhase[phase, default: Histogram()].record(latency)
            if s.firstErrors.count < 3 { s.firstErrors.append("\(error)") }
        }
    }

    var inFlight: Int { state.withLock { $0.inFlight } }
    var overDeadline: Int { state.withLock { $0.overDeadline } }
    var ackedCount: Int { state.withLock { $0.acked.count } }
    var failedCount: Int { state.withLock { $0.failed.count } }
    var startedCount: Int { state.withLock { $0.started } }
    var acked: Bitmap { state.withLock { $0.acked } }
    var failedSet: Bitmap { state.withLock { $0.failed } }
    var all: Histogram { state.withLock { $0.all } }
    func histogram(_ phase: String) -> Histogram { state.withLock { $0.byPhase[phase] ?? Histogram() } }
    func failures(in phase: String) -> Int { state.withLock { $0.failuresByPhase[phase] ?? 0 } }
    var failureKinds: String {
        state.withLock { s in
            s.failures.isEmpty ? "none" : s.failures.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        }
    }
    var firstErrors: [String] { state.withLock { $0.firstErrors } }
}

/// Sends at a steady rate (open loop: a slow broker does not slow the offered load) until stopped.
final class Load: Sendable {
    let producer: Producer
    let topic: String
    let rate: Int
    let ledger: Ledger
    let bodySize: Int
    private let stopped = Mutex(false)

    init(producer: Producer, topic: String, rate: Int, ledger: Ledger, bodySize: Int = 100) {
        self.producer = producer
        self.topic = topic
        self.rate = rate
        self.ledger = ledger
        self.bodySize = bodySize
    }

    func stop() { stopped.withLock { $0 = true } }

    /// Runs until ``stop()``, then waits up to `drainTimeout` for sends in flight; returns how many never returned
    /// (hung sends: each must return or throw within its deadline).
    func run(drainTimeout: Duration) async -> Int {
        let clock = ContinuousClock()
        let padding = String(repeating: "x", count: max(0, bodySize - 16))
        return await withDiscardingTaskGroup { group -> Int in
            let start = clock.now
            var issued = 0
            while !stopped.withLock({ $0 }) {
                // As many sends as the rate says should have started by now (bounded burst after a stall).
                let due = Int((clock.now - start).seconds * Double(rate))
                let burst = min(due - issued, max(1, rate / 10))
                for _ in 0..<max(0, burst) {
                    let (seq, phase) = ledger.began()
                    let message = Message(topic: topic, string: "\(seq) \(padding)", properties: ["seq": String(seq)])
                    group.addTask { [producer, ledger] in
                        let began = clock.now
                        do {
                            _ = try await producer.send(message)
                            ledger.acknowledged(seq, phase: phase, latency: clock.now - began)
                        } catch {
                            ledger.failed(seq, phase: phase, latency: clock.now - began, error: error)
                        }
                    }
                }
                issued += max(0, burst)
                try? await Task.sleep(for: .milliseconds(5))
            }
            let settled = await waitUntil(timeout: drainTimeout) { self.ledger.inFlight == 0 }
            let hung = settled ? 0 : ledger.inFlight
            if hung > 0 { group.cancelAll() }
            return hung
        }
    }
}

/// What consumers received, by sequence number; duplicates counted.
final class Tally: Sendable {
    struct State {
        var received = Bitmap()
        var deliveries = 0
        var duplicates = 0
        var unknown = 0
        var watches: [String: (since: ContinuousClock.Instant, minSeq: Int, first: ContinuousClock.Instant?)] = [:]
    }

    let state = Mutex(State())

    func record(_ messages: [ReceivedMessage]) {
        let now = ContinuousClock.now
        state.withLock { s in
            for m in messages {
                s.deliveries += 1
                guard let seq = m.properties["seq"].flatMap({ Int($0) }), seq >= 0 else {
                    s.unknown += 1
                    continue
                }
                if !s.received.insert(seq) { s.duplicates += 1 }
                for (name, w) in s.watches where w.first == nil && seq >= w.minSeq {
                    s.watches[name] = (w.since, w.minSeq, now)
                }
            }
        }
    }

    /// Starts a watch resolved by the first receipt of a message with sequence number `>= minSeq`.
    func watchFirstReceipt(_ name: String, minSeq: Int) {
        state.withLock { $0.watches[name] = (ContinuousClock.now, minSeq, nil) }
    }

    func firstReceipt(_ name: String) -> Duration? {
        state.withLock { s in
            guard let w = s.watches[name], let first = w.first else { return nil }
            return first - w.since
        }
    }

    var received: Bitmap { state.withLock { $0.received } }
    var deliveries: Int { state.withLock { $0.deliveries } }
    var duplicates: Int { state.withLock { $0.duplicates } }
    var unknown: Int { state.withLock { $0.unknown } }

    /// Acknowledged sequence numbers not received.
    func lost(of ledger: Ledger) -> Int { ledger.acked.subtractingCount(received) }
}

/// A consumer and the task running it.
final class Member: Sendable {
    let name: String
    let consumer: PushConsumer
    let task: Task<Void, any Error>

    init(name: String, consumer: PushConsumer, task: Task<Void, any Error>) {
        self.name = name
        self.consumer = consumer
        self.task = task
    }

    /// Starts a member of `group` on `topic` that records into `tally`.
    static func start(
        name: String, group: String, topic: String, client: ClientConfiguration, tally: Tally,
        configure: (inout ConsumerConfiguration) -> Void = { _ in }
    ) throws -> Member {
        var config = ConsumerConfiguration(group: group)
        config.startPoint = .firstOffset
        configure(&config)
        let consumer = try PushConsumer(configuration: config, client: client) { messages in
            tally.record(messages)
            return .success
        }
        try consumer.subscribe(topic)
        let task = Task { try await consumer.run() }
        return Member(name: name, consumer: consumer, task: task)
    }

    /// Starts `count` members (`consumer-1` ...) of `group` on `topic` and waits (up to 30 s) until they share its
    /// `queues` queues evenly, each owned by exactly one member.
    static func startGroup(
        _ count: Int, group: String, topic: String, queues: Int, client: ClientConfiguration, tally: Tally
    ) async throws -> [Member] {
        var members: [Member] = []
        for i in 1...max(1, count) {
            members.append(try Member.start(name: "consumer-\(i)", group: group, topic: topic, client: client, tally: tally))
        }
        let started = members
        guard await waitUntil(timeout: .seconds(30), { balanced(started, topic: topic, queues: queues) }) else {
            throw SuiteError("the group did not converge on \(queues) queues")
        }
        return started
    }

    /// Cancels the member (graceful stop: commit, unregister, close) and waits for it; rethrows what run() threw.
    func stop() async throws {
        task.cancel()
        try await task.value
    }

    func owned(_ topic: String) -> [MessageQueue] { consumer.ownedQueues.filter { $0.topic == topic } }
}

/// The queues of `topic` owned by each member, and whether every one of `expected` is owned by exactly one.
func ownership(_ members: [Member], topic: String) -> [MessageQueue: Int] {
    var owners: [MessageQueue: Int] = [:]
    for m in members { for q in m.owned(topic) { owners[q, default: 0] += 1 } }
    return owners
}

func exactlyOnce(_ members: [Member], topic: String, queues: Int) -> Bool {
    let o = ownership(members, topic: topic)
    return o.count == queues && o.values.allSatisfy { $0 == 1 }
}

/// Every queue owned exactly once and shared out as the averaging strategy does (each member at least its share).
func balanced(_ members: [Member], topic: String, queues: Int) -> Bool {
    guard !members.isEmpty, exactlyOnce(members, topic: topic, queues: queues) else { return false }
    return members.allSatisfy { $0.owned(topic).count >= queues / members.count }
}

/// Runs a producer's background work; cancel the task to shut it down.
func runProducer(group: String, client: ClientConfiguration) throws -> (Producer, Task<Void, any Error>) {
    let producer = try Producer(configuration: ProducerConfiguration(group: group), client: client)
    return (producer, Task { try await producer.run() })
}

/// Creates `topic` with `queues` queues on every broker of the cluster behind `client`'s name server.
func createTopic(_ topic: String, queues: Int32, client: ClientConfiguration) async throws {
    let admin = try Admin(client: client)
    do {
        _ = try await admin.createTopic(topic, queues: queues)
    } catch {
        await admin.shutdown()
        throw error
    }
    await admin.shutdown()
}
