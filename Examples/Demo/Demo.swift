// rocketmq-demo: the main job. With no arguments it starts an embedded mock cluster (name server + 2 brokers) and
// tells the story of a producer and a consumer group through joins, a GO_AWAY drain and a broker restart, then prints
// what was sent, received, lost and duplicated. `--namesrv HOST:PORT` runs the same story on an existing cluster
// (without the drain/restart step, which it cannot control). Exit status 1 if any acknowledged message was lost.
import ArgumentParser
import Foundation
import Logging
import NIOCore
import RocketMQ
import RocketMQMockBroker
import Synchronization

@main
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rocketmq-demo",
        abstract: "Produce, consume with rebalancing, drain a broker with GO_AWAY and restart it; then count what was lost.")

    @Option(help: "Run against this name server instead of an embedded mock cluster (no drain/restart step).")
    var namesrv: String?

    @Option(help: "Messages per second to produce.")
    var rate = 2000

    @Option(help: "Seconds of producing.")
    var seconds = 12.0

    @Option(help: "Topic to use.")
    var topic = "DemoTopic"

    @Option(name: .customLong("log-level"), help: "Library log level on stderr.")
    var logLevel = "error"

    func validate() throws {
        guard rate >= 1, rate <= 200_000 else { throw ValidationError("--rate must be between 1 and 200000") }
        guard seconds >= 4, seconds <= 600 else { throw ValidationError("--seconds must be between 4 and 600") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .error
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let story = Story(rate: rate, seconds: seconds, topic: topic)
        let lost = try await story.run(namesrv: namesrv)
        if lost > 0 { throw ExitCode(1) }
    }
}

/// Prints a timestamped line.
struct Narrator: Sendable {
    let start = ContinuousClock.now

    func say(_ text: String) {
        let t = ContinuousClock.now - start
        let seconds = Double(t.components.seconds) + Double(t.components.attoseconds) / 1e18
        FileHandle.standardOutput.write(Data((String(format: "[%5.1fs] ", seconds) + text + "\n").utf8))
    }
}

/// What the consumers saw.
final class Tally: Sendable {
    private struct State {
        var received: [String: Int] = [:]
        var compressedSeen = 0
    }

    private let state = Mutex(State())

    func record(_ messages: [ReceivedMessage]) {
        state.withLock { s in
            for m in messages { s.received[m.messageID, default: 0] += 1 }
        }
    }

    var unique: Int { state.withLock { $0.received.count } }
    var deliveries: Int { state.withLock { $0.received.values.reduce(0, +) } }
    func missing(from sent: Set<String>) -> Int { state.withLock { s in sent.filter { s.received[$0] == nil }.count } }
}

/// The demo's sequence of events.
struct Story: Sendable {
    let rate: Int
    let seconds: Double
    let topic: String
    let group = "DemoGroup"
    let narrator = Narrator()

