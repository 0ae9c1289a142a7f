// The model of RocketMQ's message trace records (Java's `TraceContext` + `TraceBean`, one bean per record), as they
// travel in the bodies of the messages of the trace topic. The byte layout is in MessageTraceCodec.swift.

/// The kind of a trace record (Java's `TraceType`): its first field on the wire.
public enum MessageTraceType: String, Sendable, Hashable, CaseIterable {
    /// A message was sent and stored (written by producers after each successful send).
    case pub = "Pub"
    /// A message was recalled (written by Java producers; decoded here, never written by this client).
    case recall = "Recall"
    /// A consumer is about to hand a message to its handler.
    case subBefore = "SubBefore"
    /// A consumer's handler finished with a message (its outcome and how long it took).
    case subAfter = "SubAfter"
    /// A producer told the broker the outcome of a transactional message (END_TRANSACTION).
    case endTransaction = "EndTransaction"
}

/// What kind of message a trace record describes (Java's `MessageType`), written as its ordinal.
public enum MessageTraceMessageType: Int32, Sendable, Hashable, CaseIterable {
    /// An ordinary message (`Normal_Msg`, 0).
    case normal = 0
    /// A transactional half message (`Trans_Msg_Half`, 1): a ``Producer/sendInTransaction(_:execute:)`` send.
    case transactionHalf = 1
    /// The end of a transaction (`Trans_msg_Commit`, 2): what ``MessageTraceType/endTransaction`` records carry,
    /// whatever the outcome.
    case transactionCommit = 2
    /// A delayed or timed message (`Delay_Msg`, 3).
    case delay = 3
    /// An ordered message (`Order_Msg`, 4; Java 5.3 never writes it).
    case order = 4
}

/// How a consumer's handler ended, as ``MessageTraceRecord/contextCode`` of a ``MessageTraceType/subAfter`` record
/// carries it (the ordinal of Java's `ConsumeReturnType`).
public enum MessageTraceConsumeOutcome: Int32, Sendable, Hashable, CaseIterable {
    /// The handler answered success in time (`SUCCESS`, 0).
    case success = 0
    /// The handler answered, but after the consume timeout (15 minutes; `TIME_OUT`, 1).
    case timeout = 1
    /// The handler threw (`EXCEPTION`, 2).
    case exception = 2
    /// The handler answered nothing (`RETURNNULL`, 3; a Swift handler always answers).
    case returnedNull = 3
    /// The handler asked for a later redelivery (`FAILED`, 4).
    case failed = 4
}

/// One trace record: what one step of one message's life looked like (Java's `TraceContext` with one `TraceBean`).
///
/// Which fields a record carries on the wire depends on its ``type``; see ``MessageTraceCodec``. The others keep their
/// defaults when decoded. Fields Java leaves `null` (a message without tags or keys, say) are `nil` here and the text
/// `null` on the wire, as Java writes them.
public struct MessageTraceRecord: Sendable, Hashable {
    /// The kind of record.
    public var type: MessageTraceType
    /// When the step began (milliseconds since 1970): the send attempt, the handler's start, END_TRANSACTION.
    public var timestamp: Int64
    /// The broker's region (`MSG_REGION`; `DefaultRegion` when the broker names none).
    public var regionID: String
    /// The producer or consumer group (without namespace).
    public var groupName: String
    /// Ties a ``MessageTraceType/subBefore`` record to its ``MessageTraceType/subAfter`` (one per handled batch).
    public var requestID: String
    /// The message's topic (without namespace). Not written in ``MessageTraceType/subBefore`` and
    /// ``MessageTraceType/subAfter`` records, but used to batch them by topic.
    public var topic: String
    /// The client message id (`UNIQ_KEY`): what `mqadmin queryMsgTraceById` looks up.
    public var messageID: String
    /// The broker's id of the stored message (store host + commit-log offset).
    public var offsetMessageID: String
    /// The message's tag (`nil`: none, written `null`).
    public var tags: String?
    /// The message's keys, space-separated as in its `KEYS` property (`nil`: none, written `null`).
    public var keys: String?
    /// The address of the broker that stored the message.
    public var storeHost: String
    /// The address of the client (decoded from records that carry it; never written, as Java).
    public var clientHost: String
    /// The stored body's length in bytes (compressed when the body was).
    public var bodyLength: Int32
    /// How long the step took in milliseconds (a send attempt; a handler, divided among its batch's messages).
    public var costTime: Int32
    /// The kind of message.
    public var messageType: MessageTraceMessageType
    /// Whether the step succeeded (a send stored with `SEND_OK`; a handler answered success).
    public var success: Bool
    /// Deliveries of the message before this one (``MessageTraceType/subBefore``).
    public var retryTimes: Int32
    /// How the handler ended (``MessageTraceType/subAfter``): a ``MessageTraceConsumeOutcome`` raw value.
    public var contextCode: Int32
    /// The transaction's id (``MessageTraceType/endTransaction``; `nil` written `null`).
    public var transactionID: String?
    /// The outcome told to the broker (``MessageTraceType/endTransaction``; written as Java's `LocalTransactionState`:
    /// `COMMIT_MESSAGE`, `ROLLBACK_MESSAGE`, `UNKNOW`).
    public var transactionState: TransactionResolution
    /// Whether the outcome answered a broker's check (``MessageTraceType/endTransaction``).
    public var fromTransactionCheck: Bool

    /// Creates a record of `type` with every other field at its default (Java's defaults: empty texts, zeros,
    /// success, a normal message, an unknown transaction state).
    public init(type: MessageTraceType, timestamp: Int64 = 0) {
        self.type = type
        self.timestamp = timestamp
        regionID = ""
        groupName = ""
        requestID = ""
        topic = ""
        messageID = ""
        offsetMessageID = ""
        tags = nil
        keys = nil
        storeHost = ""
        clientHost = ""
        bodyLength = 0
        costTime = 0
        messageType = .normal
        success = true
        retryTimes = 0
        contextCode = 0
        transactionID = nil
        transactionState = .unknown
        fromTransactionCheck = false
    }
}

extension TransactionResolution {
    /// The name of Java's `LocalTransactionState` constant.
    var javaName: String {
        switch self {
        case .commit: "COMMIT_MESSAGE"
        case .rollback: "ROLLBACK_MESSAGE"
        case .unknown: "UNKNOW"
        }
    }

    /// The resolution named by a Java `LocalTransactionState` constant.
    init?(javaName: Substring) {
        switch javaName {
        case "COMMIT_MESSAGE": self = .commit
        case "ROLLBACK_MESSAGE": self = .rollback
        case "UNKNOW": self = .unknown
        default: return nil
        }
    }
}
