import ArgumentParser
import Foundation
import NIOCore
import RocketMQ
import RocketMQWire
import Synchronization

/// `rocketmq produce`: sends messages and reports throughput and latency.
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Send messages; the last line is RESULT sent=N ok=N failed=N msgs_per_s=X mb_per_s=Y p50_ms=X p99_ms=X (with --transaction also committed=N rolled_back=N unknown=N checks_answered=N).")

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "The topic.") var topic: String
    @Option(help: "How many messages.") var count = 1000
    @Option(help: "Body size in bytes.") var size = 128
    @Option(help: "Tag of every message.") var tag: String?
    @Option(help: "Keys of every message (space-separated).") var keys: String?
    @Option(help: "Producer group.") var group = "rocketmq-cli-producer"
    @Option(help: "Compression for large bodies: zstd, zlib, lz4 or none.") var compress = "zstd"
    @Option(name: .customLong("compress-over"), help: "Compress bodies of at least this many bytes.") var compressOver = 4096
    @Option(help: "Sends in flight at once.") var concurrency = 64
    @Flag(help: "Send oneway (no answer awaited).") var oneway = false
    @Option(name: .customLong("message-trace"), help: "Write message-trace records (Pub) to this trace topic, e.g. RMQ_SYS_TRACE_TOPIC.")
    var messageTrace: String?
    @Option(name: .customLong("send-timeout"), help: "Seconds one send may take, retries included (Java's sendMsgTimeout, 3).")
    var sendTimeout: Double = 3
    @Option(help: "Send transactional messages whose local transaction answers commit, rollback or unknown.")
    var transaction: String?
    @Option(name: .customLong("check-answer"), help: "What the transaction checker answers the broker's checks: commit or rollback.")
    var checkAnswer = "commit"
    @Option(help: "Seconds to stay after sending, answering transaction checks (ends early after --expect-checks answers).")
    var linger: Double = 0
    @Option(name: .customLong("expect-checks"), help: "End --linger once this many checks were answered (default: the number of unknown ones sent).")
    var expectChecks: Int?

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be >= 0") }
        guard size >= 1, size <= 4 * 1024 * 1024 else { throw ValidationError("--size must be between 1 and 4194304") }
        guard concurrency >= 1, concurrency <= 100_000 else { throw ValidationError("--concurrency must be between 1 and 100000") }
        guard ["zstd", "zlib", "lz4", "none"].contains(compress) else { throw ValidationError("--compress must be zstd, zlib, lz4 or none") }
        guard compressOver >= 0 else { throw ValidationError("--compress-over must be >= 0") }
        try ClusterOptions.validateSeconds(sendTimeout, "--send-timeout")
        if let transaction {
            guard Self.resolution(transaction) != nil else { throw ValidationError("--transaction must be commit, rollback or unknown") }
            guard !oneway else { throw ValidationError("--transaction cannot be combined with --oneway") }
        }
        guard ["commit", "rollback"].contains(checkAnswer) else { throw ValidationError("--check-answer must be commit or rollback") }
        guard linger >= 0, linger <= 86_400 else { throw ValidationError("--linger must be between 0 and 86400 seconds") }
        if let expectChecks, expectChecks < 0 { throw ValidationError("--expect-checks must be >= 0") }
    }

    static func resolution(_ text: String) -> TransactionResolution? {
        switch text {
        case "commit": .commit
        case "rollback": .rollback
        case "unknown": .unknown
        default: nil
        }
    }

    func run() async throws {
        cluster.bootstrapLogging()
        try await checkNameServer(cluster.clientConfiguration())
        var config = ProducerConfiguration(group: group)
        config.compression = compress == "none" ? nil : CompressionType(name: compress.uppercased())
        config.compressionThreshold = compressOver
        config.sendTimeout = ClusterOptions.duration(seconds: sendTimeout)
        config.messageTrace = messageTrace.map { MessageTraceConfiguration(traceTopic: $0) }
        let local = transaction.flatMap(Self.resolution)
        let checkAnswer = Self.resolution(self.checkAnswer) ?? .commit
        let checker: TransactionChecker? = local == nil ? nil : { @Sendable _ in checkAnswer }
        let producer = try Producer(configuration: config, client: cluster.clientConfiguration(), transactionChecker: checker)
        let runner = Task { try await producer.run() }
        defer { runner.cancel() }

        // A readable, repetitive body (compresses like typical JSON payloads).
        let pattern = Array("{\"id\":123456,\"name\":\"rocketmq\",\"ok\":true}".utf8)
        let body = ByteBuffer(bytes: (0..<size).map { pattern[$0 % pattern.count] })
        let stats = Shared(Stats())
        let clock = ContinuousClock()
        let (count, topic, tag, keys, oneway) = (self.count, self.topic, self.tag, self.keys, self.oneway)
        let start = clock.now
        let progress = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { break }
                let s = stats.withLock { $0 }
                note("produce: \(s.ok) ok, \(s.failed) failed of \(count)")
            }
        }
        await forEachIndex(count, concurrency: concurrency) { i in
            var message = Message(topic: topic, body: body, tags: tag)
            if let keys { message.keys = keys.split(separator: " ").map(String.init) }
            message.properties["seq"] = String(i)
            let t0 = clock.now
            do {
                var resolved: TransactionResolution?
                if let local {
                    resolved = try await producer.sendInTransaction(message) { _, _ in local }.resolution
                } else if oneway {
                    try await producer.sendOneway(message)
                } else {
                    _ = try await producer.send(message)
                }
                let ms = Double((clock.now - t0).components.attoseconds) / 1e15 + Double((clock.now - t0).components.seconds) * 1000
                stats.withLock { $0.record(ms, resolved) }
            } catch {
                let first = stats.withLock { s -> Bool in
                    s.failed += 1
                    return s.failed == 1
                }
                if first { note("rocketmq: send failed: \((error as? RocketMQError)?.cliText ?? "\(error)")") }
            }
        }
        progress.cancel()
        let elapsed = clock.now - start
        if local != nil, linger > 0 {
            // Stay to answer the brokers' checks of the unknown ones (and of earlier runs' halves).
            let wanted = expectChecks ?? stats.withLock { $0.unknown }
            let until = clock.now + ClusterOptions.duration(seconds: linger)
            while clock.now < until, wanted == 0 || producer.statistics.transactionChecksAnswered < wanted {
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        let seconds = max(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, 1e-9)
        var s = stats.withLock { $0 }
        s.latencies.sort()
        let ok = s.ok
        var result = String(
            format: "RESULT sent=%d ok=%d failed=%d msgs_per_s=%.1f mb_per_s=%.3f p50_ms=%.3f p99_ms=%.3f",
            count, ok, s.failed, Double(ok) / seconds, Double(ok * size) / seconds / 1_048_576,
            s.percentile(0.50), s.percentile(0.99))
        if local != nil {
            result += " committed=\(s.committed) rolled_back=\(s.rolledBack) unknown=\(s.unknown)"
                + " checks_answered=\(producer.statistics.transactionChecksAnswered)"
        }
        print(result)
        runner.cancel()
        _ = try? await runner.value
        if s.failed > 0 { throw ExitCode(1) }
    }

    struct Stats: Sendable {
        var ok = 0
        var failed = 0
        var latencies: [Double] = []
        var committed = 0
        var rolledBack = 0
        var unknown = 0

        mutating func record(_ ms: Double, _ resolution: TransactionResolution? = nil) {
            ok += 1
            latencies.append(ms)
            switch resolution {
            case .commit?: committed += 1
            case .rollback?: rolledBack += 1
            case .unknown?: unknown += 1
            case nil: break
            }
        }

        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
    }
}

/// Calls `body` with every index in `0..<count`, `concurrency` calls at a time.
func forEachIndex(_ count: Int, concurrency: Int, _ body: @escaping @Sendable (Int) async -> Void) async {
    let next = Shared(0)
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<min(concurrency, max(count, 1)) {
            group.addTask {
                while let i = next.withLock({ n -> Int? in
                    guard n < count else { return nil }
                    defer { n += 1 }
                    return n
                }) {
                    await body(i)
                }
            }
        }
    }
}

/// Waits until `signal` yields (true) or `seconds` pass (false).
func firstSignal(_ signal: AsyncStream<Void>, orSeconds seconds: Double) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            for await _ in signal { return true }
            return false
        }
        group.addTask {
            try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            return false
        }
        let reached = await group.next() ?? false
        group.cancelAll()
        return reached
    }
}

/// A value shared between tasks behind a lock.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
