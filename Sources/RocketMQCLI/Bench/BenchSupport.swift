import ArgumentParser
import Foundation
import Histogram
import Logging
import NIOCore
import NIOPosix
import RocketMQ
import RocketMQMockBroker
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `rocketmq bench`: throughput and latency, like RocketMQ's benchmark tools.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: produce, consume, and the transport ceiling (echo).",
        discussion: """
            Progress goes to stderr every --report-interval seconds; the last stdout line is RESULT key=value ...
            with msgs_per_s, mb_per_s, latency percentiles (HdrHistogram), errors and peak_rss_mb (getrusage).
            --embedded runs an in-process mock cluster, so no RocketMQ is needed. Build with -c release.
            """,
        subcommands: [BenchProduceCommand.self, BenchConsumeCommand.self, BenchEchoCommand.self])
}

/// Where a benchmark runs: a real cluster (`--namesrv`) or an in-process mock cluster (`--embedded`).
struct BenchTargetOptions: ParsableArguments {
    @Option(help: "Name server address(es), host:port[;host:port]. Not with --embedded.")
    var namesrv: String?

    @Flag(help: "Start an in-process mock cluster (name server and brokers on loopback) and use it.")
    var embedded = false

    @Option(name: .customLong("embedded-brokers"), help: "Brokers of the embedded cluster.")
    var embeddedBrokers = 1

    @Option(name: .customLong("log-level"), help: "Log level on stderr (trace ... critical).")
    var logLevel: String = "warning"

    @Option(
        name: .customLong("request-timeout"),
        help: "Seconds to wait for each answer to a name server request (route, cluster info) and to heartbeats (Java's mqClientApiTimeout, 3).")
    var requestTimeout: Double = 3

    func validate() throws {
        guard (namesrv != nil) != embedded else { throw ValidationError("give either --namesrv or --embedded") }
        try ClusterOptions.validateSeconds(requestTimeout, "--request-timeout")
        guard (1...16).contains(embeddedBrokers) else { throw ValidationError("--embedded-brokers must be between 1 and 16") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
        if let namesrv { _ = try ClusterOptions.parse(nameServer: namesrv) }
    }

    func bootstrapLogging() {
        ClusterOptions.bootstrapLogging(level: logLevel)
    }
}

/// Options every load-generating benchmark shares.
struct BenchLoadOptions: ParsableArguments {
    @Option(help: "The topic (created with --queues queues when --embedded).") var topic = "BenchTopic"
    @Option(help: "Queues of the topic when --embedded.") var queues: Int32 = 8
    @Option(help: "Body size in bytes.") var size = 128
    @Option(help: "Measured seconds (after the warm-up), unless --count is given.") var duration: Double = 10
    @Option(help: "Warm-up seconds, not measured.") var warmup: Double = 1
    @Option(help: "Stop after this many measured messages instead of --duration.") var count: Int?
    @Option(name: .customLong("report-interval"), help: "Seconds between progress lines on stderr.") var reportInterval: Double = 1
    @Option(name: .customLong("send-timeout"), help: "Seconds one send may take, retries included (Java's sendMsgTimeout, 3); a send past it counts as an error.")
    var sendTimeout: Double = 3

    func validate() throws {
        guard (1...4 * 1024 * 1024).contains(size) else { throw ValidationError("--size must be between 1 and 4194304") }
        guard duration > 0, duration <= 86_400 else { throw ValidationError("--duration must be in (0, 86400]") }
        guard warmup >= 0, warmup <= 3_600 else { throw ValidationError("--warmup must be in [0, 3600]") }
        if let count, count < 1 { throw ValidationError("--count must be >= 1") }
        guard reportInterval >= 0.1 else { throw ValidationError("--report-interval must be >= 0.1") }
        guard (1...1024).contains(queues) else { throw ValidationError("--queues must be between 1 and 1024") }
        try ClusterOptions.validateSeconds(sendTimeout, "--send-timeout")
    }

    /// A readable, repetitive body of `size` bytes.
    var body: ByteBuffer {
        let pattern = Array("{\"id\":123456,\"name\":\"rocketmq\",\"ok\":true}".utf8)
        return ByteBuffer(bytes: (0..<size).map { pattern[$0 % pattern.count] })
    }
}

/// The cluster a benchmark talks to, with the event loops it uses; `shutdown()` releases what it started.
final class BenchTarget: Sendable {
    let nameServer: String
    let cluster: MockCluster?
    /// The clients' request timeout (`--request-timeout`).
    let requestTimeout: Duration
    /// The client's event loops: one dedicated loop when embedded (the mock cluster gets another), else the default.
    let clientGroup: any EventLoopGroup
    private let ownedGroups: [MultiThreadedEventLoopGroup]

    private init(
        nameServer: String, cluster: MockCluster?, requestTimeout: Duration, clientGroup: any EventLoopGroup,
        ownedGroups: [MultiThreadedEventLoopGroup]
    ) {
        self.nameServer = nameServer
        self.cluster = cluster
        self.requestTimeout = requestTimeout
        self.clientGroup = clientGroup
        self.ownedGroups = ownedGroups
    }

