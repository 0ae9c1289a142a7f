import NIOCore
import RocketMQWire

/// A consumed message: the decoded store record with its body decompressed and the retry topic restored.
public struct ReceivedMessage: Sendable, Hashable {
    /// The topic (for a retried message, the original topic).
    public var topic: String
    /// The queue it was pulled from (for a retried message, the group's retry queue).
    public var queue: MessageQueue
    /// Its offset in that queue.
    public var queueOffset: Int64
    /// The payload, decompressed.
    public var body: ByteBuffer
    /// The tag, if any.
    public var tags: String?
    /// Business keys.
    public var keys: [String]
    /// All properties (system and user).
    public var properties: [String: String]
    /// The client message id (`UNIQ_KEY`), stable across retries; else the broker id.
    public var messageID: String
    /// The broker's id of this stored copy.
    public var offsetMessageID: String {
        get { offsetMessageIDText.text }
        set { offsetMessageIDText = HexIDText(newValue) }
    }
    /// ``offsetMessageID``, 16 bytes until read for an IPv4 store host (no string per message received).
    var offsetMessageIDText: HexIDText
    /// How many times it was delivered before (0 the first time).
    public var reconsumeTimes: Int32
    /// When the producer sent it (ms since 1970).
    public var bornTimestamp: Int64
    /// When the broker stored it (ms since 1970).
    public var storeTimestamp: Int64
    /// The producer's address.
    public var bornHost: String
    /// The broker's address.
    public var storeHost: String
    /// The commit-log offset (what CONSUMER_SEND_MSG_BACK refers to).
    public var commitLogOffset: Int64
    /// The user flag.
    public var flag: Int32
    /// The message's sysFlag with the compressed bit cleared.
    public var sysFlag: Int32

    init(record: MessageRecord, queue: MessageQueue, body: ByteBuffer) {
        self.init(
            record: record, queue: queue, body: body, bornHost: record.bornHost.description,
            storeHost: record.storeHost.description)
    }

    /// With the hosts' texts already made (``MessageHost/description``).
    init(record: MessageRecord, queue: MessageQueue, body: ByteBuffer, bornHost: String, storeHost: String) {
        // The record's properties are a short list: look up there, build the dictionary once.
        let wire = record.properties
        var properties = wire.dictionary
        topic = wire[MessageProperty.retryTopic] ?? record.topic
        self.queue = queue
        queueOffset = record.queueOffset
        self.body = body
        tags = wire[MessageProperty.tags]
        keys = wire[MessageProperty.keys].map { $0.split(separator: " ").map(String.init) } ?? []
        offsetMessageIDText = record.offsetMessageIDText
        messageID = wire[MessageProperty.uniqueKey] ?? offsetMessageIDText.text
        reconsumeTimes = record.reconsumeTimes
        bornTimestamp = record.bornTimestamp
        storeTimestamp = record.storeTimestamp
        self.bornHost = bornHost
        self.storeHost = storeHost
        commitLogOffset = record.commitLogOffset
        flag = record.flag
        sysFlag = record.sysFlag & ~MessageSysFlag.compressed
        if properties.count > 0 { properties.removeValue(forKey: "__NONE__") }
        self.properties = properties
    }
}
