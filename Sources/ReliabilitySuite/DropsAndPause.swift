import ArgumentParser
import Foundation
@_spi(Diagnostics) import RocketMQ
import RocketMQMockBroker

/// Scenario 3: every client connection dropped every second, then one broker paused (requests read and never
/// answered). Deadlines must hold, pending requests must drain, nothing acknowledged may be lost.
struct DropsAndPause: Scenario {
    static let configuration = CommandConfiguration(
        commandName: "drops-and-pause",
        abstract: "Drop every connection every second, then pause a broker; check deadlines, pending requests, loss.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Messages per second offered.")
    var rate = 2000

    @Option(help: "Consumer group members.")
    var members = 2

    @Option(name: .customLong("drop-seconds"), help: "Seconds of dropping every connection.")
    var dropSeconds: Double = 30

    @Option(name: .customLong("drop-every"), help: "Seconds between drops.")
    var dropEvery: Double = 1

    @Option(name: .customLong("pause-seconds"), help: "Seconds one broker is paused.")
    var pauseSeconds: Double = 10

    @Option(help: "Seconds of normal load between and after the faults.")
    var settle: Double = 5

    @Option(help: "Slack over the 3 s send deadline before a send counts as late (seconds).")
    var slack: Double = 0.5

    @Option(name: .customLong("catch-up"), help: "Seconds allowed for consumers to catch up at the end.")
    var catchUp: Double = 60