    /// Connects to `--namesrv`, or starts the embedded cluster (with `topic` created) on its own event loop.
    static func start(_ options: BenchTargetOptions, topic: String?, queues: Int32) async throws -> BenchTarget {
        let requestTimeout = ClusterOptions.duration(seconds: options.requestTimeout)
        guard options.embedded else {
            return BenchTarget(
                nameServer: options.namesrv ?? "", cluster: nil, requestTimeout: requestTimeout,
                clientGroup: MultiThreadedEventLoopGroup.singleton, ownedGroups: [])
        }
        return try await startEmbedded(
            brokers: options.embeddedBrokers, topic: topic, queues: queues, logLevel: options.logLevel, requestTimeout: requestTimeout)
    }

    /// An in-process mock cluster on one event loop, and one more event loop for the client.
    static func startEmbedded(
        brokers: Int, topic: String?, queues: Int32, logLevel: String, requestTimeout: Duration = .seconds(3), announce: Bool = true
    ) async throws -> BenchTarget {
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var logger = Logger(label: "rocketmq.mock")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let cluster: MockCluster
        do {
            cluster = try await MockCluster.start(.init(brokers: brokers, queues: queues), eventLoopGroup: serverGroup, logger: logger)
        } catch {
            try? await serverGroup.shutdownGracefully()
            try? await clientGroup.shutdownGracefully()
            throw CLIFailure("cannot start the embedded cluster: \(error)")
        }
        if let topic { cluster.createTopic(topic, queues: queues) }
        if announce {
            note("bench: embedded cluster, name server \(cluster.nameServerAddress), brokers \(cluster.brokers.map { "\($0.name)@\($0.address)" }.joined(separator: ","))")
        }
        return BenchTarget(
            nameServer: cluster.nameServerAddress, cluster: cluster, requestTimeout: requestTimeout, clientGroup: clientGroup,
            ownedGroups: [serverGroup, clientGroup])
    }

    var embedded: Bool { cluster != nil }

    func clientConfiguration() throws -> ClientConfiguration {
        var config = try ClusterOptions.parse(nameServer: nameServer)
        config.requestTimeout = requestTimeout
        return config
    }

    func shutdown() async {
        await cluster?.shutdown()
        for group in ownedGroups { try? await group.shutdownGracefully() }
    }
}

/// Monotonic nanoseconds.
@inline(__always)
func nanoTime() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Milliseconds since 1970.
func wallMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

#if os(Linux)
private let rusageSelf = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let rusageSelf = RUSAGE_SELF
#endif

/// The process's peak resident set size in MiB (`getrusage` `ru_maxrss`).
func peakRSSMegabytes() -> Double {
    var usage = rusage()
    guard getrusage(rusageSelf, &usage) == 0 else { return 0 }
    #if canImport(Darwin)
    return Double(usage.ru_maxrss) / 1_048_576  // bytes
    #else
    return Double(usage.ru_maxrss) / 1024  // KiB
    #endif
}

/// CPU seconds (user + system) this process used so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    guard getrusage(rusageSelf, &usage) == 0 else { return 0 }
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Latency histograms (microseconds) and counters, shared by a benchmark's tasks behind one lock.
///
/// Workers also claim their next message here (``claim()``), so one lock round trip per message does both.
final class BenchRecorder: Sendable {
    struct Snapshot: Sendable {
        var ok: Int
        var errors: Int
        var bytes: Int
        var seconds: Double
        var histogram: Histogram<UInt64>

        var rate: Double { Double(ok) / max(seconds, 1e-9) }
        var megabytesPerSecond: Double { Double(bytes) / max(seconds, 1e-9) / 1_048_576 }

        /// A latency percentile in milliseconds.
        func millis(_ percentile: Double) -> Double {
            histogram.totalCount == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
        }

        var maxMillis: Double { histogram.totalCount == 0 ? 0 : Double(histogram.max) / 1000 }
    }

    private struct State {
        var total = BenchRecorder.makeHistogram()
        var interval = BenchRecorder.makeHistogram()
        var ok = 0
        var errors = 0
        var bytes = 0
        var intervalOK = 0
        var intervalErrors = 0
        var intervalBytes = 0
        var claimed = 0
        var limit: Int?
        var stopped = false
        var start = nanoTime()
        var intervalStart = nanoTime()
        var end: UInt64?
        var firstError: String?
    }

    private let state = Mutex(State())

    static func makeHistogram() -> Histogram<UInt64> {
        var h = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        h.autoResize = true
        return h
    }

    /// Claims the next message to send; nil once stopped or `limit` measured messages were claimed.
    @inline(__always)
    func claim() -> Int? {
        state.withLock { s -> Int? in
            if s.stopped { return nil }
            if let limit = s.limit, s.claimed >= limit { return nil }
            defer { s.claimed += 1 }
            return s.claimed
        }
    }

