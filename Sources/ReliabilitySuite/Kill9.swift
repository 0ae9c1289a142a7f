import ArgumentParser
import Foundation
@_spi(Diagnostics) import RocketMQ

/// Scenario 2: `kill -9` of the mock-broker executable (with a data directory) under load, then a restart on the same
/// ports. Nothing acknowledged may be lost; every send issued while it is down must fail visibly (never hang, never
/// succeed without being stored).
struct Kill9: Scenario {
    static let configuration = CommandConfiguration(
        commandName: "kill9",
        abstract: "SIGKILL the mock-broker process under load, restart it; count acknowledged-but-lost and failures.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Messages per second offered.")
    var rate = 2000

    @Option(help: "Consumer group members.")
    var members = 2

    @Option(help: "Seconds of load before the kill.")
    var warmup: Double = 10

    @Option(help: "Seconds the process stays dead.")
    var down: Double = 3

    @Option(help: "Seconds of load after the restart.")
    var after: Double = 10

    @Option(name: .customLong("catch-up"), help: "Seconds allowed for consumers to catch up at the end.")
    var catchUp: Double = 60

    @Option(name: .customLong("mock-broker"), help: "Path of the mock-broker executable (default: next to this one).")
    var mockBroker: String?

    func measure() async throws -> Figures {
        let topic = "Kill9Topic"
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("rmq-kill9-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dataDir) }
        let namesrvPort = try await BrokerProcess.freePorts(count: 1)
        let brokerPort = try await BrokerProcess.freePorts(count: 2)
        let executable = mockBroker.map { URL(fileURLWithPath: $0) } ?? BrokerProcess.defaultExecutable()
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("rmq-kill9-broker.log")
        try? FileManager.default.removeItem(at: logFile)
        let broker = BrokerProcess(
            executable: executable,
            arguments: [
                "--namesrv-port", String(namesrvPort), "--brokers", "2", "--broker-port", String(brokerPort),
                "--data-dir", dataDir.path, "--grace-period", "1", "--log-level", "warning",
            ],
            logFile: logFile)
        try await broker.start()
        say("mock-broker pid \(broker.process?.processIdentifier ?? 0): name server \(broker.nameServer), brokers \(broker.brokers.map { "\($0.name)@\($0.address)" }), data in \(dataDir.path)")
        let client = ClientConfiguration(nameServer: broker.nameServer)
        try await createTopic(topic, queues: 4, client: client)

        let tally = Tally()
        let members = try await Member.startGroup(members, group: "Kill9Group", topic: topic, queues: 8, client: client, tally: tally)
        let (producer, producerTask) = try runProducer(group: "Kill9Producer", client: client)
        let ledger = Ledger()
        let load = Load(producer: producer, topic: topic, rate: rate, ledger: ledger)
        let loadStart = ContinuousClock.now
        let loadTask = Task { await load.run(drainTimeout: .seconds(10)) }
        say("producing \(rate) msg/s; \(members.count) consumers")
        await pause(Duration(seconds: warmup))

        ledger.enter("down")
        let ackedBeforeKill = ledger.ackedCount
        await broker.kill9()
        let killedAt = ContinuousClock.now
        say("kill -9 (acked so far: \(ackedBeforeKill)); down for \(down) s")
        await pause(Duration(seconds: down))
        ledger.enter("recovery")
        let relaunch = ContinuousClock.now
        try await broker.start()
        let ready = ContinuousClock.now
        ledger.watchFirstAck("ready")
        tally.watchFirstReceipt("ready", minSeq: ledger.startedCount)
        say(String(format: "restarted: READY after %.0f ms (same ports, same data directory)", (ready - relaunch).milliseconds))
        let recovered = await waitUntil(timeout: .seconds(30)) { ledger.firstAck("ready") != nil }
        say(recovered ? String(format: "first acknowledged send %.0f ms after READY", (ledger.firstAck("ready") ?? .zero).milliseconds) : "no send succeeded within 30 s of READY")
        await pause(Duration(seconds: after))

        load.stop()
        let producing = ContinuousClock.now - loadStart
        let hung = await loadTask.value
        say("load stopped: \(ledger.ackedCount) acked, \(ledger.failedCount) failed; waiting for the consumers to catch up")
        let caughtUp = await waitUntil(timeout: Duration(seconds: catchUp), interval: .milliseconds(100)) { tally.lost(of: ledger) == 0 }
        say(caughtUp ? "consumers caught up" : "consumers did NOT catch up within \(catchUp) s")

        // What the broker really kept: a fresh group reads every queue from the first offset.
        let verify = Tally()
        let verifier = try Member.start(name: "verifier", group: "Kill9Verify", topic: topic, client: client, tally: verify)
        let verified = await waitUntil(timeout: Duration(seconds: catchUp), interval: .milliseconds(100)) { verify.lost(of: ledger) == 0 }
        say(verified ? "a fresh group read every acknowledged message from the restarted broker" : "the fresh group is missing messages")

        let consumerRecovery = tally.firstReceipt("ready")
        let stats = producer.statistics
        var shutdownErrors: [String] = []
        for m in members + [verifier] {
            do { try await m.stop() } catch { shutdownErrors.append("\(m.name): \(error)") }
        }
        producerTask.cancel()
        do { try await producerTask.value } catch { shutdownErrors.append("producer: \(error)") }
        let exitStatus = await broker.terminate()

        let acked = ledger.acked
        let ackedLost = acked.subtractingCount(verify.received)
        let groupLost = acked.subtractingCount(tally.received)
        let downFailures = ledger.failures(in: "down")
        let downSends = ledger.histogram("down").count
        var f = Figures("kill9")
        f.set("rate_target", rate)
        f.set("rate_achieved", Double(ledger.startedCount) / producing.seconds, digits: 0)
        f.set("sent", ledger.startedCount)
        f.set("acked", ledger.ackedCount)
        f.set("acked_before_kill", ackedBeforeKill)
        f.set("failed", ledger.failedCount)
        f.set("failure_kinds", ledger.failureKinds)
        f.set("sends_while_down", downSends)
        f.set("failed_while_down", downFailures)
        f.set("down_max_ms", ms: ledger.histogram("down").max)
        f.set("failed_after_ready", ledger.failures(in: "recovery"))
        f.set("hung", hung)
        f.set("acked_lost", ackedLost)
        f.set("group_lost", groupLost)
        f.set("duplicates", tally.duplicates)
        f.set("failed_but_stored", ledger.failedSet.intersectionCount(verify.received))
        f.set("down_ms", ms: relaunch - killedAt)
        f.set("ready_ms", ms: ready - relaunch)
        f.set("recovery_ms", ms: ledger.firstAck("ready"))
        f.set("consume_recovery_ms", ms: consumerRecovery)
        f.set("latency_max_ms", ms: ledger.all.max)
        f.set("reconnects", stats.reconnects)
        f.set("broker_exit", Int(exitStatus))

        f.goal("acknowledged-but-lost", ackedLost == 0, "\(ackedLost) acknowledged messages missing from the restarted broker (goal 0)")
        f.goal("group lost", groupLost == 0, "\(groupLost) acknowledged messages never delivered to the running group (goal 0)")
        let downMax = ledger.histogram("down").max ?? .zero
        f.goal(
            "failures reported", hung == 0 && downMax <= ledger.deadline,
            "every send while down threw or was acknowledged within its deadline: \(downFailures) threw, "
                + "\(downSends - downFailures) acknowledged after the restart, \(hung) hung, slowest "
                + String(format: "%.0f ms", downMax.milliseconds))
        f.goal("recovered", recovered, recovered ? "sends succeed again after the restart" : "no send succeeded after the restart")
        f.goal("clean shutdown", shutdownErrors.isEmpty, shutdownErrors.isEmpty ? "every client stopped without error" : shutdownErrors.joined(separator: "; "))
        return f
    }
}