    func run(namesrv: String?) async throws -> Int {
        var cluster: MockCluster?
        let address: String
        if let namesrv {
            address = namesrv
            narrator.say("using the cluster at \(namesrv) (the drain/restart step needs the embedded cluster; skipped)")
            let admin = try Admin(client: ClientConfiguration(nameServer: namesrv))
            if let brokers = try? await admin.createTopic(topic, queues: 4) {
                narrator.say("topic \(topic) ready on \(brokers.joined(separator: ", "))")
            }
            await admin.shutdown()
        } else {
            let mock = try await MockCluster.start(.init(brokers: 2, queues: 4))
            mock.createTopic(topic, queues: 4)
            cluster = mock
            address = mock.nameServerAddress
            narrator.say("embedded cluster up: name server \(address), " + mock.brokers.map { "\($0.name) \($0.address)" }.joined(separator: ", "))
        }
        let client = ClientConfiguration(nameServer: address)

        // Consumers: one now, two more joining later.
        let tally = Tally()
        let shared = Shared()
        func join(_ n: Int) throws {
            var config = ConsumerConfiguration(group: group)
            config.startPoint = .lastOffset
            let consumer = try PushConsumer(configuration: config, client: client) { messages in
                tally.record(messages)
                return .success
            }
            try consumer.subscribe(topic)
            let task = Task { try await consumer.run() }
            shared.consumers.withLock { $0.append((consumer, task)) }
            narrator.say("consumer-\(n) joins group \(group)")
        }
        try join(1)
        let watcher = OwnershipWatcher(narrator: narrator, topic: topic)
        try await watcher.waitForOwnership(shared.members, covering: 8, timeout: .seconds(15))

        // The producer: a steady rate, one message in five large enough to be compressed (zstd).
        let producer = try Producer(configuration: ProducerConfiguration(group: "DemoProducer"), client: client)
        let producerTask = Task { try await producer.run() }
        let producing = Task {
            await produce(producer, shared: shared)
        }
        narrator.say("producer sending \(rate) msg/s to \(topic) (every 5th message is a 6 KiB JSON body: zstd-compressed)")
        let gaps = OwnershipGaps(topic: topic, brokers: cluster?.brokers.map(\.name) ?? [], queuesPerBroker: 4)
        let watch = Task { await watcher.watch(consumers: { shared.members }) }
        let measure = Task { await gaps.measure(consumers: { shared.members }) }

        try await pause(seconds * 0.2)
        gaps.setPhase("join")
        try join(2)
        try await pause(seconds * 0.15)
        try join(3)
        try await pause(seconds * 0.15)
        if let cluster {
            let broker = cluster.brokers[0]
            narrator.say("\(broker.name) drains: leaves the routes and answers GO_AWAY to every request for 1.5 s")
            gaps.setLive(broker.name, false)
            gaps.setPhase("drain")
            await broker.drain(grace: .milliseconds(1500))
            narrator.say("\(broker.name) is down (sends so far: \(shared.acked.withLock { $0.count }) acknowledged, \(shared.failures.withLock { $0 }) failed)")
            try await pause(1)
            try await broker.restart()
            gaps.setPhase("restart")
            gaps.setLive(broker.name, true)  // registered with the name server: its queues must be owned again
            narrator.say("\(broker.name) restarted on the same port; clients re-register on ACTIVE and rebalance")
        }
        try await pause(seconds * 0.35)
        shared.stopProducing.withLock { $0 = true }
        await producing.value
        let sent = shared.acked.withLock { $0 }
        let consumers = shared.consumers.withLock { $0 }
        narrator.say("producer stopped: \(sent.count) acknowledged; waiting for the consumers to catch up")
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while tally.missing(from: sent) > 0 && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        watch.cancel()
        measure.cancel()
        await measure.value
        let (longestUnowned, longestTwice) = gaps.longest

        let stats = producer.statistics
        let lost = tally.missing(from: sent)
        let rebalances = consumers.reduce(0) { $0 + $1.0.rebalanceCount }
        let reconnects = consumers.reduce(stats.reconnects) { $0 + $1.0.connectionStatistics.reconnects }
        let goAways = consumers.reduce(stats.goAways) { $0 + $1.0.connectionStatistics.goAways }
        for (_, task) in consumers { task.cancel() }
        for (_, task) in consumers { _ = try? await task.value }
        producerTask.cancel()
        _ = try? await producerTask.value
        await cluster?.shutdown()

        let ratio = stats.uncompressedBytes > 0 ? Double(stats.compressedBytes) / Double(stats.uncompressedBytes) : 0
        let rows: [(String, String)] = [
            ("sent", "\(sent.count + shared.failures.withLock { $0 })"),
            ("acknowledged", "\(sent.count)"),
            ("send failures", "\(shared.failures.withLock { $0 })"),
            ("received (unique)", "\(tally.unique)"),
            ("lost", "\(lost)"),
            ("duplicates", "\(tally.deliveries - tally.unique)"),
            ("rebalances", "\(rebalances)"),
            ("longest unowned", cluster == nil ? "n/a (existing cluster)" : "\(longestUnowned)"),
            ("owned twice", cluster == nil ? "n/a (existing cluster)" : "\(longestTwice)"),
            ("reconnects", "\(reconnects)"),
            ("GO_AWAYs handled", "\(goAways)"),
            ("send retries", "\(stats.retries)"),
            ("compressed messages", String(format: "%d (%.1f%% of original size)", stats.compressedMessages, ratio * 100)),
            ("throughput", String(format: "%.0f msg/s acknowledged", Double(sent.count) / seconds)),
        ]
        print("")
        print("summary")
        for (name, value) in rows {
            print("  " + name.padding(toLength: 22, withPad: " ", startingAt: 0) + value)
        }
        print(lost == 0 ? "RESULT ok lost=0" : "RESULT failed lost=\(lost)")
        return lost
    }

