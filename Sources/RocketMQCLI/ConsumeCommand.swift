import ArgumentParser
import Foundation
import RocketMQ
import Synchronization

/// `rocketmq consume`: one member of a consumer group; reports what it received.
struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Consume as one member of a group; the last line is RESULT received=N unique=N duplicates=N queues=BROKER:ID,...")

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "The topic.") var topic: String
    @Option(help: "The consumer group.") var group: String
    @Option(help: "Tag expression: '*', 'TagA', 'TagA || TagB'.") var expression = "*"
    @Flag(help: "Broadcasting instead of clustering.") var broadcast = false
    @Flag(help: "Consume each queue in order under a broker lock.") var orderly = false
    @Option(help: "Where to start without a committed offset: first or last.") var from = "last"
    @Option(help: "Stop once this many unique messages arrived (exit 0).") var expect: Int?
    @Option(help: "Give up after this many seconds.") var timeout: Double = 60
    @Flag(help: "Print each message on stdout.") var print = false
    @Option(name: .customLong("message-trace"), help: "Write message-trace records (SubBefore/SubAfter) to this trace topic.")
    var messageTrace: String?

    func validate() throws {
        guard ["first", "last"].contains(from) else { throw ValidationError("--from must be first or last") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let expect, expect < 0 { throw ValidationError("--expect must be >= 0") }
        guard !(broadcast && orderly) else { throw ValidationError("--orderly needs clustering (no --broadcast)") }
    }

    func run() async throws {
        cluster.bootstrapLogging()
        try await checkNameServer(cluster.clientConfiguration())
        var config = ConsumerConfiguration(group: group)
        config.messageModel = broadcast ? .broadcasting : .clustering
        config.orderly = orderly
        config.startPoint = from == "first" ? .firstOffset : .lastOffset
        config.messageTrace = messageTrace.map { MessageTraceConfiguration(traceTopic: $0) }
        let seen = Shared(Seen())
        let expect = self.expect
        let printEach = self.print
        let done = AsyncStream.makeStream(of: Void.self)
        let consumer = try PushConsumer(configuration: config, client: cluster.clientConfiguration()) { messages in
            for m in messages {
                let reached = seen.withLock { s -> Bool in
                    s.received += 1
                    if !s.ids.insert(m.messageID).inserted { s.duplicates += 1 }
                    return expect.map { s.ids.count >= $0 } ?? false
                }
                if printEach {
                    Swift.print("\(m.queue.brokerName):\(m.queue.queueId)@\(m.queueOffset) \(m.messageID) \(m.tags ?? "-") \(String(buffer: m.body))")
                }
                if reached { done.continuation.yield() }
            }
            return .success
        }
        do { try consumer.subscribe(topic, expression: expression) } catch let e as RocketMQError {
            note("rocketmq: \(e.cliText)")
            throw ExitCode(2)
        }
        let runner = Task { try await consumer.run() }
        let reached = await firstSignal(done.stream, orSeconds: timeout)
        done.continuation.finish()
        let owned = consumer.ownedQueues.filter { !$0.topic.hasPrefix("%RETRY%") }.map { "\($0.brokerName):\($0.queueId)" }
        runner.cancel()
        _ = try? await runner.value
        let s = seen.withLock { $0 }
        Swift.print("RESULT received=\(s.received) unique=\(s.ids.count) duplicates=\(s.duplicates) queues=\(owned.joined(separator: ","))")
        if expect != nil && !reached {
            note("rocketmq: expected \(expect ?? 0) messages, got \(s.ids.count) within \(timeout) s")
            throw ExitCode(1)
        }
    }

    struct Seen: Sendable {
        var received = 0
        var duplicates = 0
        var ids = Set<String>()
    }
}
