import ArgumentParser
import Foundation
import NIOCore
import RocketMQ
import Synchronization

/// `rocketmq bench consume`: consume throughput (drain a backlog, or follow live traffic) and end-to-end latency.
struct BenchConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Drain a backlog (--prefill N produces it first) or follow live traffic, and report consume throughput.",
        discussion: """
            With an expected count (--count, else --prefill) the run ends when that many messages arrived: the time \
            counts from the consumer's start (rebalance and first pulls included) to the last message. Without one it \
            measures --duration seconds after --warmup. Latency is born-to-handler time in ms (in drain mode: the \
            backlog's age). Last line:
            RESULT command=consume mode=M consumers=K received=N seconds=X msgs_per_s=X mb_per_s=X first_message_ms=X p50_ms=X p99_ms=X \
            p999_ms=X max_ms=X prefill_msgs_per_s=X cpu_s=X peak_rss_mb=X embedded=B
            """)

    @OptionGroup var target: BenchTargetOptions
    @OptionGroup var load: BenchLoadOptions
    @Option(help: "Produce this many messages (async, 1000 in flight) before consuming; default 200000 with --embedded, else 0.")
    var prefill: Int?
    @Option(help: "Consumer group (default: a fresh one, rocketmq_bench_<pid>).") var group: String?
    @Option(help: "Where a fresh group starts: first or last.") var from = "first"
    @Option(help: "Messages per handler call (consumeBatchSize).") var batch = 1
    @Option(help: "Handler calls at once (maxConcurrency).") var concurrency = 20
    @Option(name: .customLong("pull-batch"), help: "Messages per pull (pullBatchSize).") var pullBatch: Int32 = 32
    @Option(help: "Give up waiting for the expected count after this many seconds.") var timeout: Double = 300
    @Option(help: "How to consume: push (pull owned queues), pop (push consumers in POP mode) or simple (SimpleConsumer receive + ack).")
    var mode = "push"
    @Option(help: "Consumers of the group, in this process.") var consumers = 1

    func validate() throws {
        if let prefill, prefill < 0 { throw ValidationError("--prefill must be >= 0") }
        guard ["first", "last"].contains(from) else { throw ValidationError("--from must be first or last") }
        guard (1...1024).contains(batch) else { throw ValidationError("--batch must be between 1 and 1024") }
        guard (1...1000).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 1000") }
        guard (1...1024).contains(pullBatch) else { throw ValidationError("--pull-batch must be between 1 and 1024") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard ["push", "pop", "simple"].contains(mode) else { throw ValidationError("--mode must be push, pop or simple") }
        guard (1...64).contains(consumers) else { throw ValidationError("--consumers must be between 1 and 64") }
    }

    func run() async throws {
        target.bootstrapLogging()
        let bench = try await BenchTarget.start(target, topic: load.topic, queues: load.queues)
        do {
            try await measure(bench)
        } catch {
            await bench.shutdown()
            throw error
        }
        await bench.shutdown()
    }

    private func measure(_ bench: BenchTarget) async throws {
        let prefill = self.prefill ?? (bench.embedded ? 200_000 : 0)
        var prefillRate = 0.0
        if prefill > 0 {
            note("consume: producing \(prefill) messages of \(load.size) B first")
            // The prefill prepares the backlog; it is not what is measured, and any failed send fails the run. With
            // 1000 sends in flight each one waits for the ~1000 queued before it: on a slow or loaded machine that
            // passes the 3 s default (a prefill of 3000 lost 214 sends so on a loaded 2-core machine), so its
            // sends get at least a minute.
            let settings = ProduceBench.Settings(
                mode: .async, inFlight: 1000, topic: load.topic, body: load.body, tag: nil, group: "rocketmq_bench_prefill",
                compression: .zstd, warmup: 0, duration: 86_400, count: prefill - 1, reportInterval: load.reportInterval,
                progress: true, sendTimeout: max(ClusterOptions.duration(seconds: load.sendTimeout), .seconds(60)))
            let filled = try await ProduceBench.run(settings, on: bench, label: "prefill")
            guard filled.errors == 0 else { throw CLIFailure("prefill: \(filled.errors) sends failed") }
            prefillRate = filled.rate
        }
        // The produce engine sends one checked message before counting: `prefill - 1` measured ones make `prefill`.
        let expected = load.count ?? (prefill > 0 ? prefill : nil)

        var config = ConsumerConfiguration(group: group ?? "rocketmq_bench_\(ProcessInfo.processInfo.processIdentifier)")
        config.startPoint = from == "first" ? .firstOffset : .lastOffset
        config.consumeBatchSize = batch
        config.maxConcurrency = concurrency
        config.pullBatchSize = pullBatch
        if mode == "pop" { config.pop = PopSettings() }
        let recorder = BenchRecorder()
        let firstMessage = FirstEvent()
        let record: @Sendable ([ReceivedMessage]) -> Void = { messages in
            firstMessage.mark()
            let now = wallMillis()
            var bytes = 0
            var latencies: [UInt64] = []
            latencies.reserveCapacity(messages.count)
            for m in messages {
                bytes += m.body.readableBytes
                latencies.append(UInt64(max(0, now - m.bornTimestamp)) * 1000)
            }
            recorder.record(latenciesMicros: latencies, bytes: bytes)
        }
        // Each consumer: its run(), and for simple consumers a receive-and-ack loop beside it.
        var services: [@Sendable () async throws -> Void] = []
        for _ in 0..<consumers {
            if mode == "simple" {
                var simple = SimpleConsumerConfiguration(group: config.group)
                simple.startPoint = config.startPoint
                simple.awaitDuration = .seconds(2)
                let consumer = try SimpleConsumer(configuration: simple, client: bench.clientConfiguration(), eventLoopGroup: bench.clientGroup)
                try consumer.subscribe(load.topic)
                let concurrency = self.concurrency
                services.append { try await consumer.run() }
                services.append {
                    try await withThrowingDiscardingTaskGroup { group in
                        for _ in 0..<max(1, concurrency / 4) {
                            group.addTask {
                                while !Task.isCancelled {
                                    let batch = try await consumer.receive(maxMessages: 32)
                                    record(batch.map(\.message))
                                    try await consumer.ack(batch)
                                }
                            }
                        }
                    }
                }
            } else {
                let consumer = try PushConsumer(
                    configuration: config, client: bench.clientConfiguration(), eventLoopGroup: bench.clientGroup
                ) { messages in
                    record(messages)
                    return .success
                }
                try consumer.subscribe(load.topic)
                services.append { try await consumer.run() }
            }
        }

        // A reachability check the push consumer would otherwise only log about.
        let admin = try Admin(client: bench.clientConfiguration(), eventLoopGroup: bench.clientGroup)
        do {
            guard try await admin.route(topic: load.topic) != nil else { throw CLIFailure("topic not found: \(load.topic)") }
        } catch {
            await admin.shutdown()
            throw error
        }
        await admin.shutdown()

        let started = nanoTime()
        if let expected { recorder.startMeasuring(limit: expected) }
        let runner = Task {  // unstructured: the bench's consumers, cancelled and awaited below
            try await withThrowingDiscardingTaskGroup { group in
                for service in services { group.addTask { try await service() } }
            }
        }
        let progress = progressTask("consume", recorder: recorder, interval: load.reportInterval)
        if expected != nil {
            let deadline = started + UInt64(timeout * 1e9)
            while !recorder.reachedLimit && nanoTime() < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
        } else {
            if load.warmup > 0 { try? await Task.sleep(for: .milliseconds(Int64(load.warmup * 1000))) }
            recorder.startMeasuring(limit: nil)
            try? await Task.sleep(for: .milliseconds(Int64(load.duration * 1000)))
        }
        recorder.stop()
        progress.cancel()
        await progress.value
        runner.cancel()
        _ = try? await runner.value
        let snapshot = recorder.total()
        let first = firstMessage.nanos.map { fixed(Double($0 - started) / 1e6, 1) } ?? "-"
        print(resultLine([
            "command": "consume", "mode": mode, "consumers": "\(consumers)", "size": "\(load.size)", "batch": "\(batch)",
            "concurrency": "\(concurrency)",
            "received": "\(snapshot.ok)", "expected": expected.map(String.init) ?? "-", "seconds": fixed(snapshot.seconds),
            "msgs_per_s": fixed(snapshot.rate, 1), "mb_per_s": fixed(snapshot.megabytesPerSecond),
            "first_message_ms": first, "p50_ms": fixed(snapshot.millis(50)), "p99_ms": fixed(snapshot.millis(99)),
            "p999_ms": fixed(snapshot.millis(99.9)), "max_ms": fixed(snapshot.maxMillis),
            "prefill_msgs_per_s": fixed(prefillRate, 1), "cpu_s": fixed(cpuSeconds(), 2),
            "peak_rss_mb": fixed(peakRSSMegabytes(), 1), "embedded": "\(bench.embedded)",
        ]))
        if let expected, snapshot.ok < expected {
            note("consume: expected \(expected) messages, got \(snapshot.ok) within \(fixed(timeout, 0)) s")
            throw ExitCode(1)
        }
    }
}

/// The time of the first occurrence of an event (lock-free: handlers call ``mark()`` on every batch).
final class FirstEvent: Sendable {
    private let first = Atomic<UInt64>(0)

    func mark() {
        guard first.load(ordering: .relaxed) == 0 else { return }
        _ = first.compareExchange(expected: 0, desired: nanoTime(), ordering: .relaxed)
    }

    var nanos: UInt64? {
        let value = first.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }
}
