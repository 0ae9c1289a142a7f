// Pipelined loopback echo: RemotingClient next to raw SwiftNIO, same frames, same server, same run.
//
//   swift build -c release --product RemotingBenchmark
//   .build/release/RemotingBenchmark [requests] [inFlight]
//
// The server splits frames by their length prefix, sets the response flag in place and writes them back, so both
// clients face the same peer. The raw client writes pre-encoded frames and counts the echoed ones; the remoting
// client runs `inFlight` tasks calling `invoke` (encode, correlate by opaque, deadline, decode) until `requests`
// have completed.

import Atomics
import NIOCore
import NIOPosix
import RocketMQRemoting
import RocketMQWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let arguments = CommandLine.arguments
let totalRequests = arguments.count > 1 ? max(Int(arguments[1]) ?? 200_000, 1) : 200_000
let inFlight = arguments.count > 2 ? max(Int(arguments[2]) ?? 1_000, 1) : 1_000
let bodySize = 128
let rounds = 3

func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
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

/// Echoes each frame with the response flag set (ROCKETMQ header: fixed offset; JSON header: the `"flag":` digit).
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
                        && Array(bytes[i..<(i + key.count)]) == key
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

/// Keeps `window` frames in flight until `total` have been echoed.
final class RawPipelinedClient: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let frame: ByteBuffer
    private let total: Int
    private let window: Int
    private let done: EventLoopPromise<Void>
    private var sent = 0
    private var received = 0
    private var out: ByteBuffer?

    init(frame: ByteBuffer, total: Int, window: Int, done: EventLoopPromise<Void>) {
        self.frame = frame
        self.total = total
        self.window = window
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: frame.readableBytes * min(window, total))
        while sent < min(window, total) {
            buffer.writeImmutableBuffer(frame)
            sent += 1
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += 1
        if sent < total {
            var buffer = out ?? context.channel.allocator.buffer(capacity: 64 * 1024)
            out = nil
            buffer.writeImmutableBuffer(frame)
            out = buffer
            sent += 1
        }
        if received == total { done.succeed(()) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let buffer = out, buffer.readableBytes > 0 {
            out = nil
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.close(promise: nil)
    }
}

func startServer(group: any EventLoopGroup) async throws -> any Channel {
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

func requestCommand() -> RemotingCommand {
    RemotingCommand.request(.heartBeat, opaque: 100_000, body: ByteBuffer(repeating: 0x61, count: bodySize))
}

/// Requests per second through raw SwiftNIO.
func runRaw(group: any EventLoopGroup, port: Int, total: Int) async throws -> Double {
    let frame = try RemotingFrame.encode(requestCommand())
    let loop = group.next()
    let done = loop.makePromise(of: Void.self)
    let start = monotonicNanos()
    let channel = try await ClientBootstrap(group: loop)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameSplitter()))
                try channel.pipeline.syncOperations.addHandler(
                    RawPipelinedClient(frame: frame, total: total, window: inFlight, done: done))
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    try await done.futureResult.get()
    let elapsed = monotonicNanos() - start
    try await channel.close()
    return Double(total) / (Double(elapsed) / 1e9)
}

/// Requests per second through RemotingClient.invoke.
func runRemoting(group: any EventLoopGroup, port: Int, total: Int) async throws -> (rate: Double, errors: Int) {
    let client = RemotingClient(eventLoopGroup: group)
    let address = "127.0.0.1:\(port)"
    let request = requestCommand()
    // Connect outside the measurement.
    _ = try await client.invoke(request, address: address, timeout: .seconds(30))
    let remaining = ManagedAtomic<Int>(total)
    let errors = ManagedAtomic<Int>(0)
    let start = monotonicNanos()
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<min(inFlight, total) {
            group.addTask {
                while remaining.loadThenWrappingDecrement(ordering: .relaxed) > 0 {
                    do {
                        let response = try await client.invoke(request, address: address, timeout: .seconds(30))
                        if response.body?.readableBytes != bodySize { errors.wrappingIncrement(ordering: .relaxed) }
                    } catch {
                        errors.wrappingIncrement(ordering: .relaxed)
                    }
                }
            }
        }
    }
    let elapsed = monotonicNanos() - start
    await client.shutdown()
    return (Double(total) / (Double(elapsed) / 1e9), errors.load(ordering: .relaxed))
}

func format(_ rate: Double) -> String {
    let thousands = (rate / 100).rounded() / 10
    return "\(thousands)k req/s"
}

let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let server = try await startServer(group: serverGroup)
let port = server.localAddress?.port ?? 0
let frameBytes = try RemotingFrame.encode(requestCommand()).readableBytes
print("pipelined loopback echo: \(totalRequests) requests, \(inFlight) in flight, body \(bodySize) B, frame \(frameBytes) B")

// Warm up both paths.
_ = try await runRaw(group: clientGroup, port: port, total: min(totalRequests, 20_000))
_ = try await runRemoting(group: clientGroup, port: port, total: min(totalRequests, 20_000))

var rawRates: [Double] = []
var remotingRates: [Double] = []
for round in 1...rounds {
    let raw = try await runRaw(group: clientGroup, port: port, total: totalRequests)
    let remoting = try await runRemoting(group: clientGroup, port: port, total: totalRequests)
    rawRates.append(raw)
    remotingRates.append(remoting.rate)
    print("round \(round): raw SwiftNIO \(format(raw)), RemotingClient \(format(remoting.rate)) (errors: \(remoting.errors))")
}
let bestRaw = rawRates.max() ?? 0
let bestRemoting = remotingRates.max() ?? 0
print("best: raw SwiftNIO \(format(bestRaw)), RemotingClient \(format(bestRemoting)), ratio RemotingClient/raw = \(((bestRemoting / max(bestRaw, 1)) * 1000).rounded() / 1000)")

try await server.close().get()
try await serverGroup.shutdownGracefully()
try await clientGroup.shutdownGracefully()
