import NIOCore
import RocketMQWire

/// Well-formed inputs the mutation run starts from (the first byte selects the decoder).
enum FuzzSeeds {
    static var all: [[UInt8]] {
        var seeds: [[UInt8]] = []
        for type in [SerializeType.json, .rocketmq] {
            var command = RemotingCommand.request(
                .sendMessageV2, opaque: 7, extFields: ["a": "PG", "b": "Topic", "i": "TAGS\u{1}A\u{2}"],
                body: ByteBuffer(string: "hello"))
            command.serializeType = type
            if let frame = try? RemotingFrame.encode(command) {
                let bytes = Array(frame.readableBytesView)
                seeds.append([0] + bytes)
                seeds.append([1] + bytes.dropFirst(4))
            }
        }
        seeds.append([2] + Array(#"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"b"}],"queueDatas":[]}"#.utf8))
        seeds.append(contentsOf: messageSeeds)
        return seeds
    }
}
