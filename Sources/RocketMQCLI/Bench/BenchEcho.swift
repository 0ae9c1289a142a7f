import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import RocketMQ
import RocketMQRemoting
import RocketMQWire
import Synchronization

/// `rocketmq bench echo`: the transport ceiling next to the SDK, in one process.
///
/// Four measurements per round, each with the same request frame (a SEND_MESSAGE_V2 of `--size` body bytes) and the
/// same number in flight, one event loop for the server and one for the client:
/// 1. raw SwiftNIO: a pipelined client writes pre-encoded frames to a server that flips the response flag and echoes
///    them back (no encode, decode or correlation: the ceiling of loopback TCP and NIO);
/// 2. `RemotingClient.invoke` against the same echo server (encode, opaque correlation, deadlines, decode);
/// 3. the mock broker alone: the raw client pipelines the same pre-encoded frames into a fresh in-process mock broker,
///    which stores each message and answers (what the broker costs, without the SDK's client side);
/// 4. the SDK: `Producer.send` (async mode) against that mock cluster (the whole client plus a broker that stores
///    the message).
struct BenchEchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Measure a raw SwiftNIO pipelined echo, RemotingClient and the SDK producer in one process; report the ratios.",
        discussion: """
            Each round measures the three paths for --duration seconds after --warmup; the RESULT figures are the \
            medians over --rounds. Last line:
            RESULT command=echo size=N frame_bytes=N in_flight=N rounds=N echo_msgs_per_s=X remoting_msgs_per_s=X \
            broker_msgs_per_s=X sdk_msgs_per_s=X remoting_echo_ratio=X sdk_echo_ratio=X sdk_p50_ms=X sdk_p99_ms=X sdk_p999_ms=X peak_rss_mb=X
            """)

    @Option(help: "Body size in bytes.") var size = 128
    @Option(name: .customLong("in-flight"), help: "Requests outstanding at once.") var inFlight = 1000
    @Option(help: "Measured seconds per path and round.") var duration: Double = 3
    @Option(help: "Warm-up seconds per path and round.") var warmup: Double = 1
    @Option(help: "Rounds; the medians are reported.") var rounds = 3
    @Flag(name: .customLong("transport-only"), help: "Skip the SDK measurement.") var transportOnly = false
    @Option(help: "Header format of the transport requests: json (what the SDK sends, Java's default) or rocketmq (binary).")
    var header = "json"
    @Option(name: .customLong("log-level"), help: "Log level on stderr (trace ... critical).") var logLevel = "warning"

    func validate() throws {
        guard (1...4 * 1024 * 1024).contains(size) else { throw ValidationError("--size must be between 1 and 4194304") }
        guard (1...100_000).contains(inFlight) else { throw ValidationError("--in-flight must be between 1 and 100000") }
        guard duration > 0, duration <= 3_600 else { throw ValidationError("--duration must be in (0, 3600]") }
        guard warmup >= 0, warmup <= 600 else { throw ValidationError("--warmup must be in [0, 600]") }
        guard (1...99).contains(rounds) else { throw ValidationError("--rounds must be between 1 and 99") }
        guard ["json", "rocketmq"].contains(header) else { throw ValidationError("--header must be json or rocketmq") }
    }

    func run() async throws {
        ClusterOptions.bootstrapLogging(level: logLevel)
        let body = ByteBuffer(repeating: UInt8(ascii: "a"), count: size)
        var request = EchoBench.sendRequest(body: body)
        request.serializeType = header == "json" ? .json : .rocketmq
        let frame = try RemotingFrame.encode(request)
        note("echo: frame \(frame.readableBytes) B (SEND_MESSAGE_V2 \(header) header + \(size) B body), \(inFlight) in flight, \(rounds) rounds of \(fixed(duration, 1)) s")

        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server: any Channel
        do {
            server = try await EchoBench.startServer(group: serverGroup)
        } catch {
            try? await serverGroup.shutdownGracefully()
            try? await clientGroup.shutdownGracefully()
            throw CLIFailure("cannot start the echo server: \(error)")
        }
        let port = server.localAddress?.port ?? 0

        var raw: [Double] = []
        var remoting: [Double] = []
        var sdk: [BenchRecorder.Snapshot] = []
        var broker: [Double] = []
        var failure: (any Error)?
        do {
            for round in 1...rounds {
                let r = try await EchoBench.runRaw(group: clientGroup, port: port, frame: frame, window: inFlight, warmup: warmup, duration: duration)
                raw.append(r)
                let c = try await EchoBench.runRemoting(group: clientGroup, port: port, request: request, inFlight: inFlight, warmup: warmup, duration: duration)
                remoting.append(c)
                var line = "echo: round \(round): raw SwiftNIO \(fixed(r, 0)) msg/s, RemotingClient \(fixed(c, 0)) msg/s"
                if !transportOnly {
                    let target = try await BenchTarget.startEmbedded(brokers: 1, topic: "BenchTopic", queues: 8, logLevel: logLevel, announce: false)
                    // The mock broker alone: the same pre-encoded SEND_MESSAGE_V2 frames, pipelined by the raw client.
                    if let brokerPort = target.cluster?.brokers.first?.port {
                        do {
                            let b = try await EchoBench.runRaw(
                                group: clientGroup, port: brokerPort, frame: frame, window: inFlight, warmup: warmup, duration: duration)
                            broker.append(b)
                            line += ", mock broker \(fixed(b, 0)) msg/s"
                        } catch {
                            await target.shutdown()
                            throw error
                        }
                    }
                    let settings = ProduceBench.Settings(
                        mode: .async, inFlight: inFlight, topic: "BenchTopic", body: body, tag: nil, group: "rocketmq_bench_producer",
                        compression: .zstd, warmup: warmup, duration: duration, count: nil, reportInterval: 1, progress: false)
                    do {
                        let s = try await ProduceBench.run(settings, on: target, label: "echo-sdk")
                        sdk.append(s)
                        line += ", SDK producer \(fixed(s.rate, 0)) msg/s (p99 \(fixed(s.millis(99))) ms, errors \(s.errors))"
                    } catch {
                        await target.shutdown()
                        throw error
                    }
                    await target.shutdown()
                }
                note(line)
            }
        } catch {
            failure = error
        }
        try? await server.close()
        try? await serverGroup.shutdownGracefully()
        try? await clientGroup.shutdownGracefully()
        if let failure { throw failure }

        let echoRate = median(raw)
        let remotingRate = median(remoting)
        let sdkRates = sdk.map(\.rate)
        let sdkRate = median(sdkRates)
        // The round whose SDK rate is the median supplies the latency figures.
        let sdkMedian = sdk.sorted { $0.rate < $1.rate }.dropFirst((sdk.count - 1) / 2).first
        print(resultLine([
            "command": "echo", "size": "\(size)", "header": header, "frame_bytes": "\(frame.readableBytes)", "in_flight": "\(inFlight)",
            "rounds": "\(rounds)", "echo_msgs_per_s": fixed(echoRate, 1), "remoting_msgs_per_s": fixed(remotingRate, 1),
            "broker_msgs_per_s": broker.isEmpty ? "-" : fixed(median(broker), 1),
            "sdk_msgs_per_s": transportOnly ? "-" : fixed(sdkRate, 1),
            "remoting_echo_ratio": fixed(remotingRate / max(echoRate, 1)),
            "sdk_echo_ratio": transportOnly ? "-" : fixed(sdkRate / max(echoRate, 1)),
            "sdk_p50_ms": sdkMedian.map { fixed($0.millis(50)) } ?? "-",
            "sdk_p99_ms": sdkMedian.map { fixed($0.millis(99)) } ?? "-",
            "sdk_p999_ms": sdkMedian.map { fixed($0.millis(99.9)) } ?? "-",
            "peak_rss_mb": fixed(peakRSSMegabytes(), 1),
        ]))
    }
}

