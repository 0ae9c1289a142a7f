import NIOCore
import RocketMQWire
import Testing

@testable import RocketMQRemoting

@Suite("Outbound frames: one buffer per write, reused once written")
struct OutboundFramesTests {
    let allocator = ByteBufferAllocator()

    func command(_ opaque: Int32, body size: Int = 16) -> RemotingCommand {
        RemotingCommand.request(
            .sendMessageV2, opaque: opaque, extFields: ["k": "v\(opaque)"],
            body: ByteBuffer(repeating: UInt8(truncatingIfNeeded: opaque), count: size))
    }

    /// The frames taken (recorded as an issue when there are none).
    func taken(_ frames: inout OutboundFrames) throws -> ByteBuffer {
        try #require(frames.take() as ByteBuffer?)
    }

    func decode(_ buffer: ByteBuffer) throws -> [RemotingCommand] {
        var buffer = buffer
        var commands: [RemotingCommand] = []
        while let frame = try RemotingFrame.split(&buffer, maxFrameLength: 1 << 24) {
            commands.append(try RemotingFrame.decode(frame))
        }
        #expect(buffer.readableBytes == 0)
        return commands
    }

    @Test func framesAreWrittenInOrderAndTakenOnce() throws {
        var frames = OutboundFrames()
        #expect(frames.take() == nil)
        for opaque in Int32(1)...5 { try frames.append(command(opaque), allocator: allocator) }
        let written = try taken(&frames)
        #expect(frames.take() == nil && frames.readableBytes == 0)
        #expect(try decode(written).map(\.opaque) == [1, 2, 3, 4, 5])
        #expect(try decode(written) == (1...5).map { command(Int32($0)) })
    }

    /// A buffer the channel still holds is never written into: the next frames go elsewhere.
    @Test func aBufferStillHeldIsNotReused() throws {
        var frames = OutboundFrames()
        try frames.append(command(1), allocator: allocator)
        let held = try taken(&frames)
        let before = Array(held.readableBytesView)
        try frames.append(command(2, body: 100), allocator: allocator)
        let next = try taken(&frames)
        #expect(Array(held.readableBytesView) == before)
        #expect(try decode(held).map(\.opaque) == [1])
        #expect(try decode(next).map(\.opaque) == [2])
    }

    /// Once the channel let go of it, the next write reuses the memory.
    @Test func aWrittenBufferIsReused() throws {
        var frames = OutboundFrames()
        try frames.append(command(1), allocator: allocator)
        var address: UnsafeRawPointer?
        do {
            let written = try taken(&frames)
            address = written.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) }
        }
        try frames.append(command(2), allocator: allocator)
        let next = try taken(&frames)
        #expect(next.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) } == address)
        #expect(try decode(next).map(\.opaque) == [2])
    }

    /// A command that cannot be encoded leaves the frames before it as they were.
    @Test func anUnencodableCommandLeavesTheOthers() throws {
        var frames = OutboundFrames()
        try frames.append(command(1), allocator: allocator)
        var bad = command(2)
        bad.remark = String(repeating: "r", count: 0x100_0000)  // a header over 24 bits of length
        #expect(throws: WireError.self) { try frames.append(bad, allocator: allocator) }
        try frames.append(command(3), allocator: allocator)
        #expect(try decode(try taken(&frames)).map(\.opaque) == [1, 3])
    }

    /// A frame larger than the kept buffer gets a buffer of its size.
    @Test func aLargeFrameFitsWhole() throws {
        var frames = OutboundFrames()
        try frames.append(command(1), allocator: allocator)
        _ = frames.take()
        try frames.append(command(2, body: 200_000), allocator: allocator)
        let written = try taken(&frames)
        #expect(try decode(written).first?.body?.readableBytes == 200_000)
    }
}
