import Foundation
import NIOPosix
import RocketMQMockBroker
import RocketMQTestSupport
import Testing

/// The outcome of one run of the `rocketmq` executable.
struct CLIRun: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String

    /// The `key=value` pairs of the last `RESULT` line on stdout.
    var result: [String: String] {
        guard let line = stdout.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }) else { return [:] }
        return Dictionary(
            line.split(separator: " ").dropFirst().compactMap { part -> (String, String)? in
                let kv = part.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
            }, uniquingKeysWith: { _, last in last })
    }

    /// Non-empty stderr lines.
    var errorLines: [Substring] { stderr.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) } }

    /// The lines of stdout starting with `prefix`.
    func lines(_ prefix: String) -> [Substring] { stdout.split(separator: "\n").filter { $0.hasPrefix(prefix) } }
}

/// Runs the built `rocketmq` executable as a subprocess.
enum CLI {
    struct TimedOut: Error, CustomStringConvertible {
        var description: String
    }

    static var executable: URL { builtExecutable("rocketmq", override: "ROCKETMQ_CLI_PATH") }

    /// Runs `rocketmq arguments...`, killing it after `timeout`.
    static func run(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> CLIRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let killer = Task {
            try await Task.sleep(for: timeout)
            process.terminate()
        }
        // Read both pipes to the end on their own threads (a full pipe would block the child), then reap it.
        async let stdout = readToEnd(out.fileHandleForReading)
        async let stderr = readToEnd(err.fileHandleForReading)
        let (o, e) = await (stdout, stderr)
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                process.waitUntilExit()
                c.resume()
            }
        }
        killer.cancel()
        if process.terminationReason == .uncaughtSignal {
            throw TimedOut(description: "rocketmq \(arguments.joined(separator: " ")) killed (timeout?); stderr: \(e)")
        }
        return CLIRun(status: process.terminationStatus, stdout: o, stderr: e)
    }

    private static func readToEnd(_ handle: FileHandle) async -> String {
        await withCheckedContinuation { (c: CheckedContinuation<String, Never>) in
            DispatchQueue.global().async {
                c.resume(returning: String(decoding: handle.readDataToEndOfFile(), as: UTF8.self))
            }
        }
    }
}

/// Deadlines for the CLI's requests and sends in these tests: they check what the commands print and do, not how
/// fast (the defaults, Java's 3 s, are passed on a quiet machine in milliseconds, but not always on a loaded one).
let patient = ["--request-timeout", "60"]
let patientSends = ["--request-timeout", "60", "--send-timeout", "60"]

