import NIOCore
import RocketMQWire

/// The frames a channel handler writes in one go (an event-loop tick's requests, a read burst's answers): encoded
/// one after another into one buffer, taken for one write.
///
/// The buffer of the last write is kept: once the channel has written it that is its only reference, and the next
/// frames go into the same memory (no allocation per write); while the channel still holds it, a fresh buffer is
/// made, as it would be anyway.
public struct OutboundFrames {
    private var current: ByteBuffer?
    private var spare: ByteBuffer?

    /// No frames.
    public init() {}

    /// Bytes of the frames not yet taken.
    public var readableBytes: Int { current?.readableBytes ?? 0 }

    /// Encodes `command` after the frames so far. A command that cannot be encoded throws its `WireError` and
    /// leaves them as they were.
    public mutating func append(_ command: RemotingCommand, allocator: ByteBufferAllocator) throws {
        // Room for the header's fields (with escapes) and the body, so a frame is written without regrowing.
        let frameSize = 256 + (command.extFields?.estimatedJSONByteCount ?? 0) + (command.remark?.utf8.count ?? 0)
            + (command.body?.readableBytes ?? 0)
        var buffer: ByteBuffer
        if let frames = current {
            buffer = frames
            current = nil  // the only reference while it grows (no copy on write)
        } else if var reused = spare, reused.capacity >= frameSize {
            spare = nil
            reused.clear()
            buffer = reused
        } else {
            buffer = allocator.buffer(capacity: max(Self.initialCapacity, frameSize))
        }
        let mark = buffer.writerIndex
        defer { current = buffer }
        do {
            try RemotingFrame.encode(command, into: &buffer)
        } catch {
            buffer.moveWriterIndex(to: mark)
            throw error
        }
    }

    /// The frames to write, if any; their buffer is kept for reuse.
    public mutating func take() -> ByteBuffer? {
        guard let buffer = current, buffer.readableBytes > 0 else { return nil }
        current = nil
        if buffer.capacity <= Self.spareCapacityLimit { spare = buffer }
        return buffer
    }

    /// Drops the frames and the kept buffer.
    public mutating func reset() {
        current = nil
        spare = nil
    }

    /// A buffer's size when it is first made (several frames fit).
    static let initialCapacity = 4096
    /// The largest buffer kept for reuse (one that a burst grew larger does not stay pinned).
    static let spareCapacityLimit = 1 << 16
}
