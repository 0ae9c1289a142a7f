import Foundation
import RocketMQ
import RocketMQTestSupport
import RocketMQWire
import Testing

/// The JSON objects a `--json` run printed (one per line, the RESULT line excluded).
private func jsonLines(_ run: CLIRun) throws -> [JSONValue] {
    try run.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }.map { try JSONParser.parse(Array($0.utf8)) }
}

@Suite("rocketmq operator commands against the mock-broker executable", .serialized, .heavy)
struct OperatorCLITests {
    @Test("message by key and by both ids, topic list and stats, group connections and lag; the indexes survive a restart")
    func operatorCommandsEndToEnd() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("ops-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dataDir) }
        let arguments = ["--namesrv-port", "0", "--broker-port", "0", "--brokers", "2", "--grace-period", "0.2", "--data-dir", dataDir.path]
        var mock = try await MockBrokerProcess.start(arguments: arguments)
        let ns = mock.namesrv

        let shared = try await CLI.run(["produce", "--namesrv", ns, "--topic", "Ops", "--count", "20", "--keys", "batch shared"] + patientSends)
        #expect(shared.result["ok"] == "20", "\(shared.stderr)")
        let single = try await CLI.run(["produce", "--namesrv", ns, "--topic", "Ops", "--count", "1", "--keys", "order-2"] + patientSends)
        #expect(single.result["ok"] == "1", "\(single.stderr)")

        // By key: one message, with both of its ids.
        let byKey = try await CLI.run(["message", "--namesrv", ns, "--topic", "Ops", "--key", "order-2", "--json"] + patient)
        #expect(byKey.status == 0 && byKey.result["found"] == "1", "\(byKey.stdout) \(byKey.stderr)")
        let found = try #require(try jsonLines(byKey).first)
        let msgId = try #require(found["msgId"]?.stringValue)
        let offsetMsgId = try #require(found["offsetMsgId"]?.stringValue)
        #expect(found["topic"]?.stringValue == "Ops")
        #expect(found["keys"]?.arrayValue?.contains(.string("order-2")) == true)
        #expect(found["bodySize"]?.scalarText == "128")
        let sharedKey = try await CLI.run(["message", "--namesrv", ns, "--topic", "Ops", "--key", "shared"] + patient)
        #expect(sharedKey.result["found"] == "20", "\(sharedKey.stdout) \(sharedKey.stderr)")
        let none = try await CLI.run(["message", "--namesrv", ns, "--topic", "Ops", "--key", "no-such-key"] + patient)
        #expect(none.status == 0 && none.result["found"] == "0", "\(none.stdout) \(none.stderr)")

        // By offset message id (VIEW_MESSAGE_BY_ID), and by message id (the unique-key index).
        let byOffsetId = try await CLI.run(["message", "--namesrv", ns, "--id", offsetMsgId, "--json"] + patient)
        #expect(byOffsetId.result["found"] == "1", "\(byOffsetId.stdout) \(byOffsetId.stderr)")
        #expect(try jsonLines(byOffsetId).first?["msgId"]?.stringValue == msgId)
        let byMsgId = try await CLI.run(["message", "--namesrv", ns, "--topic", "Ops", "--id", msgId, "--json"] + patient)
        #expect(byMsgId.result["found"] == "1", "\(byMsgId.stdout) \(byMsgId.stderr)")
        #expect(try jsonLines(byMsgId).first?["offsetMsgId"]?.stringValue == offsetMsgId)

        // Topics.
        let list = try await CLI.run(["topic", "list", "--namesrv", ns] + patient)
        #expect(list.status == 0 && list.stdout.split(separator: "\n").contains("Ops"), "\(list.stdout) \(list.stderr)")
        let stats = try await CLI.run(["topic", "stats", "--namesrv", ns, "--topic", "Ops", "--json"] + patient)
        #expect(stats.result["messages"] == "21", "\(stats.stdout) \(stats.stderr)")
        #expect(try jsonLines(stats).allSatisfy { $0["lastUpdateTimestamp"] != nil && $0["maxOffset"] != nil })

        // A live consumer: its connection, then (once it has consumed and committed) the group's lag.
        let consumerArguments =
            ["consume", "--namesrv", ns, "--topic", "Ops", "--group", "OpsReaders", "--from", "first", "--expect", "26", "--timeout", "100"]
            + patient
        async let consumer = CLI.run(consumerArguments)
        try await eventually(timeout: .seconds(60), "the consumer is listed") {
            let c = try await CLI.run(["group", "connections", "--namesrv", ns, "--group", "OpsReaders", "--json"] + patient)
            guard c.result["connections"] == "1", let client = try jsonLines(c).first else { return false }
            return client["language"]?.stringValue == "JAVA" && client["subscriptions"]?["Ops"]?.stringValue == "*"
        }
        let more = try await CLI.run(["produce", "--namesrv", ns, "--topic", "Ops", "--count", "5"] + patientSends)
        #expect(more.result["ok"] == "5", "\(more.stderr)")
        let consumed = try await consumer
        #expect(consumed.result["unique"] == "26", "\(consumed.stdout) \(consumed.stderr)")
        let caughtUp = try await CLI.run(["lag", "--namesrv", ns, "--group", "OpsReaders", "--topic", "Ops"] + patient)
        #expect(caughtUp.status == 0 && caughtUp.result["lag"] == "0", "\(caughtUp.stdout) \(caughtUp.stderr)")
        let behind = try await CLI.run(["produce", "--namesrv", ns, "--topic", "Ops", "--count", "7"] + patientSends)
        #expect(behind.result["ok"] == "7", "\(behind.stderr)")
        let lag = try await CLI.run(["lag", "--namesrv", ns, "--group", "OpsReaders", "--topic", "Ops", "--json"] + patient)
        #expect(lag.result["lag"] == "7", "\(lag.stdout) \(lag.stderr)")
        #expect(try jsonLines(lag).reduce(Int64(0)) { $0 + ($1["lag"]?.int64Value ?? 0) } == 7)

        // Both indexes survive a restart on the same data directory.
        #expect(await mock.terminate() == 0)
        mock = try await MockBrokerProcess.start(arguments: arguments)
        let restartedNS = mock.namesrv
        let afterRestart = try await CLI.run(["message", "--namesrv", restartedNS, "--topic", "Ops", "--key", "order-2", "--json"] + patient)
        #expect(try jsonLines(afterRestart).first?["msgId"]?.stringValue == msgId, "\(afterRestart.stdout) \(afterRestart.stderr)")
        let byMsgIdAgain = try await CLI.run(["message", "--namesrv", restartedNS, "--topic", "Ops", "--id", msgId] + patient)
        #expect(byMsgIdAgain.result["found"] == "1", "\(byMsgIdAgain.stdout) \(byMsgIdAgain.stderr)")
        #expect(await mock.terminate() == 0)
    }

