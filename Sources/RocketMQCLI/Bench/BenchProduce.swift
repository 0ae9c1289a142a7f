import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import RocketMQ
import RocketMQRemoting
import RocketMQWire

/// How a produce benchmark sends.
enum SendMode: String, ExpressibleByArgument, Sendable, CaseIterable {
    /// Each sender awaits its answer before the next send (Java's sync `send`, one sender per `--in-flight`).
    case sync
    /// `--in-flight` sends outstanding at all times (Java's async send with a window).
    case async
    /// Fire and forget; latency is the time to hand the request to the connection.
    case oneway

    var defaultInFlight: Int { self == .sync ? 1 : 1000 }
}

/// `rocketmq bench produce`: send throughput and latency.
struct BenchProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Send as fast as possible for --duration seconds (or --count messages) and report throughput and latency.",
        discussion: """
            --mode sync: --in-flight senders (default 1) each await their answer; --mode async: --in-flight sends \
            (default 1000) outstanding; --mode oneway: no answers. Latency is per send, in ms. Last line:
            RESULT command=produce mode=M size=N in_flight=N sent=N ok=N errors=N seconds=X msgs_per_s=X mb_per_s=X \
            p50_ms=X p99_ms=X p999_ms=X max_ms=X cpu_s=X peak_rss_mb=X embedded=B
            """)

    @OptionGroup var target: BenchTargetOptions
    @OptionGroup var load: BenchLoadOptions
    @Option(help: "sync, async or oneway.") var mode: SendMode = .async
    @Option(name: .customLong("in-flight"), help: "Sends outstanding at once (default: 1 for sync, 1000 otherwise).") var inFlight: Int?
    @Option(help: "Producer group.") var group = "rocketmq_bench_producer"
    @Option(help: "Tag of every message.") var tag: String?
    @Option(help: "Compression for large bodies: zstd, zlib, lz4 or none.") var compress = "zstd"
    @Flag(name: .customLong("message-trace"), help: "Write a Pub trace record of every send to RMQ_SYS_TRACE_TOPIC (Java's enableMsgTrace).")
    var messageTrace = false
    @Flag(name: .customLong("on-event-loop"), help: "Run the senders on the producer's event loop (one loop; EventLoopTaskExecutor).")
    var onEventLoop = false

    func validate() throws {
        if let inFlight { guard (1...100_000).contains(inFlight) else { throw ValidationError("--in-flight must be between 1 and 100000") } }
        guard ["zstd", "zlib", "lz4", "none"].contains(compress) else { throw ValidationError("--compress must be zstd, zlib, lz4 or none") }
    }

    func run() async throws {
        target.bootstrapLogging()
        let bench = try await BenchTarget.start(target, topic: load.topic, queues: load.queues)
        let settings = ProduceBench.Settings(
            mode: mode, inFlight: inFlight ?? mode.defaultInFlight, topic: load.topic, body: load.body, tag: tag,
            group: group, compression: compress == "none" ? nil : CompressionType(name: compress.uppercased()),
            warmup: load.warmup, duration: load.duration, count: load.count, reportInterval: load.reportInterval,
            sendTimeout: ClusterOptions.duration(seconds: load.sendTimeout),
            messageTrace: messageTrace ? MessageTraceConfiguration() : nil, onEventLoop: onEventLoop)
        let snapshot: BenchRecorder.Snapshot
        do {
            snapshot = try await ProduceBench.run(settings, on: bench, label: "produce")
        } catch {
            await bench.shutdown()
            throw error
        }
        await bench.shutdown()
        print(resultLine([
            "command": "produce", "mode": mode.rawValue, "size": "\(load.size)", "in_flight": "\(settings.inFlight)",
            "sent": "\(snapshot.ok + snapshot.errors)", "ok": "\(snapshot.ok)", "errors": "\(snapshot.errors)",
            "seconds": fixed(snapshot.seconds), "msgs_per_s": fixed(snapshot.rate, 1), "mb_per_s": fixed(snapshot.megabytesPerSecond),
            "p50_ms": fixed(snapshot.millis(50)), "p99_ms": fixed(snapshot.millis(99)), "p999_ms": fixed(snapshot.millis(99.9)),
            "max_ms": fixed(snapshot.maxMillis), "cpu_s": fixed(cpuSeconds(), 2), "peak_rss_mb": fixed(peakRSSMegabytes(), 1),
            "embedded": "\(bench.embedded)", "message_trace": "\(messageTrace)", "on_event_loop": "\(onEventLoop)",
        ]))
        if snapshot.ok == 0 { throw ExitCode(1) }
    }
}