    static func millis(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    private func pause(_ seconds: Double) async throws {
        try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
    }

    /// Sends at `rate` msg/s until cancelled, in ticks of 10 ms.
    private func produce(_ producer: Producer, shared: Shared) async {
        let large = String(repeating: #"{"order":123456,"item":"widget","qty":3,"note":"compressible"}"#, count: 100)
        let perTick = max(1, rate / 100)
        var i = 0
        await withTaskGroup(of: Void.self) { group in
            while !shared.stopProducing.withLock({ $0 }) {
                let tickStart = ContinuousClock.now
                for _ in 0..<perTick {
                    let n = i
                    i += 1
                    let body = n % 5 == 0 ? large : "message \(n)"
                    group.addTask {
                        do {
                            let r = try await producer.send(Message(topic: topic, string: body, tags: n % 2 == 0 ? "even" : "odd"))
                            _ = shared.acked.withLock { $0.insert(r.messageID) }
                        } catch {
                            let n = shared.failures.withLock { f -> Int in
                                f += 1
                                return f
                            }
                            if n <= 3 { narrator.say("send failed: \(error)") }
                        }
                    }
                }
                let elapsed = ContinuousClock.now - tickStart
                if elapsed < .milliseconds(10) {
                    try? await Task.sleep(for: .milliseconds(10) - elapsed)
                }
            }
            await group.waitForAll()
        }
    }
}

/// State the story's tasks share.
final class Shared: Sendable {
    let acked = Mutex(Set<String>())
    let failures = Mutex(0)
    let stopProducing = Mutex(false)
    let consumers = Mutex<[(PushConsumer, Task<Void, Error>)]>([])

    var members: [PushConsumer] { consumers.withLock { $0.map(\.0) } }
}

/// Prints who owns which queues whenever it changes.
final class OwnershipWatcher: Sendable {
    let narrator: Narrator
    let topic: String
    private let last = Mutex("")

    init(narrator: Narrator, topic: String) {
        self.narrator = narrator
        self.topic = topic
    }

    func describe(_ consumers: [PushConsumer]) -> String {
        consumers.enumerated().map { i, c in
            let queues = c.ownedQueues.filter { $0.topic == topic }.map { "\($0.brokerName.suffix(1))\($0.queueId)" }
            return "consumer-\(i + 1): [\(queues.joined(separator: " "))]"
        }.joined(separator: "  ")
    }

    func report(_ consumers: [PushConsumer]) {
        let text = describe(consumers)
        let changed = last.withLock { l -> Bool in
            defer { l = text }
            return l != text
        }
        if changed { narrator.say("queues  " + text) }
    }

    func waitForOwnership(_ consumers: [PushConsumer], covering count: Int, timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            let owned = consumers.flatMap { $0.ownedQueues.filter { $0.topic == topic } }
            if Set(owned).count == count { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        report(consumers)
    }

    func watch(consumers: @Sendable () -> [PushConsumer]) async {
        while !Task.isCancelled {
            report(consumers())
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// Measures, from the members' own rebalance results (their owned queues, sampled every 5 ms), the longest time any
/// queue of a live broker had no owner, and the longest time one had two. A broker is live while it is in the routes:
/// from its start, and again from its restart (when it registers with the name server), but not while it drains.
final class OwnershipGaps: Sendable {
    private struct State {
        var live: Set<String>
        var unownedSince: [MessageQueue: (at: ContinuousClock.Instant, phase: String)] = [:]
        var twiceSince: [MessageQueue: (at: ContinuousClock.Instant, phase: String)] = [:]
        var longestUnowned = Stretch()
        var longestTwice = Stretch()
        var phase = "steady"
    }

    /// The longest stretch seen, with its queue and the phase of the story it began in.
    struct Stretch: CustomStringConvertible {
        var length: Duration = .zero
        var queue = ""
        var phase = ""

        var description: String {
            let ms = length.components.seconds * 1000 + length.components.attoseconds / 1_000_000_000_000_000
            return ms == 0 ? "0 ms" : "\(ms) ms (\(queue), \(phase))"
        }
    }

    let topic: String
    let queuesPerBroker: Int32
    private let state: Mutex<State>

    init(topic: String, brokers: [String], queuesPerBroker: Int32) {
        self.topic = topic
        self.queuesPerBroker = queuesPerBroker
        state = Mutex(State(live: Set(brokers)))
    }

    /// The longest unowned and owned-twice stretches so far.
    var longest: (unowned: Stretch, twice: Stretch) { state.withLock { ($0.longestUnowned, $0.longestTwice) } }

    /// Names the phase of the story that stretches beginning from now belong to.
    func setPhase(_ phase: String) { state.withLock { $0.phase = phase } }

    /// A broker entered or left the routes; a queue's stretch starts when its broker becomes live.
    func setLive(_ broker: String, _ live: Bool) {
        let now = ContinuousClock.now
        state.withLock { s in
            if live {
                s.live.insert(broker)
            } else {
                s.live.remove(broker)
                // Its queues are not expected to be owned while it is away: close their stretches.
                for q in s.unownedSince.keys where q.brokerName == broker { Self.close(&s.unownedSince, q, now, into: &s.longestUnowned) }
                for q in s.twiceSince.keys where q.brokerName == broker { Self.close(&s.twiceSince, q, now, into: &s.longestTwice) }
            }
        }
    }

    func measure(consumers: @Sendable () -> [PushConsumer]) async {
        while !Task.isCancelled {
            sample(consumers())
            try? await Task.sleep(for: .milliseconds(5))
        }
        sample(consumers(), closing: true)
    }

    private func sample(_ consumers: [PushConsumer], closing: Bool = false) {
        var owners: [MessageQueue: Int] = [:]
        for c in consumers {
            for q in c.ownedQueues where q.topic == topic { owners[q, default: 0] += 1 }
        }
        let now = ContinuousClock.now
        state.withLock { s in
            for broker in s.live {
                for id in 0..<queuesPerBroker {
                    let q = MessageQueue(topic: topic, brokerName: broker, queueId: id)
                    let n = owners[q] ?? 0
                    if n == 0 && !closing {
                        if s.unownedSince[q] == nil { s.unownedSince[q] = (now, s.phase) }
                    } else {
                        Self.close(&s.unownedSince, q, now, into: &s.longestUnowned)
                    }
                    if n > 1 && !closing {
                        if s.twiceSince[q] == nil { s.twiceSince[q] = (now, s.phase) }
                    } else {
                        Self.close(&s.twiceSince, q, now, into: &s.longestTwice)
                    }
                }
            }
        }
    }

    private static func close(
        _ since: inout [MessageQueue: (at: ContinuousClock.Instant, phase: String)], _ q: MessageQueue,
        _ now: ContinuousClock.Instant, into longest: inout Stretch
    ) {
        guard let began = since.removeValue(forKey: q), now - began.at > longest.length else { return }
        longest = Stretch(length: now - began.at, queue: "\(q.brokerName):\(q.queueId)", phase: began.phase)
    }
}
