import NIOCore
import Testing

@testable import RocketMQWire

@Suite("Golden frames (Java 5.3.3)")
struct GoldenFrameTests {
    static let frames: [JSONValue] = (try? Golden.lines("frames")) ?? []

    @Test func allFramesLoaded() { #expect(Self.frames.count == 70) }

    @Test(arguments: frames)
    func decodesAndReencodes(_ line: JSONValue) throws {
        let name = (line["name"]?.stringValue ?? "?") + "/" + (line["serialize_type"]?.stringValue ?? "?")
        let wire = try Golden.bytes(hex: line["hex"]?.stringValue ?? "")
        let cmd = try RemotingFrame.decodeWithLengthPrefix(ByteBuffer(bytes: wire))
        let d = try #require(line["decoded"])
        #expect(cmd.code == d["code"]?.int32Value, "\(name)")
        #expect(cmd.flag == d["flag"]?.int32Value, "\(name)")
        #expect(cmd.opaque == d["opaque"]?.int32Value, "\(name)")
        #expect(cmd.version == d["version"]?.int32Value, "\(name)")
        #expect(cmd.language.name == d["language"]?.stringValue, "\(name)")
        #expect(cmd.remark == d["remark"]?.stringValue, "\(name)")
        #expect((cmd.body?.readableBytes ?? 0) == d["body_len"]?.intValue, "\(name)")
        if let ext = d["extFields"]?.objectMembers {
            var expected = ExtFields()
            for m in ext { expected[m.key.stringValue ?? ""] = m.value.stringValue }
            #expect(cmd.extFields == expected, "\(name)")
        } else {
            #expect(cmd.extFields == nil || cmd.extFields?.isEmpty == true, "\(name)")
        }
        // Re-encode: Java's socket bytes (NettyEncoder) or RemotingCommand.encode() bytes.
        var again = cmd
        if line["serialize_type"]?.stringValue == "ROCKETMQ", line["encode_same_as_wire"]?.boolValue == false {
            again.extFields?.binaryOrder = .insertion
        }
        if let explicit = line["input"]?["explicit_extFields"]?.objectMembers, !explicit.isEmpty {
            again.extFields?.javaInitialCapacity = 256  // Java's addExtField allocates HashMap(256)
        }
        let reencoded = Golden.hex(try RemotingFrame.encode(again).readableBytesView)
        #expect(reencoded == line["hex"]?.stringValue, "\(name)")
    }
}
