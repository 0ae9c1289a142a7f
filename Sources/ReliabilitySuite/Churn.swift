import ArgumentParser
import Foundation
@_spi(Diagnostics) import RocketMQ
import RocketMQMockBroker
import Synchronization

/// Watches which members own which queues; records every stretch of time a queue had two or more owners.
final class OwnershipMonitor: Sendable {
    struct Episode: Sendable {
        var queue: MessageQueue
        var owners: [String]
        var duration: Duration
    }

    private struct State {
        var members: [Member] = []
        var since: [MessageQueue: (start: ContinuousClock.Instant, owners: Set<String>)] = [:]
        var episodes: [Episode] = []
        var samples = 0
    }

    private let state = Mutex(State())
    let topic: String

    init(topic: String) { self.topic = topic }

    func add(_ m: Member) { state.withLock { $0.members.append(m) } }
    /// Removes a member (after its stop() returned: it owns nothing any more).
    func remove(_ m: Member) { state.withLock { $0.members.removeAll { $0 === m } } }
    var members: [Member] { state.withLock { $0.members } }

    /// One sample: overlaps that ended are closed into episodes.
    func sample() {
        let members = self.members
        var owners: [MessageQueue: Set<String>] = [:]
        for m in members { for q in m.owned(topic) { owners[q, default: []].insert(m.name) } }
        let now = ContinuousClock.now
        state.withLock { s in
            s.samples += 1
            for (q, set) in owners where set.count > 1 {
                if let open = s.since[q] {
                    s.since[q] = (open.start, open.owners.union(set))
                } else {
                    s.since[q] = (now, set)
                }
            }
            for (q, open) in s.since where (owners[q]?.count ?? 0) <= 1 {
                s.episodes.append(Episode(queue: q, owners: open.owners.sorted(), duration: now - open.start))
                s.since[q] = nil
            }
        }
    }

    /// Closes overlaps still open (they count in full).
    func finish() {
        let now = ContinuousClock.now
        state.withLock { s in
            for (q, open) in s.since { s.episodes.append(Episode(queue: q, owners: open.owners.sorted(), duration: now - open.start)) }
            s.since = [:]
        }
    }

    var episodes: [Episode] { state.withLock { $0.episodes } }
    var samples: Int { state.withLock { $0.samples } }
}

/// Scenario 4: members join and leave every few seconds under load.
struct Churn: Scenario {
    static let configuration = CommandConfiguration(
        commandName: "churn",
        abstract: "Members join and leave every few seconds under load; check double ownership, loss, duplicates.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Seconds of churn.")
    var seconds: Double = 60

    @Option(help: "Mean seconds between membership changes (each wait is drawn from 0.5x to 1.5x).")
    var every: Double = 3

    @Option(name: .customLong("min-members"), help: "Fewest members at any time.")
    var minMembers = 1

    @Option(name: .customLong("max-members"), help: "Most members at any time.")
    var maxMembers = 5

    @Option(help: "Messages per second offered.")
    var rate = 1000

    @Option(name: .customLong("sample-ms"), help: "Ownership sampling period in milliseconds.")
    var sampleMs = 10

    @Option(name: .customLong("catch-up"), help: "Seconds allowed for consumers to catch up at the end.")
    var catchUp: Double = 60

