import NIOCore
import Testing

@testable import RocketMQWire

@Suite("RemotingCommand framing")
struct RemotingCommandTests {
    /// PROTOCOL.md §1.5: GET_ROUTEINFO_BY_TOPIC, opaque 1, version 479, extFields {"topic":"T"}.
    @Test func protocolExampleFrames() throws {
        var cmd = RemotingCommand.request(.getRouteInfoByTopic, opaque: 1, extFields: ["topic": "T"])
        cmd.serializeType = .rocketmq
        let binary = try RemotingFrame.encode(cmd)
        #expect(Golden.hex(binary.readableBytesView) == "0000002501000021006900" + "01df" + "00000001" + "00000000"
            + "00000000" + "0000000c" + "0005746f706963" + "0000000154")
        cmd.serializeType = .json
        let json = try RemotingFrame.encode(cmd)
        let text = #"{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":479}"#
        #expect(Array(json.readableBytesView) == [0, 0, 0, 0x7F, 0, 0, 0, 0x7B] + Array(text.utf8))
    }

    @Test(arguments: [SerializeType.json, .rocketmq])
    func roundTrip(type: SerializeType) throws {
        var cmd = RemotingCommand(
            code: 310, language: .go, version: 479, opaque: -7, flag: 2, remark: "hé\u{1}",
            extFields: ["a": "PG", "b": "Topic", "i": "TAGS\u{1}A\u{2}"], body: ByteBuffer(string: "body"))
        cmd.serializeType = type
        let decoded = try RemotingFrame.decodeWithLengthPrefix(try RemotingFrame.encode(cmd))
        #expect(decoded == cmd)
        #expect(decoded.isOneway && !decoded.isResponse)
    }

    @Test func emptyExtFieldsSurviveJSONButNotBinary() throws {
        var cmd = RemotingCommand.request(.heartBeat, opaque: 3, extFields: ExtFields())
        let json = try RemotingFrame.decodeWithLengthPrefix(try RemotingFrame.encode(cmd))
        #expect(json.extFields == ExtFields())
        cmd.serializeType = .rocketmq
        let binary = try RemotingFrame.decodeWithLengthPrefix(try RemotingFrame.encode(cmd))
        #expect(binary.extFields == nil)  // Java decodes an empty map block as null
    }

    @Test func oversizedAndNegativeLengthsAreRejected() throws {
        var big = ByteBuffer()
        big.writeInteger(Int32(0x7FFF_FFFF))
        big.writeInteger(Int32(0))
        #expect(throws: WireError.self) { _ = try RemotingFrame.split(&big) }
        var negative = ByteBuffer()
        negative.writeInteger(Int32(-1))
        #expect(throws: WireError.self) { _ = try RemotingFrame.split(&negative) }
        // The largest frame Java accepts is 16 MiB including the prefix.
        var edge = ByteBuffer()
        edge.writeInteger(Int32(16_777_212))
        #expect(try RemotingFrame.split(&edge) == nil)  // accepted, waiting for bytes
        var over = ByteBuffer()
        over.writeInteger(Int32(16_777_213))
        #expect(throws: WireError.self) { _ = try RemotingFrame.split(&over) }
    }
}

@Suite("MQVersion names")
struct MQVersionNameTests {
    @Test("Java's MQVersion.getVersionDesc for the 4.x and 5.x ordinals")
    func versionNames() {
        // Ordinals from MQVersion.Version in rocketmq-all-5.3.3.
        let expected: [(Int32, String)] = [
            (212, "V4_0_0_SNAPSHOT"), (213, "V4_0_0"), (409, "V4_9_8"), (413, "V5_0_0"), (475, "V5_3_1"),
            (478, "V5_3_3_SNAPSHOT"), (479, "V5_3_3"), (611, "V5_9_9"), (612, "HIGHER_VERSION"), (17, "MQVersion(17)"),
        ]
        for (ordinal, name) in expected { #expect(MQVersion(rawValue: ordinal).description == name) }
    }
}
