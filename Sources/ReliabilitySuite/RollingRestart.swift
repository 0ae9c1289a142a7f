import ArgumentParser
import Foundation
@_spi(Diagnostics) import RocketMQ
import RocketMQMockBroker

/// Scenario 1: two brokers drained with GO_AWAY and restarted in turn under continuous load and a 3-member group.
struct RollingRestart: Scenario {
    static let configuration = CommandConfiguration(
        commandName: "rolling-restart",
        abstract: "Drain (GO_AWAY) and restart each of 2 brokers in turn under load; count failed, lost, duplicated.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Messages per second offered.")
    var rate = 5000

    @Option(help: "Consumer group members.")
    var members = 3

    @Option(help: "Seconds of load before the first drain.")
    var warmup: Double = 10

    @Option(help: "Seconds each broker answers GO_AWAY before it closes.")
    var grace: Double = 5

    @Option(help: "Seconds each broker stays down before it restarts.")
    var down: Double = 1

    @Option(help: "Seconds of load after each restart.")
    var settle: Double = 10

    @Option(name: .customLong("catch-up"), help: "Seconds allowed for consumers to catch up at the end.")
    var catchUp: Double = 60

    func measure() async throws -> Figures {
        let topic = "RollingTopic"
        let group = "RollingGroup"
        let cluster = try await MockCluster.start(.init(brokers: 2, queues: 4))
        cluster.createTopic(topic, queues: 4)
        let client = ClientConfiguration(nameServer: cluster.nameServerAddress)
        say("cluster up: name server \(cluster.nameServerAddress), brokers \(cluster.brokers.map { "\($0.name)@\($0.address)" })")

        let tally = Tally()
        let members = try await Member.startGroup(members, group: group, topic: topic, queues: 8, client: client, tally: tally)
        say("\(members.count) consumers share the 8 queues")

        let (producer, producerTask) = try runProducer(group: "RollingProducer", client: client)
        let ledger = Ledger()
        let load = Load(producer: producer, topic: topic, rate: rate, ledger: ledger)
        let loadStart = ContinuousClock.now
        let loadTask = Task { await load.run(drainTimeout: .seconds(10)) }
        say("producing \(rate) msg/s")
        await pause(Duration(seconds: warmup))

        var reown: [String: Duration?] = [:]
        for broker in cluster.brokers {
            ledger.enter("drain-\(broker.name)")
            say("\(broker.name): drain — leaves the routes, answers GO_AWAY for \(grace) s, then closes (acked so far: \(ledger.ackedCount), failed: \(ledger.failedCount))")
            await broker.drain(grace: Duration(seconds: grace))
            ledger.enter("down-\(broker.name)")
            say("\(broker.name): down")
            await pause(Duration(seconds: down))
            try await broker.restart()
            let restarted = ContinuousClock.now
            ledger.enter("restart-\(broker.name)")
            say("\(broker.name): restarted on the same port")
            let back = await waitUntil(timeout: Duration(seconds: max(settle, 15))) {
                let owners = ownership(members, topic: topic).filter { $0.key.brokerName == broker.name }
                return owners.count == 4 && owners.values.allSatisfy { $0 == 1 }
            }
            let took = ContinuousClock.now - restarted
            reown[broker.name] = back ? took : nil
            say("\(broker.name): its 4 queues are owned again " + (back ? String(format: "after %.0f ms", took.milliseconds) : "— NOT within the wait"))
            ledger.enter("steady")
            await pause(Duration(seconds: settle))
        }

        load.stop()
        let producing = ContinuousClock.now - loadStart
        let hung = await loadTask.value
        say("load stopped: \(ledger.ackedCount) acked, \(ledger.failedCount) failed; waiting for the consumers to catch up")
        let caughtUp = await waitUntil(timeout: Duration(seconds: catchUp), interval: .milliseconds(100)) { tally.lost(of: ledger) == 0 }
        say(caughtUp ? "consumers caught up" : "consumers did NOT catch up within \(catchUp) s")

        let stats = producer.statistics
        let goAways = members.reduce(stats.goAways) { $0 + $1.consumer.connectionStatistics.goAways }
        let reconnects = members.reduce(stats.reconnects) { $0 + $1.consumer.connectionStatistics.reconnects }
        var shutdownErrors: [String] = []
        for m in members {
            do { try await m.stop() } catch { shutdownErrors.append("\(m.name): \(error)") }
        }
        producerTask.cancel()
        do { try await producerTask.value } catch { shutdownErrors.append("producer: \(error)") }
        await cluster.shutdown()

        let acked = ledger.acked
        let received = tally.received
        let lost = acked.subtractingCount(received)
        var f = Figures("rolling-restart")
        f.set("rate_target", rate)
        f.set("rate_achieved", Double(ledger.startedCount) / producing.seconds, digits: 0)
        f.set("sent", ledger.startedCount)
        f.set("acked", ledger.ackedCount)
        f.set("failed", ledger.failedCount)
        f.set("failure_kinds", ledger.failureKinds)
        f.set("hung", hung)
        f.set("lost", lost)
        f.set("duplicates", tally.duplicates)
        f.set("failed_but_delivered", ledger.failedSet.intersectionCount(received))
        for broker in cluster.brokers {
            let drain = ledger.histogram("drain-\(broker.name)")
            f.set("drain_\(broker.name)_sends", drain.count)
            f.set("drain_\(broker.name)_p99_ms", ms: drain.quantile(0.99))
            f.set("drain_\(broker.name)_max_ms", ms: drain.max)
            f.set("down_\(broker.name)_max_ms", ms: ledger.histogram("down-\(broker.name)").max)
            f.set("reown_\(broker.name)_ms", ms: reown[broker.name] ?? nil)
        }
        let all = ledger.all
        f.set("latency_p50_ms", ms: all.quantile(0.5))
        f.set("latency_p99_ms", ms: all.quantile(0.99))
        f.set("latency_max_ms", ms: all.max)
        f.set("send_retries", stats.retries)
        f.set("goaways_handled", goAways)
        f.set("reconnects", reconnects)

        let achieved = Double(ledger.startedCount) / producing.seconds
        f.goal(
            "offered load", achieved >= Double(rate) * 0.95,
            String(format: "%.0f msg/s offered against a target of %d (the scenario is about draining under this load)", achieved, rate))
        f.goal("failed sends", ledger.failedCount == 0, "\(ledger.failedCount) failed (goal 0)" + Self.firstErrors(ledger))
        f.goal("lost", lost == 0, "\(lost) acknowledged messages never delivered (goal 0)")
        f.goal("no hung send", hung == 0, "\(hung) sends never returned")
        let missingReown = cluster.brokers.filter { (reown[$0.name] ?? nil) == nil }.map(\.name)
        f.goal("queues re-owned", missingReown.isEmpty, missingReown.isEmpty ? "every restarted broker's queues owned again" : "not re-owned: \(missingReown)")
        f.goal("clean shutdown", shutdownErrors.isEmpty, shutdownErrors.isEmpty ? "every client stopped without error" : shutdownErrors.joined(separator: "; "))
        return f
    }

    static func firstErrors(_ ledger: Ledger) -> String {
        let errors = ledger.firstErrors
        return errors.isEmpty ? "" : "; first: " + errors.joined(separator: " | ")
    }
}