/// The produce benchmark's engine (also used by `bench consume --prefill` and `bench echo`).
enum ProduceBench {
    struct Settings: Sendable {
        var mode: SendMode
        var inFlight: Int
        var topic: String
        var body: ByteBuffer
        var tag: String?
        var group: String
        var compression: CompressionType?
        var warmup: Double
        var duration: Double
        var count: Int?
        var reportInterval: Double
        /// Progress lines on stderr.
        var progress = true
        /// The budget of one send, retries included.
        var sendTimeout: Duration = .seconds(3)
        /// Message trace of the producer (nil: off).
        var messageTrace: MessageTraceConfiguration? = nil
        /// The producer on a one-thread event loop group, the senders running on that loop.
        var onEventLoop = false
    }

    /// Runs one producer against `target`: a checked first send, the warm-up, then the measured part.
    static func run(_ settings: Settings, on target: BenchTarget, label: String) async throws -> BenchRecorder.Snapshot {
        var config = ProducerConfiguration(group: settings.group)
        config.compression = settings.compression
        config.sendTimeout = settings.sendTimeout
        config.messageTrace = settings.messageTrace
        let ownGroup = settings.onEventLoop ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        defer { ownGroup?.shutdownGracefully { _ in } }
        let executor = ownGroup.map { EventLoopTaskExecutor($0.next()) }
        let producer = try Producer(configuration: config, client: target.clientConfiguration(), eventLoopGroup: ownGroup ?? target.clientGroup)
        let runner = Task { try await producer.run() }
        defer { runner.cancel() }
        let message = Message(topic: settings.topic, body: settings.body, tags: settings.tag)

        // One send first: an unreachable cluster or a missing topic is one clear error, not a storm of failures.
        do {
            _ = try await producer.send(message)
        } catch {
            runner.cancel()
            _ = try? await runner.value
            throw error
        }

        let recorder = BenchRecorder()
        let progress = settings.progress ? progressTask(label, recorder: recorder, interval: settings.reportInterval) : nil
        let (warmup, duration, count) = (settings.warmup, settings.duration, settings.count)
        // Without a warm-up, measuring starts before the first send (no send may precede it).
        if warmup <= 0 { recorder.startMeasuring(limit: count) }
        let controller = Task {
            if warmup > 0 {
                try? await Task.sleep(for: .milliseconds(Int64(warmup * 1000)))
                _ = recorder.takeInterval()
                recorder.startMeasuring(limit: count)
            }
            if count == nil {
                try? await Task.sleep(for: .milliseconds(Int64(duration * 1000)))
                recorder.stop()
            }
        }
        let bytes = settings.body.readableBytes
        let mode = settings.mode
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<settings.inFlight {
                group.addTask(executorPreference: executor) {
                    var next = recorder.claim()
                    while next != nil {
                        let started = nanoTime()
                        do {
                            if mode == .oneway {
                                try await producer.sendOneway(message)
                            } else {
                                _ = try await producer.send(message)
                            }
                            next = recorder.record(nanos: nanoTime() - started, bytes: bytes, claimNext: true)
                        } catch {
                            if recorder.recordError(error) {
                                note("\(label): send failed: \(RocketMQCLI.oneLine(RocketMQCLI.describe(error)))")
                            }
                            next = recorder.claim()
                        }
                    }
                }
            }
        }
        recorder.stop()
        controller.cancel()
        progress?.cancel()
        await progress?.value
        runner.cancel()
        _ = try? await runner.value
        if let trace = producer.statistics.messageTrace {
            note("\(label): message trace: \(trace.recordsOffered) records offered, \(trace.recordsSent) sent in \(trace.messagesSent) messages, \(trace.recordsDropped) dropped (buffer full), \(trace.recordsFailed) failed")
        }
        return recorder.total()
    }
}
