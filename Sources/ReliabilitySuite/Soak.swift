import ArgumentParser
import Foundation
import RocketMQ

/// Scenario 7: produce and consume at a steady rate for a long time; resident memory and loss.
struct Soak: Scenario {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Produce and consume at a steady rate; report resident memory start/peak/end and loss.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Seconds of load.")
    var seconds: Double = 600

    @Option(help: "Messages per second offered.")
    var rate = 2000

    @Option(help: "Consumer group members.")
    var members = 2

    @Option(help: "Seconds of load before the starting memory figure is taken.")
    var warmup: Double = 10

    @Option(name: .customLong("rss-slack-mib"), help: "Allowed resident-memory growth from the start to the end (MiB).")
    var rssSlackMiB: Double = 16

    @Option(name: .customLong("catch-up"), help: "Seconds allowed for consumers to catch up at the end.")
    var catchUp: Double = 60

    @Option(name: .customLong("mock-broker"), help: "Path of the mock-broker executable (default: next to this one).")
    var mockBroker: String?

    func measure() async throws -> Figures {
        // The broker keeps every message in memory: it runs in its own process, so the memory measured is the client's.
        let broker = try await BrokerProcess.startEphemeral(brokers: 2, name: "soak", path: mockBroker)
        let client = ClientConfiguration(nameServer: broker.nameServer)
        let topic = "SoakTopic"
        try await createTopic(topic, queues: 4, client: client)

        let tally = Tally()
        let members = try await Member.startGroup(members, group: "SoakGroup", topic: topic, queues: 8, client: client, tally: tally)
        let (producer, producerTask) = try runProducer(group: "SoakProducer", client: client)
        let ledger = Ledger()
        let load = Load(producer: producer, topic: topic, rate: rate, ledger: ledger)
        let loadTask = Task { await load.run(drainTimeout: .seconds(10)) }
        say("producing \(rate) msg/s for \(seconds) s; \(members.count) consumers; broker pid \(broker.process?.processIdentifier ?? 0)")

        let clock = ContinuousClock()
        let begin = clock.now
        let end = begin + Duration(seconds: seconds)
        var startRSS: Int?
        var peak = ProcessStats.residentBytes
        var lastReport = begin
        var maxBacklog = 0
        while clock.now < end {
            await pause(.seconds(1))
            let rss = ProcessStats.residentBytes
            peak = max(peak, rss)
            if startRSS == nil && clock.now - begin >= Duration(seconds: warmup) { startRSS = rss }
            maxBacklog = max(maxBacklog, ledger.ackedCount - tally.received.count)
            if clock.now - lastReport >= .seconds(30) {
                lastReport = clock.now
                say(String(format: "%.0f s: acked %d, received %d, rss %.1f MiB, fds %d", (clock.now - begin).seconds,
                    ledger.ackedCount, tally.received.count, ProcessStats.mib(rss), ProcessStats.openFDs))
            }
        }
        load.stop()
        let producing = clock.now - begin
        let hung = await loadTask.value
        let caughtUp = await waitUntil(timeout: Duration(seconds: catchUp), interval: .milliseconds(100)) { tally.lost(of: ledger) == 0 }
        say(caughtUp ? "consumers caught up" : "consumers did NOT catch up within \(catchUp) s")
        let endRSS = ProcessStats.residentBytes
        let first = startRSS ?? endRSS

        var shutdownErrors: [String] = []
        for m in members {
            do { try await m.stop() } catch { shutdownErrors.append("\(m.name): \(error)") }
        }
        producerTask.cancel()
        do { try await producerTask.value } catch { shutdownErrors.append("producer: \(error)") }
        await broker.terminate()

        let lost = ledger.acked.subtractingCount(tally.received)
        var f = Figures("soak")
        f.set("seconds", producing.seconds, digits: 0)
        f.set("rate_target", rate)
        f.set("rate_achieved", Double(ledger.startedCount) / producing.seconds, digits: 0)
        f.set("sent", ledger.startedCount)
        f.set("acked", ledger.ackedCount)
        f.set("failed", ledger.failedCount)
        f.set("hung", hung)
        f.set("lost", lost)
        f.set("duplicates", tally.duplicates)
        f.set("max_backlog", maxBacklog)
        f.set("latency_p50_ms", ms: ledger.all.quantile(0.5))
        f.set("latency_p99_ms", ms: ledger.all.quantile(0.99))
        f.set("latency_max_ms", ms: ledger.all.max)
        f.set("rss_start_mib", ProcessStats.mib(first))
        f.set("rss_peak_mib", ProcessStats.mib(peak))
        f.set("rss_end_mib", ProcessStats.mib(endRSS))
        f.goal("lost", lost == 0, "\(lost) acknowledged messages never delivered (goal 0)")
        f.goal("no failed sends", ledger.failedCount == 0 && hung == 0, "\(ledger.failedCount) failed, \(hung) hung")
        f.goal(
            "resident memory", ProcessStats.mib(endRSS - first) <= rssSlackMiB,
            String(format: "%.1f MiB after warm-up, peak %.1f, %.1f at the end (slack %.0f MiB)",
                ProcessStats.mib(first), ProcessStats.mib(peak), ProcessStats.mib(endRSS), rssSlackMiB))
        f.goal("clean shutdown", shutdownErrors.isEmpty, shutdownErrors.isEmpty ? "every client stopped without error" : shutdownErrors.joined(separator: "; "))
        return f
    }
}
