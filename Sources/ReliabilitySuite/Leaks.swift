import ArgumentParser
import Foundation
import RocketMQ

/// Weak references to clients that should have gone away.
final class Graveyard: @unchecked Sendable {
    // @unchecked: appended to and read only by the scenario's own task.
    private var producers: [WeakBox<Producer>] = []
    private var consumers: [WeakBox<PushConsumer>] = []

    func bury(_ p: Producer) { producers.append(WeakBox(p)) }
    func bury(_ c: PushConsumer) { consumers.append(WeakBox(c)) }
    /// Clients still alive (something — a task, a cycle — still holds them).
    var alive: (producers: Int, consumers: Int) {
        (producers.filter { $0.value != nil }.count, consumers.filter { $0.value != nil }.count)
    }
}

final class WeakBox<T: AnyObject> {
    weak var value: T?
    init(_ value: T) { self.value = value }
}

/// Scenario 6: create, run and shut down a producer and a consumer many times in one process. Open fds, threads,
/// resident memory and live client objects must not grow.
struct Leaks: Scenario {
    static let configuration = CommandConfiguration(
        commandName: "leaks",
        abstract: "Create, run and shut down a producer and a consumer N times; fds, threads, memory must not grow.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Create/run/shutdown cycles.")
    var cycles = 100

    @Option(help: "Messages sent and received per cycle.")
    var messages = 20

    @Option(help: "Cycles run before the baseline is taken (allocator and thread pools warm up).")
    var warmup = 10

    @Option(name: .customLong("rss-slack-mib"), help: "Allowed resident-memory growth after warm-up (MiB).")
    var rssSlackMiB: Double = 8

    @Option(name: .customLong("mock-broker"), help: "Path of the mock-broker executable (default: next to this one).")
    var mockBroker: String?

    func measure() async throws -> Figures {
        // The broker runs in its own process, so this process's fds, threads and memory are the client's alone.
        let broker = try await BrokerProcess.startEphemeral(brokers: 1, name: "leaks", path: mockBroker)
        let client = ClientConfiguration(nameServer: broker.nameServer)
        let topic = "LeakTopic"
        try await createTopic(topic, queues: 2, client: client)
        say("mock-broker pid \(broker.process?.processIdentifier ?? 0) at \(broker.nameServer); \(cycles) cycles of \(messages) messages")

        let graveyard = Graveyard()
        var samples: [(fds: Int, threads: Int, rss: Int)] = []
        var failures: [String] = []
        let start = (fds: ProcessStats.openFDs, threads: ProcessStats.threads, rss: ProcessStats.residentBytes)
        for cycle in 1...max(1, cycles) {
            do {
                try await runCycle(cycle, client: client, topic: topic, graveyard: graveyard)
            } catch {
                failures.append("cycle \(cycle): \(error)")
                if failures.count >= 3 { break }
            }
            // Sockets close during shutdown; give the kernel a moment to release what the client already closed.
            _ = await waitUntil(timeout: .seconds(2)) { samples.isEmpty || ProcessStats.openFDs <= samples[0].fds }
            samples.append((ProcessStats.openFDs, ProcessStats.threads, ProcessStats.residentBytes))
            if cycle % 10 == 0 || cycle == cycles {
                let s = samples[samples.count - 1]
                say(String(format: "cycle %d: fds %d, threads %d, rss %.1f MiB", cycle, s.fds, s.threads, ProcessStats.mib(s.rss)))
            }
        }
        // Clients released at shutdown may be freed a moment later (their last tasks finishing).
        _ = await waitUntil(timeout: .seconds(5)) { graveyard.alive == (0, 0) }
        let alive = graveyard.alive
        await broker.terminate()

        let baseIndex = min(max(0, warmup - 1), max(0, samples.count - 1))
        let base = samples.isEmpty ? (start.fds, start.threads, start.rss) : samples[baseIndex]
        let end = samples.last ?? base
        let peakRSS = samples.map(\.rss).max() ?? end.rss
        // Growth per cycle after the warm-up (least squares), so a slow leak shows even under allocator noise.
        let tail = Array(samples.dropFirst(baseIndex))
        let slope = Self.slope(tail.map { Double($0.rss) })
        var f = Figures("leaks")
        f.set("cycles", samples.count)
        f.set("messages_per_cycle", messages)
        f.set("fds_start", start.fds)
        f.set("fds_baseline", base.0)
        f.set("fds_end", end.0)
        f.set("fds_max", samples.map(\.fds).max() ?? 0)
        f.set("threads_start", start.threads)
        f.set("threads_baseline", base.1)
        f.set("threads_end", end.1)
        f.set("threads_max", samples.map(\.threads).max() ?? 0)
        f.set("rss_start_mib", ProcessStats.mib(start.rss))
        f.set("rss_baseline_mib", ProcessStats.mib(base.2))
        f.set("rss_peak_mib", ProcessStats.mib(peakRSS))
        f.set("rss_end_mib", ProcessStats.mib(end.2))
        f.set("rss_slope_kib_per_cycle", slope / 1024)
        f.set("live_producers_after", alive.producers)
        f.set("live_consumers_after", alive.consumers)
        f.set("cycle_failures", failures.count)

        f.goal("fds", end.0 <= base.0, "open fds \(base.0) after warm-up, \(end.0) at the end")
        f.goal("threads", end.1 <= base.1, "threads \(base.1) after warm-up, \(end.1) at the end")
        f.goal(
            "resident memory", ProcessStats.mib(end.2 - base.2) <= rssSlackMiB,
            String(format: "%.1f MiB after warm-up, %.1f MiB at the end (slack %.0f MiB; %.1f KiB/cycle)",
                ProcessStats.mib(base.2), ProcessStats.mib(end.2), rssSlackMiB, slope / 1024))
        f.goal("clients freed", alive == (0, 0), "\(alive.producers) producers and \(alive.consumers) consumers still alive after shutdown")
        f.goal("every cycle worked", failures.isEmpty, failures.isEmpty ? "every cycle sent and received its messages" : failures.joined(separator: "; "))
        return f
    }