    /// Records a success of `bytes` payload bytes after `nanos`; with `claimNext`, also claims the next message.
    @inline(__always)
    func record(nanos: UInt64, bytes: Int, claimNext: Bool = false) -> Int? {
        state.withLock { s -> Int? in
            // Completions after the stop are the tail of the run, not part of the measured time; with a limit,
            // warm-up sends still in flight when measuring started must not push the count past it.
            guard !s.stopped else { return nil }
            if let limit = s.limit, s.ok >= limit { return nil }
            let micros = max(nanos / 1000, 1)
            _ = s.total.record(micros)
            _ = s.interval.record(micros)
            s.ok += 1
            s.intervalOK += 1
            s.bytes += bytes
            s.intervalBytes += bytes
            if let limit = s.limit, s.ok >= limit, s.end == nil { s.end = nanoTime() }
            guard claimNext else { return nil }
            if let limit = s.limit, s.claimed >= limit { return nil }
            defer { s.claimed += 1 }
            return s.claimed
        }
    }

    /// Records `count` successes at once (a consumed batch), each with its own latency.
    func record(latenciesMicros: [UInt64], bytes: Int) {
        state.withLock { s in
            guard !s.stopped else { return }
            for micros in latenciesMicros { _ = s.total.record(max(micros, 1)) }
            for micros in latenciesMicros { _ = s.interval.record(max(micros, 1)) }
            s.ok += latenciesMicros.count
            s.intervalOK += latenciesMicros.count
            s.bytes += bytes
            s.intervalBytes += bytes
            if let limit = s.limit, s.ok >= limit, s.end == nil { s.end = nanoTime() }
        }
    }

    /// Records a failure; returns true for the first one (worth printing).
    func recordError(_ error: any Error) -> Bool {
        state.withLock { s -> Bool in
            s.errors += 1
            s.intervalErrors += 1
            guard s.firstError == nil else { return false }
            s.firstError = RocketMQCLI.oneLine(RocketMQCLI.describe(error))
            return true
        }
    }

    /// Starts measuring from now (the end of the warm-up): counters and histograms start over.
    func startMeasuring(limit: Int?) {
        state.withLock { s in
            s.total.reset()
            s.interval.reset()
            s.ok = 0
            s.errors = 0
            s.bytes = 0
            s.intervalOK = 0
            s.intervalErrors = 0
            s.intervalBytes = 0
            s.claimed = 0
            s.limit = limit
            s.start = nanoTime()
            s.intervalStart = s.start
            s.end = nil
        }
    }

    /// No further claims; the measured time ends now (unless the count limit ended it earlier).
    func stop() {
        state.withLock { s in
            s.stopped = true
            if s.end == nil { s.end = nanoTime() }
        }
    }

    var isStopped: Bool { state.withLock { $0.stopped } }
    var okCount: Int { state.withLock { $0.ok } }
    var firstError: String? { state.withLock { $0.firstError } }

    /// Whether `limit` measured messages have completed.
    var reachedLimit: Bool { state.withLock { s in s.limit.map { s.ok >= $0 } ?? false } }

    /// The interval since the last call, and resets it.
    func takeInterval() -> Snapshot {
        state.withLock { s in
            let now = nanoTime()
            let snapshot = Snapshot(
                ok: s.intervalOK, errors: s.intervalErrors, bytes: s.intervalBytes,
                seconds: Double(now - s.intervalStart) / 1e9, histogram: s.interval)
            s.interval.reset()
            s.intervalOK = 0
            s.intervalErrors = 0
            s.intervalBytes = 0
            s.intervalStart = now
            return snapshot
        }
    }

    /// Everything since ``startMeasuring(limit:)``.
    func total() -> Snapshot {
        state.withLock { s in
            let end = s.end ?? nanoTime()
            return Snapshot(
                ok: s.ok, errors: s.errors, bytes: s.bytes, seconds: Double(end - s.start) / 1e9, histogram: s.total)
        }
    }
}

/// Prints a progress line on stderr every `interval` seconds until cancelled.
func progressTask(_ label: String, recorder: BenchRecorder, interval: Double) -> Task<Void, Never> {
    Task {
        let started = nanoTime()
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            if Task.isCancelled { break }
            let s = recorder.takeInterval()
            note(String(
                format: "%@ [%6.1fs] %9.0f msg/s %8.2f MB/s  p50 %.3f ms  p99 %.3f ms  p999 %.3f ms  max %.3f ms  errors %d  rss %.0f MB",
                label, Double(nanoTime() - started) / 1e9, s.rate, s.megabytesPerSecond, s.millis(50), s.millis(99),
                s.millis(99.9), s.maxMillis, s.errors, peakRSSMegabytes()))
        }
    }
}

/// Formats `RESULT key=value ...`.
func resultLine(_ pairs: KeyValuePairs<String, String>) -> String {
    "RESULT " + pairs.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
}

/// Formats a number with fixed decimals.
func fixed(_ value: Double, _ decimals: Int = 3) -> String { String(format: "%.\(decimals)f", value) }

/// The median of `values` (the mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
