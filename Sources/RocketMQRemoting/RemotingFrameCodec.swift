import NIOCore
import RocketMQWire

/// Splits the inbound byte stream into ``RemotingCommand``s (Java's `NettyDecoder`).
///
/// A malformed frame (oversized or negative length, bad header) throws, which closes the channel: the remoting
/// protocol has no way to resynchronise a stream, and Java never answers a bad frame either.
public struct RemotingFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = RemotingCommand

    /// The largest accepted frame, length prefix included.
    public let maxFrameLength: Int

    /// Creates a decoder with the given frame cap (16 MiB by default).
    public init(maxFrameLength: Int = RemotingFrame.defaultMaxFrameLength) {
        self.maxFrameLength = maxFrameLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try RemotingFrame.split(&buffer, maxFrameLength: maxFrameLength) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(try RemotingFrame.decode(frame)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Encodes outbound ``RemotingCommand``s as frames (Java's `NettyEncoder`).
public struct RemotingFrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = RemotingCommand

    /// Creates an encoder.
    public init() {}

    public func encode(data: RemotingCommand, out: inout ByteBuffer) throws {
        try RemotingFrame.encode(data, into: &out)
    }
}