    /// One cycle: a producer and a consumer start, `messages` go through, both shut down.
    private func runCycle(_ cycle: Int, client: ClientConfiguration, topic: String, graveyard: Graveyard) async throws {
        let tally = Tally()
        let member = try Member.start(name: "c\(cycle)", group: "LeakGroup", topic: topic, client: client, tally: tally) {
            $0.startPoint = .lastOffset
        }
        let (producer, producerTask) = try runProducer(group: "LeakProducer", client: client)
        graveyard.bury(producer)
        graveyard.bury(member.consumer)
        defer { producerTask.cancel() }
        // Wait until the consumer owns the queues, so what is sent next is what it reads.
        guard await waitUntil(timeout: .seconds(15), { member.owned(topic).count == 2 }) else {
            try await member.stop()
            throw SuiteError("the consumer took no queues")
        }
        let ledger = Ledger()
        for _ in 0..<messages {
            let (seq, phase) = ledger.began()
            let began = ContinuousClock.now
            do {
                _ = try await producer.send(Message(topic: topic, string: "leak \(cycle)", properties: ["seq": String(seq)]))
                ledger.acknowledged(seq, phase: phase, latency: ContinuousClock.now - began)
            } catch {
                ledger.failed(seq, phase: phase, latency: ContinuousClock.now - began, error: error)
            }
        }
        let received = await waitUntil(timeout: .seconds(15)) { tally.lost(of: ledger) == 0 }
        try await member.stop()
        producerTask.cancel()
        try await producerTask.value
        guard ledger.failedCount == 0 else { throw SuiteError("\(ledger.failedCount) sends failed: \(ledger.firstErrors)") }
        guard received else { throw SuiteError("\(tally.lost(of: ledger)) of \(messages) messages not received") }
    }

    static func slope(_ ys: [Double]) -> Double {
        guard ys.count > 1 else { return 0 }
        let n = Double(ys.count)
        let xs = (0..<ys.count).map(Double.init)
        let mx = xs.reduce(0, +) / n
        let my = ys.reduce(0, +) / n
        var num = 0.0
        var den = 0.0
        for (x, y) in zip(xs, ys) {
            num += (x - mx) * (y - my)
            den += (x - mx) * (x - mx)
        }
        return den == 0 ? 0 : num / den
    }
}
