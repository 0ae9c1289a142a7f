/// A message queue in JSON bodies (Java `MessageQueue`): `{"brokerName":..,"queueId":..,"topic":..}`.
public struct MessageQueueData: JSONBody, Hashable, Comparable {
    /// Topic.
    public var topic: String
    /// Broker name.
    public var brokerName: String
    /// Queue id.
    public var queueId: Int32

    /// Creates a queue.
    public init(topic: String, brokerName: String, queueId: Int32) {
        self.topic = topic
        self.brokerName = brokerName
        self.queueId = queueId
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "MessageQueue")
        topic = try r.string("topic")
        brokerName = try r.string("brokerName")
        queueId = try r.int32("queueId")
    }

    public var json: JSONValue {
        jsonObject([("brokerName", .string(brokerName)), ("queueId", .int(queueId)), ("topic", .string(topic))])
    }

    /// Java's `MessageQueue.hashCode()`, used for `HashSet`/`HashMap` ordering.
    public var javaHashCode: Int32 {
        var h: Int32 = 1
        h = 31 &* h &+ JavaCompat.stringHashCode(brokerName)
        h = 31 &* h &+ queueId
        h = 31 &* h &+ JavaCompat.stringHashCode(topic)
        return h
    }

    /// Java's `MessageQueue.compareTo`: topic, then broker name, then queue id (the order rebalancing sorts by).
    public static func < (lhs: MessageQueueData, rhs: MessageQueueData) -> Bool {
        if lhs.topic != rhs.topic { return javaCompare(lhs.topic, rhs.topic) < 0 }
        if lhs.brokerName != rhs.brokerName { return javaCompare(lhs.brokerName, rhs.brokerName) < 0 }
        return lhs.queueId < rhs.queueId
    }

    /// Java's `String.compareTo`: lexicographic over UTF-16 code units.
    private static func javaCompare(_ a: String, _ b: String) -> Int {
        var ia = a.utf16.makeIterator()
        var ib = b.utf16.makeIterator()
        while true {
            switch (ia.next(), ib.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?): if x != y { return Int(x) - Int(y) }
            }
        }
    }
}

/// Writes queues as a Java `HashSet<MessageQueue>` iterates them.
private func queueSetJSON(_ queues: [MessageQueueData]) -> JSONValue {
    .array(JavaCompat.hashOrder(queues, hashCode: \.javaHashCode).map(\.json))
}

/// The body of a GET_CONSUMER_LIST_BY_GROUP response (Java `GetConsumerListByGroupResponseBody`).
public struct ConsumerListBody: JSONBody, Hashable {
    /// One client id per registered channel, in the broker's order.
    public var consumerIdList: [String]

    /// Creates the body.
    public init(consumerIdList: [String]) { self.consumerIdList = consumerIdList }

    public init(json: JSONValue) throws {
        consumerIdList = try JSONObjectReader(json, "GetConsumerListByGroupResponseBody").stringArray("consumerIdList")
    }

    public var json: JSONValue {
        jsonObject([("consumerIdList", .array(consumerIdList.map(JSONValue.string)))])
    }
}

/// The body of LOCK_BATCH_MQ (41) (Java `LockBatchRequestBody`).
public struct LockBatchRequestBody: JSONBody, Hashable {
    /// Consumer group.
    public var consumerGroup: String
    /// The locking client.
    public var clientId: String
    /// Lock on this broker only (set by brokers forwarding to replicas).
    public var onlyThisBroker: Bool
    /// The queues to lock; written in Java `HashSet` order.
    public var mqSet: [MessageQueueData]

    /// Creates the body.
    public init(consumerGroup: String, clientId: String, onlyThisBroker: Bool = false, mqSet: [MessageQueueData]) {
        self.consumerGroup = consumerGroup
        self.clientId = clientId
        self.onlyThisBroker = onlyThisBroker
        self.mqSet = mqSet
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "LockBatchRequestBody/UnlockBatchRequestBody")
        consumerGroup = try r.string("consumerGroup")
        clientId = try r.string("clientId")
        onlyThisBroker = try r.bool("onlyThisBroker", default: false)
        mqSet = try r.array("mqSet").map(MessageQueueData.init(json:))
    }

    public var json: JSONValue {
        jsonObject([
            ("clientId", .string(clientId)), ("consumerGroup", .string(consumerGroup)), ("mqSet", queueSetJSON(mqSet)),
            ("onlyThisBroker", .bool(onlyThisBroker)),
        ])
    }
}

/// The body of UNLOCK_BATCH_MQ (42): the same fields and JSON as LOCK_BATCH_MQ's (Java `UnlockBatchRequestBody`).
public typealias UnlockBatchRequestBody = LockBatchRequestBody

/// The body of a LOCK_BATCH_MQ response (Java `LockBatchResponseBody`): the queues the client now holds.
public struct LockBatchResponseBody: JSONBody, Hashable {
    /// The locked queues; written in Java `HashSet` order.
    public var lockOKMQSet: [MessageQueueData]