/// The echo server and the two transport clients.
enum EchoBench {
    /// A SEND_MESSAGE_V2 request shaped like the producer's (same header fields and properties).
    static func sendRequest(body: ByteBuffer) -> RemotingCommand {
        var properties = MessageProperties()
        properties[MessageProperty.waitStoreMessageOK] = "true"
        properties[MessageProperty.uniqueKey] = "7F0000010001000000000000000000AB"
        let header = SendMessageRequestHeader(
            producerGroup: "rocketmq_bench_producer", topic: "BenchTopic", queueId: 0, bornTimestamp: 1_700_000_000_000,
            properties: properties.encoded, reconsumeTimes: 0, unitMode: false, batch: false, bname: "broker-a")
        let fields = header.v2Fields
        let request = RemotingCommand.request(.sendMessageV2, opaque: 100_000, extFields: fields, body: body)
        return request
    }

    static func startServer(group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameSplitter()))
                    try child.pipeline.syncOperations.addHandler(FlagEchoHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Requests per second through raw SwiftNIO: a warm-up, then `duration` seconds measured.
    static func runRaw(group: any EventLoopGroup, port: Int, frame: ByteBuffer, window: Int, warmup: Double, duration: Double) async throws -> Double {
        let loop = group.next()
        let done = loop.makePromise(of: RawPipelinedClient.Outcome.self)
        let channel = try await ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameSplitter()))
                    try channel.pipeline.syncOperations.addHandler(
                        RawPipelinedClient(frame: frame, window: window, warmup: warmup, duration: duration, done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let result = try await done.futureResult.get()
        try? await channel.close()
        return Double(result.count) / (Double(result.nanos) / 1e9)
    }

    /// Requests per second through `RemotingClient.invoke`: `inFlight` tasks, a warm-up, then `duration` seconds.
    static func runRemoting(group: any EventLoopGroup, port: Int, request: RemotingCommand, inFlight: Int, warmup: Double, duration: Double) async throws -> Double {
        let client = RemotingClient(eventLoopGroup: group)
        let address = "127.0.0.1:\(port)"
        do {
            _ = try await client.invoke(request, address: address, timeout: .seconds(10))
        } catch {
            await client.shutdown()
            throw error
        }
        let recorder = BenchRecorder()
        let controller = Task {
            try? await Task.sleep(for: .milliseconds(Int64(warmup * 1000)))
            recorder.startMeasuring(limit: nil)
            try? await Task.sleep(for: .milliseconds(Int64(duration * 1000)))
            recorder.stop()
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<inFlight {
                group.addTask {
                    while !recorder.isStopped {
                        let started = nanoTime()
                        do {
                            _ = try await client.invoke(request, address: address, timeout: .seconds(30))
                            _ = recorder.record(nanos: nanoTime() - started, bytes: 0)
                        } catch {
                            _ = recorder.recordError(error)
                        }
                    }
                }
            }
        }
        await controller.value
        await client.shutdown()
        let snapshot = recorder.total()
        if let first = recorder.firstError { note("echo: RemotingClient errors: \(snapshot.errors), first: \(first)") }
        return snapshot.rate
    }
}