    func measure() async throws -> Figures {
        let topic = "FaultTopic"
        let cluster = try await MockCluster.start(.init(brokers: 2, queues: 4))
        cluster.createTopic(topic, queues: 4)
        let client = ClientConfiguration(nameServer: cluster.nameServerAddress)
        let tally = Tally()
        let members = try await Member.startGroup(members, group: "FaultGroup", topic: topic, queues: 8, client: client, tally: tally)
        let (producer, producerTask) = try runProducer(group: "FaultProducer", client: client)
        let sendTimeout = producer.configuration.sendTimeout
        let ledger = Ledger(deadline: sendTimeout + Duration(seconds: slack))
        let load = Load(producer: producer, topic: topic, rate: rate, ledger: ledger)
        let loadTask = Task { await load.run(drainTimeout: sendTimeout + .seconds(5)) }
        say("producing \(rate) msg/s; \(members.count) consumers")
        await pause(Duration(seconds: settle))

        // Phase 1: drop every client connection (both brokers and the name server) every `dropEvery` seconds.
        // Members that only blinked should keep their queues (a move costs redeliveries): how many queue ownerships
        // changed over the drops is a figure (the fast test only asserts that the group converges again).
        let ownedBeforeDrops = members.map { Set($0.consumer.ownedQueues) }
        ledger.enter("drops")
        let clock = ContinuousClock()
        let dropsEnd = clock.now + Duration(seconds: dropSeconds)
        var drops = 0
        say("dropping every client connection every \(dropEvery) s for \(dropSeconds) s")
        while clock.now < dropsEnd {
            for b in cluster.brokers { b.dropConnections() }
            cluster.nameServer.dropConnections()
            drops += 1
            await pause(Duration(seconds: dropEvery))
        }
        ledger.enter("after-drops")
        let queuesMovedByDrops = zip(members, ownedBeforeDrops).reduce(0) { $0 + Set($1.0.consumer.ownedQueues).symmetricDifference($1.1).count } / 2
        say("drops over (\(drops) rounds): \(ledger.ackedCount) acked, \(ledger.failedCount) failed")
        await pause(Duration(seconds: settle))

        // Phase 2: pause one broker.
        let paused = cluster.brokers[0]
        ledger.enter("pause")
        say("\(paused.name) paused for \(pauseSeconds) s (reads requests, answers none)")
        paused.pause(true)
        await pause(Duration(seconds: pauseSeconds))
        paused.pause(false)
        ledger.enter("after-pause")
        say("\(paused.name) resumed")
        await pause(Duration(seconds: settle))

        load.stop()
        let hung = await loadTask.value
        let quiet = clock.now
        let producerDrained = await waitUntil(timeout: .seconds(5)) { producer.pendingRequestCount == 0 }
        let producerPending = producer.pendingRequestCount
        let producerDrainTime = clock.now - quiet
        say("load stopped: \(ledger.ackedCount) acked, \(ledger.failedCount) failed; producer pending requests \(producerPending)")
        let caughtUp = await waitUntil(timeout: Duration(seconds: catchUp), interval: .milliseconds(100)) { tally.lost(of: ledger) == 0 }
        say(caughtUp ? "consumers caught up" : "consumers did NOT catch up within \(catchUp) s")
        // Consumers keep one long-polling pull per owned queue; requests lost in the pause end at the pull timeout.
        let pullTimeout = members[0].consumer.configuration.pullTimeout
        let consumersQuiet = clock.now
        let consumersDrained = await waitUntil(timeout: pullTimeout + .seconds(5), interval: .milliseconds(100)) {
            members.allSatisfy { $0.consumer.pendingRequestCount <= $0.consumer.ownedQueues.count }
        }
        let consumerDrainTime = clock.now - consumersQuiet
        let consumerPending = members.map { "\($0.consumer.pendingRequestCount)/\($0.consumer.ownedQueues.count)" }.joined(separator: ",")

        var shutdownErrors: [String] = []
        for m in members {
            do { try await m.stop() } catch { shutdownErrors.append("\(m.name): \(error)") }
        }
        let pendingAfterStop = members.map(\.consumer.pendingRequestCount).reduce(0, +)
        producerTask.cancel()
        do { try await producerTask.value } catch { shutdownErrors.append("producer: \(error)") }
        await cluster.shutdown()

        let lost = ledger.acked.subtractingCount(tally.received)
        let maxLatency = ledger.all.max ?? .zero
        var f = Figures("drops-and-pause")
        f.set("rate_target", rate)
        f.set("drops", drops)
        f.set("sent", ledger.startedCount)
        f.set("acked", ledger.ackedCount)
        f.set("failed", ledger.failedCount)
        f.set("failure_kinds", ledger.failureKinds)
        f.set("failed_during_drops", ledger.failures(in: "drops"))
        f.set("failed_during_pause", ledger.failures(in: "pause"))
        f.set("failed_otherwise", ledger.failedCount - ledger.failures(in: "drops") - ledger.failures(in: "pause"))
        f.set("drops_p99_ms", ms: ledger.histogram("drops").quantile(0.99))
        f.set("drops_max_ms", ms: ledger.histogram("drops").max)
        f.set("pause_p99_ms", ms: ledger.histogram("pause").quantile(0.99))
        f.set("pause_max_ms", ms: ledger.histogram("pause").max)
        f.set("latency_max_ms", ms: maxLatency)
        f.set("late_sends", ledger.overDeadline)
        f.set("hung", hung)
        f.set("producer_pending_after", producerPending)
        f.set("producer_pending_zero_ms", ms: producerDrainTime)
        f.set("consumer_pending_per_owned", consumerPending)
        f.set("consumer_pending_settled_ms", ms: consumerDrainTime)
        f.set("pending_after_stop", pendingAfterStop)
        f.set("lost", lost)
        f.set("duplicates", tally.duplicates)
        f.set("failed_but_delivered", ledger.failedSet.intersectionCount(tally.received))
        f.set("reconnects", producer.statistics.reconnects)
        f.set("queues_moved_by_drops", queuesMovedByDrops)

        f.goal(
            "deadlines honoured", ledger.overDeadline == 0 && hung == 0,
            String(format: "slowest send %.0f ms against a %.0f ms deadline + %.0f ms slack; %d late, %d hung",
                maxLatency.milliseconds, sendTimeout.milliseconds, slack * 1000, ledger.overDeadline, hung))
        f.goal("producer pending back to 0", producerDrained, "\(producerPending) requests pending after the load stopped")
        f.goal(
            "consumer pending settled", consumersDrained && pendingAfterStop == 0,
            "pending/owned per consumer \(consumerPending) (at most one long poll per owned queue); \(pendingAfterStop) after stop")
        f.goal("lost", lost == 0, "\(lost) acknowledged messages never delivered (goal 0)")
        f.goal("clean shutdown", shutdownErrors.isEmpty, shutdownErrors.isEmpty ? "every client stopped without error" : shutdownErrors.joined(separator: "; "))
        return f
    }
}
