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
        guard let command = try decode(buffer: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(command))
        return .continue
    }

    /// Decodes what is left when the channel closes. Bytes of an incomplete frame at EOF throw
    /// ``WireError/Kind/truncated``: a peer that closed in the middle of a frame sent a broken stream, and saying so
    /// (an error caught, logged, reported) beats dropping the bytes silently.
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if seenEOF, buffer.readableBytes > 0 {
            _ = try decodeLast(buffer: &buffer, seenEOF: true)
        }
        return .needMoreData
    }
}

/// The same decoder as a single step (`NIOSingleStepByteToMessageProcessor`), for a handler that splits frames itself
/// (the client's channel handler, the mock broker's server handler).
extension RemotingFrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// The next command in `buffer`, or nil until a whole frame has arrived.
    public mutating func decode(buffer: inout ByteBuffer) throws -> RemotingCommand? {
        guard let frame = try RemotingFrame.split(&buffer, maxFrameLength: maxFrameLength) else { return nil }
        return try RemotingFrame.decode(frame)
    }

    /// As ``decodeLast(context:buffer:seenEOF:)``: bytes of an incomplete frame at EOF throw
    /// ``WireError/Kind/truncated``.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RemotingCommand? {
        if let command = try decode(buffer: &buffer) { return command }
        if seenEOF, buffer.readableBytes > 0 {
            let count = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: count)
            throw WireError(.truncated, "the connection closed in the middle of a frame (\(count) bytes of it received)")
        }
        return nil
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