/// Emits whole frames, length prefix included.
struct FrameSplitter: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard length >= 4, Int(length) + 4 <= RemotingFrame.defaultMaxFrameLength else {
            throw WireError(.invalidLength, "bad frame length \(length)")
        }
        guard let frame = buffer.readSlice(length: Int(length) + 4) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}

/// Echoes each frame with the response flag set (ROCKETMQ header: fixed offset; JSON header: the `"flag":` digit),
/// one write per read burst.
final class FlagEchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var out: ByteBuffer?
    private static let flagKey = Array("\"flag\":".utf8)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        var buffer = out ?? context.channel.allocator.buffer(capacity: 64 * 1024)
        out = nil
        let start = buffer.writerIndex
        buffer.writeImmutableBuffer(frame)
        let word = buffer.getInteger(at: start + 4, as: UInt32.self) ?? 0
        let headerLength = Int(word & 0xFF_FFFF)
        if word >> 24 == 1 {
            if let low = buffer.getInteger(at: start + 20, as: UInt8.self) {
                buffer.setInteger(low | 1, at: start + 20)
            }
        } else {
            let headerStart = start - buffer.readerIndex + 8
            buffer.withUnsafeMutableReadableBytes { bytes in
                let key = Self.flagKey
                var i = headerStart
                let end = min(headerStart + headerLength, bytes.count) - key.count
                while i < end {
                    if bytes[i] == key[0] && bytes[i + 1] == key[1] && bytes[i + 6] == key[6]
                        && bytes[i..<(i + key.count)].elementsEqual(key)
                    {
                        let digit = i + key.count
                        if digit < bytes.count, bytes[digit] >= UInt8(ascii: "0"), bytes[digit] <= UInt8(ascii: "8") {
                            bytes[digit] |= 1
                        }
                        break
                    }
                    i += 1
                }
            }
        }
        out = buffer
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let buffer = out, buffer.readableBytes > 0 {
            out = nil
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Keeps `window` frames in flight: a warm-up, then counts echoes for `duration` seconds, then drains.
final class RawPipelinedClient: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    typealias Outcome = (count: Int, nanos: UInt64)

    private enum Phase { case warmup, measuring, draining, finished }

    private let frame: ByteBuffer
    private let window: Int
    private let warmupNanos: UInt64
    private let durationNanos: UInt64
    private let done: EventLoopPromise<Outcome>
    private var phase = Phase.warmup
    private var outstanding = 0
    private var counted = 0
    private var sinceClockCheck = 0
    private var measureStart: UInt64 = 0
    private var warmupEnd: UInt64 = 0
    private var result: Outcome = (0, 1)
    private var out: ByteBuffer?

    init(frame: ByteBuffer, window: Int, warmup: Double, duration: Double, done: EventLoopPromise<Outcome>) {
        self.frame = frame
        self.window = window
        self.warmupNanos = UInt64(warmup * 1e9)
        self.durationNanos = UInt64(duration * 1e9)
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        warmupEnd = nanoTime() + warmupNanos
        var buffer = context.channel.allocator.buffer(capacity: frame.readableBytes * window)
        for _ in 0..<window { buffer.writeImmutableBuffer(frame) }
        outstanding = window
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        outstanding -= 1
        if phase == .measuring { counted += 1 }
        sinceClockCheck += 1
        if sinceClockCheck >= 64 {
            sinceClockCheck = 0
            let now = nanoTime()
            switch phase {
            case .warmup where now >= warmupEnd:
                phase = .measuring
                measureStart = now
            case .measuring where now >= measureStart + durationNanos:
                result = (counted, now - measureStart)
                phase = .draining
            default:
                break
            }
        }
        switch phase {
        case .warmup, .measuring:
            var buffer = out ?? context.channel.allocator.buffer(capacity: 64 * 1024)
            out = nil
            buffer.writeImmutableBuffer(frame)
            out = buffer
            outstanding += 1
        case .draining where outstanding == 0:
            phase = .finished
            done.succeed(result)
        case .draining, .finished:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let buffer = out, buffer.readableBytes > 0 {
            out = nil
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if phase != .finished {
            phase = .finished
            done.fail(ChannelError.ioOnClosedChannel)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if phase != .finished {
            phase = .finished
            done.fail(error)
        }
        context.close(promise: nil)
    }
}
