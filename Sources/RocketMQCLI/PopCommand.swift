import ArgumentParser
import Foundation
import RocketMQ

/// `rocketmq pop`: a POP consumer (RocketMQ 5's SimpleConsumer model); reports what it received and acknowledged.
struct PopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pop",
        abstract: "Consume with POP; the last line is RESULT received=N unique=N acked=N redelivered=N (with redeliveries also redelivery_late_p50_ms / _p99_ms: how long after the invisible time ended they were popped again).")

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "The topic.") var topic: String
    @Option(help: "The consumer group.") var group: String
    @Option(help: "Tag expression: '*', 'TagA', 'TagA || TagB'.") var expression = "*"
    @Option(help: "Stop once this many unique messages arrived (exit 0).") var expect: Int?
    @Option(help: "Give up after this many seconds.") var timeout: Double = 60
    @Option(name: .customLong("invisible-seconds"), help: "Seconds a received message stays invisible unless acknowledged.")
    var invisibleSeconds: Double = 30
    @Option(help: "Acknowledge all, none, or every:K (every K-th received message).") var ack = "all"
    @Option(help: "Where to start on queues the group never consumed: first or last.") var from = "last"
    @Flag(help: "FIFO: per-queue order, next messages after the previous ones were acknowledged.") var orderly = false
    @Flag(help: "Print one line per message: its message id, queue, reconsume count and body.") var print = false

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let expect, expect < 0 { throw ValidationError("--expect must be >= 0") }
        guard invisibleSeconds >= 1, invisibleSeconds <= 43_200 else {
            throw ValidationError("--invisible-seconds must be between 1 and 43200")
        }
        guard Self.ackEvery(ack) != nil else { throw ValidationError("--ack must be all, none or every:K with K >= 1") }
        guard ["first", "last"].contains(from) else { throw ValidationError("--from must be first or last") }
    }

    /// `all` → 1, `none` → 0, `every:K` → K.
    static func ackEvery(_ text: String) -> Int? {
        switch text {
        case "all": return 1
        case "none": return 0
        default:
            guard text.hasPrefix("every:"), let k = Int(text.dropFirst(6)), k >= 1 else { return nil }
            return k
        }
    }

    func run() async throws {
        cluster.bootstrapLogging()
        try await checkNameServer(cluster.clientConfiguration())
        var config = SimpleConsumerConfiguration(group: group)
        config.invisibleDuration = ClusterOptions.duration(seconds: invisibleSeconds)
        config.awaitDuration = .seconds(2)
        config.startPoint = from == "first" ? .firstOffset : .lastOffset
        config.orderly = orderly
        let consumer = try SimpleConsumer(configuration: config, client: cluster.clientConfiguration())
        do { try consumer.subscribe(topic, expression: expression) } catch let e as RocketMQError {
            note("rocketmq: \(e.cliText)")
            throw ExitCode(2)
        }
        let runner = Task { try await consumer.run() }  // unstructured: the CLI's one service, cancelled and awaited below
        defer { runner.cancel() }
        let every = Self.ackEvery(ack) ?? 1
        var received = 0
        var acked = 0
        var redelivered = 0
        var ids = Set<String>()
        /// When each message's last receipt expired, and how late each redelivery came after that (ms).
        var invisibleUntil: [String: Int64] = [:]
        var late: [Int64] = []
        let clock = ContinuousClock()
        let deadline = clock.now + ClusterOptions.duration(seconds: timeout)
        var reached = expect == 0
        while !reached, clock.now < deadline {
            let batch: [PoppedMessage]
            do { batch = try await consumer.receive(maxMessages: 16) } catch let e as RocketMQError where e.isRetryable {
                note("rocketmq: receive failed (retrying): \(e.cliText)")
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            for message in batch {
                received += 1
                if !ids.insert(message.messageID).inserted {
                    redelivered += 1
                    if let until = invisibleUntil[message.messageID] { late.append(message.receipt.popTime - until) }
                }
                invisibleUntil[message.messageID] = message.invisibleUntil
                if print {
                    Swift.print("\(message.messageID) \(message.queue.brokerName):\(message.queue.queueId)@\(message.receipt.queueOffset) reconsume=\(message.reconsumeTimes) \(String(buffer: message.body))")
                }
                if every > 0, received % every == 0 {
                    do {
                        try await consumer.ack(message)
                        acked += 1
                    } catch let e as RocketMQError {
                        note("rocketmq: ack of \(message.messageID) failed: \(e.cliText)")
                    }
                }
            }
            // The whole batch is handled (acknowledged) before stopping: its messages would come back otherwise.
            if let expect, ids.count >= expect { reached = true }
        }
        runner.cancel()
        _ = try? await runner.value
        var result = "RESULT received=\(received) unique=\(ids.count) acked=\(acked) redelivered=\(redelivered)"
        if !late.isEmpty {
            late.sort()
            result += " redelivery_late_p50_ms=\(late[late.count / 2]) redelivery_late_p99_ms=\(late[min(late.count - 1, late.count * 99 / 100)])"
        }
        Swift.print(result)
        if let expect, !reached {
            note("rocketmq: expected \(expect) messages, got \(ids.count) within \(timeout) s")
            throw ExitCode(1)
        }
    }
}
