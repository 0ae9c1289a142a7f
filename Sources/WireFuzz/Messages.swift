import NIOCore
import RocketMQWire

/// Message-format decoders: store records (pull bodies), decompression (bounded), batch bodies, properties, ids.
func fuzzMessages(_ payload: UnsafeRawBufferPointer) {
    let buffer = ByteBuffer(bytes: payload)
    let (records, _) = MessageRecord.decodeAll(buffer)
    for record in records {
        _ = try? record.decompressedBody(maxSize: 1 << 20)
        _ = try? record.encoded()
    }
    _ = try? MessageBatch.decode(buffer)
    if let text = String(validating: payload, as: UTF8.self) {
        _ = MessageProperties(parsing: text)
        _ = try? MessageID.decodeOffsetMessageID(text)
    }
    for type in CompressionType.allCases {
        _ = try? Compression.decompress(payload, type: type, maxSize: 1 << 20)
    }
}

extension FuzzSeeds {
    /// A stored record (zstd-compressed body) and a batch body.
    static var messageSeeds: [[UInt8]] {
        var seeds: [[UInt8]] = []
        let body = (try? Compression.compress(Array(repeating: UInt8(ascii: "x"), count: 512), type: .zstd, level: 3)) ?? []
        var props = MessageProperties()
        props[MessageProperty.tags] = "TagA"
        props[MessageProperty.uniqueKey] = "C0A8000230391B6D358647B760000001"
        let record = MessageRecord(
            topic: "FuzzTopic", body: ByteBuffer(bytes: body), properties: props, queueId: 1, queueOffset: 5,
            commitLogOffset: 1024, sysFlag: MessageSysFlag.flag(for: .zstd), bornTimestamp: 1_700_000_000_000,
            bornHost: MessageHost(ip: [127, 0, 0, 1], port: 54321), storeTimestamp: 1_700_000_000_007,
            storeHost: MessageHost(ip: [127, 0, 0, 1], port: 10911))
        if let encoded = try? record.encoded() {
            seeds.append([0] + Array(encoded.readableBytesView))
        }
        if let batch = try? MessageBatch.encode([
            BatchEntry(body: ByteBuffer(string: "one"), flag: 0, properties: props),
            BatchEntry(body: ByteBuffer(string: "two"), flag: 7, properties: props),
        ]) {
            seeds.append([1] + Array(batch.readableBytesView))
        }
        return seeds
    }
}