/// Starts a mock cluster for one test and always shuts it down. The cluster gets an event loop of its own: on the
/// shared one its answers to the CLI would wait behind the work of every other test running at the same time.
func withCLICluster<T>(
    brokers: Int = 2, queues: Int32 = 4, configure: (inout MockBrokerConfiguration) -> Void = { _ in },
    _ body: (MockCluster, String) async throws -> T
) async throws -> T {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let cluster: MockCluster
    do {
        var config = MockCluster.Configuration(brokers: brokers, queues: queues)
        config.forEachBroker(configure)
        cluster = try await MockCluster.start(config, eventLoopGroup: group)
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
    do {
        let result = try await body(cluster, cluster.nameServerAddress)
        await cluster.shutdown()
        try? await group.shutdownGracefully()
        return result
    } catch {
        await cluster.shutdown()
        try? await group.shutdownGracefully()
        throw error
    }
}

@Suite("rocketmq CLI (subprocess against an in-process mock cluster)", .serialized, .heavy)
struct CLITests {
    @Test func produceThenConsumeEveryMessage() async throws {
        try await withCLICluster { cluster, ns in
            cluster.createTopic("CliTopic", queues: 4)
            let produced = try await CLI.run(["produce", "--namesrv", ns, "--topic", "CliTopic", "--count", "200", "--tag", "TagA"] + patientSends)
            #expect(produced.status == 0, "\(produced.stderr)")
            #expect(produced.result["sent"] == "200")
            #expect(produced.result["ok"] == "200")
            #expect(produced.result["failed"] == "0")
            #expect(cluster.brokers.map { $0.storedRecords(topic: "CliTopic").count }.reduce(0, +) == 200)

            let consumed = try await CLI.run([
                "consume", "--namesrv", ns, "--topic", "CliTopic", "--group", "CliGroup", "--from", "first",
                "--expect", "200", "--timeout", "100",
            ] + patient)
            #expect(consumed.status == 0, "\(consumed.stderr)")
            #expect(consumed.result["unique"] == "200")
            #expect(Int(consumed.result["received"] ?? "") ?? 0 >= 200)
            // Two brokers with four queues each, all owned by the only member.
            #expect(consumed.result["queues"]?.split(separator: ",").count == 8)
        }
    }

    @Test func routePrintsTheTopicRoute() async throws {
        try await withCLICluster { cluster, ns in
            cluster.createTopic("RoutedTopic", queues: 3)
            let found = try await CLI.run(["route", "--namesrv", ns, "--topic", "RoutedTopic"] + patient)
            #expect(found.status == 0, "\(found.stderr)")
            #expect(found.result["found"] == "true")
            #expect(found.stdout.contains("\"brokerName\":\"broker-a\""))
            #expect(found.stdout.contains("\"brokerName\":\"broker-b\""))
            #expect(found.stdout.contains("\"readQueueNums\":3"))

            let missing = try await CLI.run(["route", "--namesrv", ns, "--topic", "NoSuchTopic"] + patient)
            #expect(missing.status == 1)
            #expect(missing.result["found"] == "false")
        }
    }

    @Test func offsetsShowMinMaxAndCommitted() async throws {
        try await withCLICluster { cluster, ns in
            cluster.createTopic("OffsetTopic", queues: 2)
            let produced = try await CLI.run(["produce", "--namesrv", ns, "--topic", "OffsetTopic", "--count", "40"] + patientSends)
            #expect(produced.status == 0, "\(produced.stderr)")

            let before = try await CLI.run(["offsets", "--namesrv", ns, "--topic", "OffsetTopic"] + patient)
            #expect(before.status == 0, "\(before.stderr)")
            #expect(before.result["queues"] == "4")
            #expect(before.result["messages"] == "40")
            let queueLines = before.lines("QUEUE ")
            #expect(queueLines.count == 4)
            for broker in cluster.brokers {
                for queue in Int32(0)..<2 {
                    let max = broker.maxOffset(topic: "OffsetTopic", queueId: queue)
                    #expect(queueLines.contains("QUEUE broker=\(broker.name) queue=\(queue) min=0 max=\(max)"))
                }
            }

            // With its logs (rebalances, connections) on stderr, so that a failure says what the consumer did; and
            // given longer than its own --timeout (plus its request timeout at start and shutdown), so that it ends
            // with its own verdict rather than being killed.
            let consumed = try await CLI.run([
                "consume", "--namesrv", ns, "--topic", "OffsetTopic", "--group", "OffsetGroup", "--from", "first",
                "--expect", "40", "--timeout", "100", "--log-level", "info",
            ] + patient, timeout: .seconds(400))
            #expect(consumed.status == 0, "\(consumed.stderr)")
            // The consumer commits on shutdown: the group is caught up.
            let after = try await CLI.run(["offsets", "--namesrv", ns, "--topic", "OffsetTopic", "--group", "OffsetGroup"] + patient)
            #expect(after.status == 0, "\(after.stderr)")
            #expect(after.result["committed"] == "4")
            #expect(after.result["lag"] == "0")
            for line in after.lines("QUEUE ") {
                let fields = Dictionary(uniqueKeysWithValues: line.split(separator: " ").dropFirst().compactMap { part -> (String, String)? in
                    let kv = part.split(separator: "=", maxSplits: 1)
                    return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
                })
                #expect(fields["committed"] == fields["max"], "\(line)")
            }

            let unknown = try await CLI.run(["offsets", "--namesrv", ns, "--topic", "NoSuchTopic"] + patient)
            #expect(unknown.status != 0)
            #expect(unknown.errorLines.count == 1)
            #expect(unknown.stderr.contains("topic not found"))
        }
    }

    @Test func topicCreateOnEveryBrokerOrOnlyTheNamedOne() async throws {
        try await withCLICluster { cluster, ns in
            let all = try await CLI.run(["topic", "create", "--namesrv", ns, "--topic", "MadeByCLI", "--queues", "3"] + patient)
            #expect(all.status == 0, "\(all.stderr)")
            #expect(all.result["created"] == "true")
            #expect(all.result["brokers"] == "broker-a,broker-b")
            let route = try #require(cluster.nameServer.route(for: "MadeByCLI"))
            #expect(Set(route.queueDatas.map(\.brokerName)) == ["broker-a", "broker-b"])
            #expect(route.queueDatas.allSatisfy { $0.readQueueNums == 3 && $0.writeQueueNums == 3 })

            let one = try await CLI.run(["topic", "create", "--namesrv", ns, "--topic", "OnlyOnA", "--broker", "broker-a"] + patient)
            #expect(one.status == 0, "\(one.stderr)")
            #expect(one.result["brokers"] == "broker-a")
            #expect(cluster.broker(named: "broker-a")?.topics.contains { $0.name == "OnlyOnA" } == true)
            #expect(cluster.broker(named: "broker-b")?.topics.contains { $0.name == "OnlyOnA" } == false)

            let nobody = try await CLI.run(["topic", "create", "--namesrv", ns, "--topic", "X", "--broker", "broker-zz"] + patient)
            #expect(nobody.status != 0)
            #expect(nobody.errorLines.count == 1)
            #expect(nobody.stderr.hasPrefix("rocketmq: "))
        }
    }

    @Test(arguments: [
        ["produce", "--topic", "T", "--count", "3"],
        ["consume", "--topic", "T", "--group", "G", "--expect", "1", "--timeout", "30"],
        ["route", "--topic", "T"],
        ["offsets", "--topic", "T"],
        ["topic", "create", "--topic", "T"],
        ["bench", "produce", "--topic", "T", "--duration", "1"],
        ["bench", "consume", "--topic", "T", "--duration", "1"],
    ])
    func unreachableNameServerIsOneLineAndNonZero(_ arguments: [String]) async throws {
        // Port 1 on loopback: nothing listens there, so the connect is refused at once.
        let run = try await CLI.run(arguments + ["--namesrv", "127.0.0.1:1"], timeout: .seconds(60))
        #expect(run.status != 0)
        #expect(run.errorLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("rocketmq: cannot reach 127.0.0.1:1"), "\(run.stderr)")
        #expect(!run.stderr.contains("Fatal error"))
    }

    @Test(arguments: [
        (["produce", "--topic", "T"], "--namesrv"),
        (["produce", "--namesrv", "localhost", "--topic", "T"], "is not host:port"),
        (["produce", "--namesrv", "127.0.0.1:70000", "--topic", "T"], "is not host:port"),
        (["produce", "--namesrv", "127.0.0.1:9876", "--topic", "T", "--count", "many"], "--count"),
        (["offsets", "--namesrv", "127.0.0.1:9876"], "--topic"),
        (["topic", "create", "--namesrv", "127.0.0.1:9876", "--topic", "T", "--queues", "0"], "--queues"),
        (["bench", "produce"], "--namesrv or --embedded"),
        (["bench", "produce", "--embedded", "--mode", "fast"], "--mode"),
        (["bench", "echo", "--size", "0"], "--size"),
        (["route", "--namesrv", "127.0.0.1:9876", "--topic", "T", "--request-timeout", "0"], "--request-timeout"),
        (["produce", "--namesrv", "127.0.0.1:9876", "--topic", "T", "--send-timeout", "0"], "--send-timeout"),
        (["bench", "produce", "--embedded", "--send-timeout", "0"], "--send-timeout"),
        (["frobnicate"], "frobnicate"),
    ])
    func badArgumentsAreOneLineAndNonZero(_ arguments: [String], _ mentions: String) async throws {
        let run = try await CLI.run(arguments, timeout: .seconds(30))
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.errorLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("rocketmq: "))
        #expect(run.stderr.contains(mentions), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func benchProduceEmbeddedReportsThroughputLatencyAndMemory() async throws {
        let run = try await CLI.run([
            "bench", "produce", "--embedded", "--count", "2000", "--warmup", "0", "--in-flight", "100", "--report-interval", "0.2",
        ] + patientSends)
        #expect(run.status == 0, "\(run.stderr)")
        let r = run.result
        #expect(r["command"] == "produce")
        #expect(r["ok"] == "2000")
        #expect(r["errors"] == "0")
        #expect(r["embedded"] == "true")
        #expect((Double(r["msgs_per_s"] ?? "") ?? 0) > 0)
        let p50 = try #require(Double(r["p50_ms"] ?? ""))
        let p99 = try #require(Double(r["p99_ms"] ?? ""))
        let p999 = try #require(Double(r["p999_ms"] ?? ""))
        #expect(p50 > 0 && p50 <= p99 && p99 <= p999)
        #expect((Double(r["peak_rss_mb"] ?? "") ?? 0) > 1)
    }

    @Test func benchProduceSyncAgainstARunningCluster() async throws {
        try await withCLICluster { cluster, ns in
            cluster.createTopic("BenchSync", queues: 2)
            let run = try await CLI.run([
                "bench", "produce", "--namesrv", ns, "--topic", "BenchSync", "--mode", "sync", "--count", "300", "--warmup", "0",
            ] + patientSends)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.result["mode"] == "sync")
            #expect(run.result["in_flight"] == "1")
            #expect(run.result["ok"] == "300")
            // The checked first send plus the measured ones.
            #expect(cluster.brokers.map { $0.storedRecords(topic: "BenchSync").count }.reduce(0, +) == 301)
        }
    }

    @Test func benchConsumeEmbeddedDrainsThePrefill() async throws {
        let run = try await CLI.run(["bench", "consume", "--embedded", "--prefill", "3000", "--batch", "32", "--timeout", "100"] + patient)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.result["command"] == "consume")
        #expect(run.result["expected"] == "3000")
        #expect(Int(run.result["received"] ?? "") ?? 0 >= 3000)
        #expect((Double(run.result["msgs_per_s"] ?? "") ?? 0) > 0)
        #expect(run.result["first_message_ms"] != "-")
    }

    @Test(arguments: ["pop", "simple"])
    func benchConsumeDrainsWithPop(_ mode: String) async throws {
        let run = try await CLI.run(
            ["bench", "consume", "--embedded", "--prefill", "2000", "--mode", mode, "--consumers", "3", "--timeout", "100"] + patient)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.result["mode"] == mode && run.result["consumers"] == "3")
        #expect(Int(run.result["received"] ?? "") ?? 0 >= 2000, "\(run.stdout)")
    }

    @Test func benchEchoReportsTheRatios() async throws {
        // A measurement window long enough that a loaded machine still completes requests in it (the rates must be > 0).
        let run = try await CLI.run([
            "bench", "echo", "--duration", "1", "--warmup", "0.1", "--rounds", "1", "--in-flight", "50",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let r = run.result
        let echo = try #require(Double(r["echo_msgs_per_s"] ?? ""))
        let sdk = try #require(Double(r["sdk_msgs_per_s"] ?? ""))
        let ratio = try #require(Double(r["sdk_echo_ratio"] ?? ""))
        #expect(echo > 0 && sdk > 0)
        #expect(abs(ratio - sdk / echo) < 0.01)
        #expect(Int(r["frame_bytes"] ?? "") ?? 0 > 128)
    }

    @Test("produce --transaction: commit and rollback; unknown ones answered by a second process checking back")
    func produceTransactions() async throws {
        try await withCLICluster(configure: {
            $0.transactionTimeout = .milliseconds(300)
            $0.transactionCheckInterval = .milliseconds(100)
        }) { cluster, ns in
            cluster.createTopic("CliTx", queues: 4)
            let base = ["--namesrv", ns, "--topic", "CliTx", "--group", "CliTxGroup"] + patientSends
            let commit = try await CLI.run(["produce", "--count", "5", "--transaction", "commit"] + base)
            #expect(commit.status == 0, "\(commit.stderr)")
            #expect(commit.result["committed"] == "5" && commit.result["rolled_back"] == "0" && commit.result["unknown"] == "0")
            let rollback = try await CLI.run(["produce", "--count", "3", "--transaction", "rollback"] + base)
            #expect(rollback.result["rolled_back"] == "3", "\(rollback.stdout)")
            // Unknown, and the process leaves without answering any check.
            let unknown = try await CLI.run(["produce", "--count", "4", "--transaction", "unknown"] + base)
            #expect(unknown.result["unknown"] == "4" && unknown.result["checks_answered"] == "0", "\(unknown.stdout)")
            // Another member of the group answers the brokers' checks: commit.
            let checker = try await CLI.run(
                ["produce", "--count", "0", "--transaction", "commit", "--check-answer", "commit", "--linger", "100",
                 "--expect-checks", "4"] + base)
            #expect(checker.status == 0, "\(checker.stderr)")
            #expect(Int(checker.result["checks_answered"] ?? "") ?? 0 >= 4, "\(checker.stdout)")
            // Exactly the 5 committed and the 4 committed by the check, once each.
            let consume = try await CLI.run(
                ["consume", "--namesrv", ns, "--topic", "CliTx", "--group", "CliTxReader", "--from", "first", "--expect", "9",
                 "--timeout", "100"] + patient)
            #expect(consume.status == 0, "\(consume.stderr)")
            #expect(consume.result["unique"] == "9" && consume.result["duplicates"] == "0", "\(consume.stdout)")
        }
    }

    @Test("request and reply: every request answered by the replier process")
    func requestAndReply() async throws {
        try await withCLICluster { cluster, ns in
            cluster.createTopic("CliRq", queues: 4)
            async let replier = CLI.run(
                ["reply", "--namesrv", ns, "--topic", "CliRq", "--group", "CliResponders", "--from", "first", "--expect", "40",
                 "--timeout", "100"] + patient)
            let requests = try await CLI.run(
                ["request", "--namesrv", ns, "--topic", "CliRq", "--count", "40", "--concurrency", "8", "--timeout-ms", "90000"]
                    + patientSends)
            let replies = try await replier
            #expect(requests.status == 0, "\(requests.stderr)")
            #expect(requests.result["sent"] == "40" && requests.result["ok"] == "40" && requests.result["failed"] == "0", "\(requests.stdout)")
            #expect(requests.result["p50_ms"] != nil && requests.result["p99_ms"] != nil)
            #expect(replies.status == 0, "\(replies.stderr)")
            #expect(replies.result["replied"] == "40", "\(replies.stdout)")
        }
    }

    @Test("pop: unacknowledged messages come back to the next consumer; acknowledged ones never")
    func popCommand() async throws {
        try await withCLICluster { cluster, ns in
            cluster.createTopic("CliPop", queues: 4)
            let produce = try await CLI.run(["produce", "--namesrv", ns, "--topic", "CliPop", "--count", "20"] + patientSends)
            #expect(produce.result["ok"] == "20", "\(produce.stderr)")
            let base = ["pop", "--namesrv", ns, "--topic", "CliPop", "--group", "CliPoppers", "--from", "first"] + patient
            let noAck = try await CLI.run(base + ["--ack", "none", "--expect", "20", "--invisible-seconds", "1", "--timeout", "100"])
            #expect(noAck.status == 0, "\(noAck.stderr)")
            #expect(noAck.result["unique"] == "20" && noAck.result["acked"] == "0", "\(noAck.stdout)")
            let again = try await CLI.run(base + ["--expect", "20", "--timeout", "100", "--print"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.result["unique"] == "20" && again.result["acked"] == "20", "\(again.stdout)")
            #expect(again.lines("").filter { $0.contains("reconsume=") }.allSatisfy { !$0.contains("reconsume=0 ") }, "\(again.stdout)")
            let nothing = try await CLI.run(base + ["--expect", "1", "--timeout", "3"])
            #expect(nothing.status == 1)
            #expect(nothing.result["received"] == "0", "\(nothing.stdout)")
        }
    }

    @Test("end to end against the mock-broker executable: transactions checked back, requests replied, POP")
    func transactionsAndRequestsAgainstTheExecutable() async throws {
        // Scaled: transactions become checkable 120 ms after sending and are checked every 600 ms.
        let mock = try await MockBrokerProcess.start(arguments: [
            "--namesrv-port", "0", "--broker-port", "0", "--brokers", "2", "--delay-scale", "0.02", "--grace-period", "0.2",
        ])
        let ns = mock.namesrv
        let unknown = try await CLI.run(
            ["produce", "--namesrv", ns, "--topic", "E2ETx", "--group", "E2ETxGroup", "--count", "3", "--transaction", "unknown"]
                + patientSends)
        #expect(unknown.status == 0 && unknown.result["unknown"] == "3", "\(unknown.stdout) \(unknown.stderr)")
        let checker = try await CLI.run(
            ["produce", "--namesrv", ns, "--topic", "E2ETx", "--group", "E2ETxGroup", "--count", "0", "--transaction", "commit",
             "--check-answer", "commit", "--linger", "100", "--expect-checks", "3"] + patientSends)
        #expect(Int(checker.result["checks_answered"] ?? "") ?? 0 >= 3, "\(checker.stdout) \(checker.stderr)")
        let consume = try await CLI.run(
            ["consume", "--namesrv", ns, "--topic", "E2ETx", "--group", "E2ETxReader", "--from", "first", "--expect", "3",
             "--timeout", "100"] + patient)
        #expect(consume.result["unique"] == "3" && consume.result["duplicates"] == "0", "\(consume.stdout) \(consume.stderr)")
        async let replier = CLI.run(
            ["reply", "--namesrv", ns, "--topic", "E2ERq", "--group", "E2EResponders", "--from", "first", "--expect", "10",
             "--timeout", "100"] + patient)
        let requests = try await CLI.run(
            ["request", "--namesrv", ns, "--topic", "E2ERq", "--count", "10", "--concurrency", "2", "--timeout-ms", "90000",
             "--send-timeout", "60"] + patient)
        let replies = try await replier
        #expect(requests.result["ok"] == "10" && requests.result["failed"] == "0", "\(requests.stdout) \(requests.stderr)")
        #expect(replies.result["replied"] == "10", "\(replies.stdout) \(replies.stderr)")
        // POP: everything once, acknowledged.
        let produced = try await CLI.run(["produce", "--namesrv", ns, "--topic", "E2EPop", "--count", "30"] + patientSends)
        #expect(produced.result["ok"] == "30", "\(produced.stderr)")
        let popped = try await CLI.run(
            ["pop", "--namesrv", ns, "--topic", "E2EPop", "--group", "E2EPoppers", "--from", "first", "--expect", "30",
             "--timeout", "100"] + patient)
        #expect(popped.result["unique"] == "30" && popped.result["acked"] == "30", "\(popped.stdout) \(popped.stderr)")
        #expect(await mock.terminate() == 0)
    }
}
