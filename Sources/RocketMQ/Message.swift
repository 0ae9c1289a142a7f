import NIOCore
import RocketMQWire

/// A message to send.
///
/// The body is a `ByteBuffer` so it reaches the socket without copies; build one from a `String` or bytes with the
/// convenience initialisers.
public struct Message: Sendable, Hashable {
    /// The topic (without namespace; the client adds it).
    public var topic: String
    /// The payload.
    public var body: ByteBuffer
    /// One tag, used by brokers for server-side filtering.
    public var tags: String?
    /// Business keys (indexed by the broker for lookups), sent space-separated.
    public var keys: [String]
    /// An opaque user integer carried with the message.
    public var flag: Int32
    /// Delay level 1...18 (`1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h` on a default broker).
    public var delayLevel: Int32?
    /// Deliver at this time (milliseconds since 1970; RocketMQ 5 timer messages). Ignored with `delayLevel`.
    public var deliverAtMillis: Int64?
    /// Whether the broker should wait for the store to succeed before answering (`WAIT`, default true).
    public var waitStoreMessageOK: Bool
    /// User properties (names must not contain `\u{1}`/`\u{2}`, nor clash with system properties).
    public var properties: [String: String]

    /// Creates a message.
    public init(
        topic: String, body: ByteBuffer, tags: String? = nil, keys: [String] = [], flag: Int32 = 0,
        properties: [String: String] = [:]
    ) {
        self.topic = topic
        self.body = body
        self.tags = tags
        self.keys = keys
        self.flag = flag
        self.delayLevel = nil
        self.deliverAtMillis = nil
        self.waitStoreMessageOK = true
        self.properties = properties
    }

    /// Creates a message with a UTF-8 text body.
    public init(topic: String, string: String, tags: String? = nil, keys: [String] = [], properties: [String: String] = [:]) {
        self.init(topic: topic, body: ByteBuffer(string: string), tags: tags, keys: keys, properties: properties)
    }

    /// Creates a message from raw bytes.
    public init<Bytes: Sequence>(topic: String, bytes: Bytes, tags: String? = nil, keys: [String] = [], properties: [String: String] = [:])
    where Bytes.Element == UInt8 {
        self.init(topic: topic, body: ByteBuffer(bytes: bytes), tags: tags, keys: keys, properties: properties)
    }
}

/// How the broker stored a sent message.
public enum SendStatus: Sendable, Hashable {
    /// Stored.
    case ok
    /// Stored, but the synchronous flush to disk timed out (FLUSH_DISK_TIMEOUT).
    case flushDiskTimeout
    /// Stored, but replication to the slave timed out (FLUSH_SLAVE_TIMEOUT).
    case flushSlaveTimeout
    /// Stored, but no slave is available (SLAVE_NOT_AVAILABLE).
    case slaveNotAvailable
}

/// The result of a successful send.
public struct SendResult: Sendable, Hashable {
    /// How it was stored.
    public var status: SendStatus
    /// The client message id (`UNIQ_KEY`); for a batch, the ids joined with commas.
    public var messageID: String {
        get { messageIDText.text }
        set { messageIDText = HexIDText(newValue) }
    }
    /// ``messageID``, 16 bytes until read when it is an IPv4 id (no string per send).
    var messageIDText: HexIDText
    /// The broker's id of the stored message (store host + commit-log offset); for a batch, comma-joined.
    public var offsetMessageID: String {
        get { offsetMessageIDText.text }
        set { offsetMessageIDText = HexIDText(newValue) }
    }
    /// ``offsetMessageID`` as the broker's answer carried it: an IPv4 id stays 16 bytes until read (no string per send).
    var offsetMessageIDText: HexIDText
    /// The queue it was written to.
    public var queue: MessageQueue
    /// Its logical offset in that queue (the first one's, for a batch).
    public var queueOffset: Int64
    /// The broker's transaction id (= the UNIQ_KEY on 5.x brokers).
    public var transactionID: String? {
        get { transactionIDText?.text }
        set { transactionIDText = newValue.map(HexIDText.init) }
    }
    /// ``transactionID``, 16 bytes until read when it is an IPv4 id.
    var transactionIDText: HexIDText?
    /// The broker's region (`MSG_REGION`).
    public var regionID: String

    init(
        status: SendStatus, messageID: HexIDText, offsetMessageID: HexIDText, queue: MessageQueue, queueOffset: Int64,
        transactionID: HexIDText?, regionID: String
    ) {
        self.status = status
        self.messageIDText = messageID
        self.offsetMessageIDText = offsetMessageID
        self.queue = queue
        self.queueOffset = queueOffset
        self.transactionIDText = transactionID
        self.regionID = regionID
    }
}