    /// Creates the body.
    public init(lockOKMQSet: [MessageQueueData]) { self.lockOKMQSet = lockOKMQSet }

    public init(json: JSONValue) throws {
        lockOKMQSet = try JSONObjectReader(json, "LockBatchResponseBody").array("lockOKMQSet")
            .map(MessageQueueData.init(json:))
    }

    public var json: JSONValue { jsonObject([("lockOKMQSet", queueSetJSON(lockOKMQSet))]) }
}

/// The outcome of CONSUME_MESSAGE_DIRECTLY (Java `CMResult`); unknown names are kept.
public struct CMResult: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The Java enum name.
    public var rawValue: String
    /// Wraps an enum name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Consumed.
    public static let success = CMResult(rawValue: "CR_SUCCESS")
    /// Consume later.
    public static let later = CMResult(rawValue: "CR_LATER")
    /// Orderly consumer asked to roll back.
    public static let rollback = CMResult(rawValue: "CR_ROLLBACK")
    /// Orderly consumer committed.
    public static let commit = CMResult(rawValue: "CR_COMMIT")
    /// The listener threw.
    public static let throwException = CMResult(rawValue: "CR_THROW_EXCEPTION")
    /// The listener returned nothing.
    public static let returnNull = CMResult(rawValue: "CR_RETURN_NULL")

    public var description: String { rawValue }
}

/// The body of a CONSUME_MESSAGE_DIRECTLY response (Java `ConsumeMessageDirectlyResult`).
public struct ConsumeMessageDirectlyResult: JSONBody, Hashable {
    /// Whether an orderly listener consumed it.
    public var order: Bool
    /// Orderly consumers: auto-commit setting.
    public var autoCommit: Bool
    /// The outcome.
    public var consumeResult: CMResult?
    /// Details (e.g. an exception's text).
    public var remark: String?
    /// Time spent consuming, in ms (Java's spelling).
    public var spentTimeMills: Int64

    /// Creates a result.
    public init(
        order: Bool = false, autoCommit: Bool = true, consumeResult: CMResult?, remark: String? = nil,
        spentTimeMills: Int64 = 0
    ) {
        self.order = order
        self.autoCommit = autoCommit
        self.consumeResult = consumeResult
        self.remark = remark
        self.spentTimeMills = spentTimeMills
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "ConsumeMessageDirectlyResult")
        order = try r.bool("order", default: false)
        autoCommit = try r.bool("autoCommit", default: true)
        consumeResult = try r.optionalString("consumeResult").map(CMResult.init(rawValue:))
        remark = try r.optionalString("remark")
        spentTimeMills = try r.int64("spentTimeMills")
    }

    public var json: JSONValue {
        jsonObject([
            ("autoCommit", .bool(autoCommit)), ("consumeResult", .optional(consumeResult?.rawValue)),
            ("order", .bool(order)), ("remark", .optional(remark)), ("spentTimeMills", .int(spentTimeMills)),
        ])
    }
}

/// The body of RESET_CONSUMER_CLIENT_OFFSET (220) (Java `ResetOffsetBody`): offsets keyed by queue.
///
/// fastjson writes the map with **JSON objects as keys** (`{"offsetTable":{{"brokerName":..}:100}}`, not valid JSON);
/// decoding also accepts the list form the broker sends to CPP clients (`ResetOffsetBodyForC`:
/// `{"offsetTable":[{"brokerName":..,"offset":100,"queueId":0,"topic":..}]}`).
public struct ResetOffsetBody: JSONBody, Hashable {
    /// The offset to reset each queue to.
    public var offsetTable: [MessageQueueData: Int64]

    /// Creates the body.
    public init(offsetTable: [MessageQueueData: Int64]) { self.offsetTable = offsetTable }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "ResetOffsetBody")
        var table: [MessageQueueData: Int64] = [:]
        switch r.value("offsetTable") {
        case nil:
            break
        case .object(let members)?:
            for member in members {
                let queue = try MessageQueueData(json: member.key)
                guard let offset = member.value.int64Value else {
                    throw WireError(.malformedJSON, "ResetOffsetBody.offsetTable value is not a 64-bit integer")
                }
                table[queue] = offset
            }
        case .array(let entries)?:
            for entry in entries {
                let queue = try MessageQueueData(json: entry)
                table[queue] = try JSONObjectReader(entry, "ResetOffsetBodyForC entry").int64("offset")
            }
        default:
            throw WireError(.malformedJSON, "ResetOffsetBody.offsetTable is neither an object nor an array")
        }
        offsetTable = table
    }

    /// The fastjson form (object keys) in Java `HashMap<MessageQueue, Long>` order.
    public var json: JSONValue {
        let queues = JavaCompat.hashOrder(offsetTable.keys.sorted(), hashCode: \.javaHashCode)
        let members = queues.map { JSONValue.Member(key: $0.json, value: .int(offsetTable[$0] ?? 0)) }
        return jsonObject([("offsetTable", .object(members))])
    }
}