    @Test("bad input: a clear one-line error and a non-zero exit, never a crash")
    func badInput() async throws {
        let mock = try await MockBrokerProcess.start(arguments: ["--namesrv-port", "0", "--broker-port", "0", "--grace-period", "0.2"])
        let ns = mock.namesrv
        let produced = try await CLI.run(["produce", "--namesrv", ns, "--topic", "OpsBad", "--count", "1"] + patientSends)
        #expect(produced.result["ok"] == "1", "\(produced.stderr)")
        let cases: [([String], String)] = [
            (["message", "--namesrv", ns, "--id", "not-hex!"], "--id"),
            (["message", "--namesrv", ns, "--id", "0123"], "not an offset message id"),
            (["message", "--namesrv", ns, "--key", "k"], "--topic"),
            (["message", "--namesrv", ns, "--topic", "NoSuchTopicHere", "--key", "k"], "NoSuchTopicHere"),
            (["lag", "--namesrv", ns, "--group", "NoSuchGroup"], "not online"),
            (["group", "connections", "--namesrv", ns, "--group", "NoSuchGroup"], "not online"),
            (["topic", "stats", "--namesrv", ns, "--topic", "NoSuchTopicHere"], "NoSuchTopicHere"),
        ]
        for (arguments, expected) in cases {
            let run = try await CLI.run(arguments + patient)
            #expect(run.status != 0, "\(arguments): \(run.stdout)")
            #expect(run.errorLines.count == 1 && run.stderr.contains(expected), "\(arguments): \(run.stderr)")
            #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Stack dump"), "\(arguments): \(run.stderr)")
        }
        #expect(await mock.terminate() == 0)
    }

    @Test("trace: the Pub, SubBefore and SubAfter records a traced producer and consumer wrote, found by message id")
    func traceByMessageID() async throws {
        let mock = try await MockBrokerProcess.start(arguments: ["--namesrv-port", "0", "--broker-port", "0", "--grace-period", "0.2"])
        let ns = mock.namesrv
        let traced = try await CLI.run(
            ["produce", "--namesrv", ns, "--topic", "OpsTraced", "--count", "2", "--keys", "traced", "--message-trace", "RMQ_SYS_TRACE_TOPIC"]
                + patientSends)
        #expect(traced.result["ok"] == "2", "\(traced.stderr)")
        let consumed = try await CLI.run(
            ["consume", "--namesrv", ns, "--topic", "OpsTraced", "--group", "TracedReaders", "--from", "first", "--expect", "2",
             "--timeout", "100", "--message-trace", "RMQ_SYS_TRACE_TOPIC"] + patient)
        #expect(consumed.result["unique"] == "2", "\(consumed.stdout) \(consumed.stderr)")
        let found = try await CLI.run(["message", "--namesrv", ns, "--topic", "OpsTraced", "--key", "traced", "--json"] + patient)
        let ids = try jsonLines(found).compactMap { $0["msgId"]?.stringValue }
        #expect(ids.count == 2, "\(found.stdout)")
        for id in ids {
            // Both processes flushed their records before exiting; the wait only covers the broker's index.
            try await eventually(timeout: .seconds(60), "the trace of \(id)") {
                let trace = try await CLI.run(["trace", "--namesrv", ns, "--id", id] + patient)
                return trace.result["pub"] == "1" && trace.result["sub_before"] == "1" && trace.result["sub_after"] == "1"
            }
            let json = try await CLI.run(["trace", "--namesrv", ns, "--id", id, "--json"] + patient)
            let records = try jsonLines(json)
            #expect(records.contains { $0["type"]?.stringValue == "Pub" && $0["topic"]?.stringValue == "OpsTraced" && $0["keys"]?.stringValue == "traced" })
            #expect(records.contains { $0["type"]?.stringValue == "SubAfter" && $0["groupName"]?.stringValue == "TracedReaders" && $0["success"] == .bool(true) })
        }
        let unknown = try await CLI.run(["trace", "--namesrv", ns, "--id", "00000000000000000000000000000000"] + patient)
        #expect(unknown.status == 0 && unknown.result["records"] == "0", "\(unknown.stdout) \(unknown.stderr)")
        let noTopic = try await CLI.run(["trace", "--namesrv", ns, "--id", "AB", "--trace-topic", "NoSuchTraceTopic"] + patient)
        #expect(noTopic.status != 0 && noTopic.errorLines.count == 1 && noTopic.stderr.contains("NoSuchTraceTopic"), "\(noTopic.stderr)")
        #expect(await mock.terminate() == 0)
    }
}