    func measure() async throws -> Figures {
        let topic = "ChurnTopic"
        let group = "ChurnGroup"
        let cluster = try await MockCluster.start(.init(brokers: 2, queues: 4))
        cluster.createTopic(topic, queues: 4)
        let client = ClientConfiguration(nameServer: cluster.nameServerAddress)
        let tally = Tally()
        let monitor = OwnershipMonitor(topic: topic)
        var everyone: [Member] = []
        var next = 1
        func join() throws -> Member {
            let m = try Member.start(name: "m\(next)", group: group, topic: topic, client: client, tally: tally)
            next += 1
            everyone.append(m)
            monitor.add(m)
            return m
        }
        for _ in 0..<max(minMembers, 2) { _ = try join() }
        guard await waitUntil(timeout: .seconds(30), { balanced(monitor.members, topic: topic, queues: 8) }) else {
            throw SuiteError("the group did not converge on 8 queues")
        }
        let sampler = Task {
            while !Task.isCancelled {
                monitor.sample()
                try? await Task.sleep(for: .milliseconds(sampleMs))
            }
        }
        let (producer, producerTask) = try runProducer(group: "ChurnProducer", client: client)
        let ledger = Ledger()
        let load = Load(producer: producer, topic: topic, rate: rate, ledger: ledger)
        let loadTask = Task { await load.run(drainTimeout: .seconds(10)) }
        say("producing \(rate) msg/s; churning members (\(minMembers)...\(maxMembers)) every ~\(every) s for \(seconds) s")

        var rng = SplitMix64(seed: common.seed)
        var joins = 0
        var leaves = 0
        var shutdownErrors: [String] = []
        let clock = ContinuousClock()
        let end = clock.now + Duration(seconds: seconds)
        while clock.now < end {
            await pause(Duration(seconds: every * Double.random(in: 0.5...1.5, using: &rng)))
            let current = monitor.members
            let joinNow = current.count <= minMembers || (current.count < maxMembers && Bool.random(using: &rng))
            if joinNow {
                let m = try join()
                joins += 1
                say("\(m.name) joins (\(current.count + 1) members)")
            } else {
                let m = current[Int.random(in: 0..<current.count, using: &rng)]
                say("\(m.name) leaves (\(current.count - 1) members)")
                do { try await m.stop() } catch { shutdownErrors.append("\(m.name): \(error)") }
                monitor.remove(m)
                leaves += 1
            }
        }
        let converged = await waitUntil(timeout: .seconds(30)) { balanced(monitor.members, topic: topic, queues: 8) }
        say(converged ? "churn over: \(monitor.members.count) members own the 8 queues exactly once" : "churn over: the group did NOT converge")
        sampler.cancel()
        _ = await sampler.value
        monitor.finish()

        load.stop()
        let hung = await loadTask.value
        say("load stopped: \(ledger.ackedCount) acked, \(ledger.failedCount) failed; waiting for the consumers to catch up")
        let caughtUp = await waitUntil(timeout: Duration(seconds: catchUp), interval: .milliseconds(100)) { tally.lost(of: ledger) == 0 }
        say(caughtUp ? "consumers caught up" : "consumers did NOT catch up within \(catchUp) s")

        let rounds = everyone.map(\.consumer.rebalanceRounds)
        let longestRound = rounds.map(\.longest).max() ?? .zero
        let roundCount = rounds.map(\.count).reduce(0, +)
        for m in monitor.members {
            do { try await m.stop() } catch { shutdownErrors.append("\(m.name): \(error)") }
        }
        producerTask.cancel()
        do { try await producerTask.value } catch { shutdownErrors.append("producer: \(error)") }
        await cluster.shutdown()

        let episodes = monitor.episodes.sorted { $0.duration > $1.duration }
        let longest = episodes.first?.duration ?? .zero
        let budget = longestRound + .milliseconds(2 * sampleMs)
        let lost = ledger.acked.subtractingCount(tally.received)
        var f = Figures("churn")
        f.set("joins", joins)
        f.set("leaves", leaves)
        f.set("members_total", everyone.count)
        f.set("samples", monitor.samples)
        f.set("sent", ledger.startedCount)
        f.set("acked", ledger.ackedCount)
        f.set("failed", ledger.failedCount)
        f.set("hung", hung)
        f.set("lost", lost)
        f.set("duplicates", tally.duplicates)
        f.set("overlap_episodes", episodes.count)
        f.set("overlap_max_ms", ms: longest)
        f.set("overlap_total_ms", ms: episodes.reduce(Duration.zero) { $0 + $1.duration })
        f.set("rebalance_rounds", roundCount)
        f.set("rebalance_round_max_ms", ms: longestRound)
        for e in episodes.prefix(3) {
            say(String(format: "overlap %.0f ms", e.duration.milliseconds) + " on \(e.queue.brokerName):\(e.queue.queueId) between \(e.owners.joined(separator: ","))")
        }
        f.goal(
            "single owner", longest <= budget,
            String(format: "longest double ownership %.0f ms; one rebalance round (the longest any member ran, plus sampling) %.0f ms",
                longest.milliseconds, budget.milliseconds))
        f.goal("lost", lost == 0, "\(lost) acknowledged messages never delivered (goal 0)")
        f.goal("converged", converged, converged ? "after the churn every queue has exactly one owner" : "the group did not converge")
        f.goal("no failed sends", ledger.failedCount == 0 && hung == 0, "\(ledger.failedCount) failed, \(hung) hung")
        f.goal("clean shutdown", shutdownErrors.isEmpty, shutdownErrors.isEmpty ? "every client stopped without error" : shutdownErrors.joined(separator: "; "))
        return f
    }
}
