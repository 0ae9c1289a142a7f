import ArgumentParser
import Foundation
import NIOCore
import RocketMQ

/// `rocketmq request`: request-reply calls; reports how many got their reply and how fast.
struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Send requests and await their replies; the last line is RESULT sent=N ok=N failed=N p50_ms=X p99_ms=X requests_per_s=X.")

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "The request topic.") var topic: String
    @Option(help: "How many requests.") var count = 1
    @Option(help: "Requests in flight at once.") var concurrency = 1
    @Option(name: .customLong("timeout-ms"), help: "Milliseconds each request waits for its reply (the send included).")
    var timeoutMs = 3000
    @Option(help: "Body size in bytes.") var size = 64
    @Option(help: "Producer group.") var group = "rocketmq-cli-requester"
    @Option(name: .customLong("send-timeout"), help: "Seconds the send of one request may take, retries included (within --timeout-ms).")
    var sendTimeout: Double = 3

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be >= 0") }
        guard concurrency >= 1, concurrency <= 100_000 else { throw ValidationError("--concurrency must be between 1 and 100000") }
        guard timeoutMs >= 1, timeoutMs <= 3_600_000 else { throw ValidationError("--timeout-ms must be between 1 and 3600000") }
        guard size >= 1, size <= 4 * 1024 * 1024 else { throw ValidationError("--size must be between 1 and 4194304") }
        try ClusterOptions.validateSeconds(sendTimeout, "--send-timeout")
    }

    func run() async throws {
        cluster.bootstrapLogging()
        try await checkNameServer(cluster.clientConfiguration())
        var config = ProducerConfiguration(group: group)
        config.sendTimeout = ClusterOptions.duration(seconds: sendTimeout)
        let producer = try Producer(configuration: config, client: cluster.clientConfiguration())
        let runner = Task { try await producer.run() }  // unstructured: the CLI's one service, cancelled and awaited below
        defer { runner.cancel() }
        let stats = Shared(ProduceCommand.Stats())
        let (count, topic, size) = (self.count, self.topic, self.size)
        let timeout = Duration.milliseconds(timeoutMs)
        let clock = ContinuousClock()
        let start = clock.now
        await forEachIndex(count, concurrency: concurrency) { i in
            // The body names the request, so a mixed-up reply would be seen.
            var text = "request-\(i)-"
            text += String(repeating: "x", count: max(0, size - text.utf8.count))
            let t0 = clock.now
            do {
                let reply = try await producer.request(Message(topic: topic, string: text), timeout: timeout)
                guard String(buffer: reply.body).hasPrefix("request-\(i)-") else {
                    throw CLIFailure("reply \(String(buffer: reply.body).prefix(40)) does not answer request \(i)")
                }
                let elapsed = clock.now - t0
                let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                stats.withLock { $0.record(ms) }
            } catch {
                let first = stats.withLock { s -> Bool in
                    s.failed += 1
                    return s.failed == 1
                }
                if first { note("rocketmq: request failed: \(RocketMQCLI.describe(error))") }
            }
        }
        let elapsed = clock.now - start
        let seconds = max(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, 1e-9)
        var s = stats.withLock { $0 }
        s.latencies.sort()
        print(String(
            format: "RESULT sent=%d ok=%d failed=%d p50_ms=%.3f p99_ms=%.3f requests_per_s=%.1f",
            count, s.ok, s.failed, s.percentile(0.50), s.percentile(0.99), Double(s.ok) / seconds))
        runner.cancel()
        _ = try? await runner.value
        if s.failed > 0 { throw ExitCode(1) }
    }
}

/// `rocketmq reply`: a consumer group member that answers every request with its own body.
struct ReplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reply",
        abstract: "Answer requests (each with its own body) as a member of a consumer group; the last line is RESULT replied=N.")

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "The request topic.") var topic: String
    @Option(help: "The consumer group.") var group: String
    @Option(help: "Stop once this many requests were answered (exit 0).") var expect: Int?
    @Option(help: "Give up after this many seconds.") var timeout: Double = 60
    @Option(help: "Where to start without a committed offset: first or last.") var from = "last"

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let expect, expect < 0 { throw ValidationError("--expect must be >= 0") }
        guard ["first", "last"].contains(from) else { throw ValidationError("--from must be first or last") }
    }

    func run() async throws {
        cluster.bootstrapLogging()
        try await checkNameServer(cluster.clientConfiguration())
        let producer = try Producer(configuration: ProducerConfiguration(group: group + "-replier"), client: cluster.clientConfiguration())
        var config = ConsumerConfiguration(group: group)
        config.startPoint = from == "first" ? .firstOffset : .lastOffset
        let replied = Shared(Set<String>())
        let expect = self.expect
        let done = AsyncStream.makeStream(of: Void.self)
        let consumer = try PushConsumer(configuration: config, client: cluster.clientConfiguration()) { messages in
            for m in messages {
                do {
                    try await producer.reply(to: m, body: m.body)
                } catch {
                    // The requester may be gone (timed out): nothing to answer; other errors: let it be redelivered.
                    if let e = error as? RocketMQError, e.code == .invalidArgument || e.code == .brokerError {
                        note("rocketmq: reply to \(m.messageID) not delivered: \(e.cliText)")
                        continue
                    }
                    return .retryLater
                }
                let reached = replied.withLock { s -> Bool in
                    s.insert(m.messageID)
                    return expect.map { s.count >= $0 } ?? false
                }
                if reached { done.continuation.yield() }
            }
            return .success
        }
        do { try consumer.subscribe(topic) } catch let e as RocketMQError {
            note("rocketmq: \(e.cliText)")
            throw ExitCode(2)
        }
        // unstructured: the CLI's two services, cancelled and awaited below
        let producerRunner = Task { try await producer.run() }
        let consumerRunner = Task { try await consumer.run() }
        let reached = await firstSignal(done.stream, orSeconds: timeout)
        done.continuation.finish()
        consumerRunner.cancel()
        _ = try? await consumerRunner.value
        producerRunner.cancel()
        _ = try? await producerRunner.value
        let count = replied.withLock { $0.count }
        print("RESULT replied=\(count)")
        if let expect, !reached {
            note("rocketmq: expected \(expect) requests, answered \(count) within \(timeout) s")
            throw ExitCode(1)
        }
    }
}
