import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RocketMQRemoting
import RocketMQWire

/// A tiny server that answers every request with malformed bytes, to prove that a client survives a peer gone wrong:
/// only that connection closes (with a logged error), and the client keeps working.
///
/// It reads well-formed request frames and answers each with the current ``Garbage``.
public final class GarbageServer: Sendable {
    /// What the server answers a request with.
    public enum Garbage: String, Sendable, CaseIterable {
        /// Random bytes (seeded), and the connection stays open.
        case randomBytes
        /// A length word far above the 16 MiB frame limit.
        case oversizeLength
        /// A negative length word.
        case negativeLength
        /// A frame whose header length exceeds the frame.
        case headerLengthBeyondFrame
        /// A frame of the right length whose JSON header is not JSON.
        case corruptHeader
        /// The first half of a valid response, then the server closes the connection.
        case truncatedThenClose
    }

    struct State {
        var garbage: Garbage
        var rng: SplitMix
        var requests = 0
    }

    private let channel: any Channel
    private let state: NIOLockedValueBox<State>

    /// `host:port` the server listens on.
    public let address: String

    private init(channel: any Channel, address: String, state: NIOLockedValueBox<State>) {
        self.channel = channel
        self.address = address
        self.state = state
    }

    /// Starts listening on `host` (an ephemeral port unless given) answering with `garbage`; `seed` drives the
    /// random bytes.
    public static func start(
        host: String = "127.0.0.1", port: Int = 0, garbage: Garbage, seed: UInt64 = 1,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> GarbageServer {
        let state = NIOLockedValueBox(State(garbage: garbage, rng: SplitMix(seed: seed)))
        let channel = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RemotingFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(GarbageHandler(state: state))
                }
            }
            .bind(host: host, port: port).get()
        let bound = channel.localAddress?.port ?? port
        return GarbageServer(channel: channel, address: "\(host):\(bound)", state: state)
    }

    /// Changes what later requests are answered with.
    public func answer(with garbage: Garbage) { state.withLockedValue { $0.garbage = garbage } }

    /// Requests received so far.
    public var requestCount: Int { state.withLockedValue { $0.requests } }

    /// Stops listening (accepted connections close when their clients close them).
    public func stop() async { try? await channel.close() }

    /// The bytes answering `request` for `garbage`; `close` tells the handler to close the connection afterwards.
    fileprivate static func bytes(
        for garbage: Garbage, answering request: RemotingCommand, rng: inout SplitMix
    ) -> (bytes: ByteBuffer, close: Bool) {
        var out = ByteBuffer()
        switch garbage {
        case .randomBytes:
            let count = Int(rng.next() % 512) + 1
            for _ in 0..<count { out.writeInteger(UInt8(truncatingIfNeeded: rng.next())) }
            return (out, false)
        case .oversizeLength:
            out.writeInteger(Int32(RemotingFrame.defaultMaxFrameLength + 1))
            out.writeBytes([UInt8](repeating: 0x41, count: 64))
            return (out, false)
        case .negativeLength:
            out.writeInteger(Int32(-5))
            out.writeBytes([UInt8](repeating: 0x42, count: 16))
            return (out, false)
        case .headerLengthBeyondFrame:
            // length 12: a header-length word claiming 4,000 header bytes, then 8 bytes.
            out.writeInteger(Int32(12))
            out.writeInteger(Int32(4000))
            out.writeBytes([UInt8](repeating: 0x7B, count: 8))
            return (out, false)
        case .corruptHeader:
            let header = Array("{\"code\":0,\"flag\":1,\"opaque\":\(request.opaque),\"language\"::: not json".utf8)
            out.writeInteger(Int32(4 + header.count))
            out.writeInteger(Int32(header.count))
            out.writeBytes(header)
            return (out, false)
        case .truncatedThenClose:
            var response = RemotingCommand.response(to: request, code: .success, remark: "half of a fine answer")
            response.body = ByteBuffer(bytes: [UInt8](repeating: 0x43, count: 256))
            var whole = ByteBuffer()
            do { try RemotingFrame.encode(response, into: &whole) } catch { whole.writeInteger(Int32(1000)) }
            let half = whole.getSlice(at: whole.readerIndex, length: max(1, whole.readableBytes / 2)) ?? whole
            return (half, true)
        }
    }
}

private final class GarbageHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = RemotingCommand
    typealias OutboundOut = ByteBuffer

    private let state: NIOLockedValueBox<GarbageServer.State>

    init(state: NIOLockedValueBox<GarbageServer.State>) { self.state = state }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        guard !request.isResponse else { return }
        let (bytes, close) = state.withLockedValue { s in
            s.requests += 1
            return GarbageServer.bytes(for: s.garbage, answering: request, rng: &s.rng)
        }
        if request.isOneway { return }
        if close {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A small deterministic PRNG (SplitMix64), so garbage is reproducible from a seed.
struct SplitMix: Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
