// Bodies of the operator queries: GET_CONSUME_STATS, GET_TOPIC_STATS_INFO, GET_CONSUMER_CONNECTION_LIST and
// GET_ALL_TOPIC_LIST_FROM_NAMESERVER.
//
// fastjson writes a `Map<MessageQueue, V>` with **JSON objects as keys**
// (`{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{...}}}`), which ``JSONParser`` reads; the maps the
// broker fills are `ConcurrentHashMap`s, written here in that class's iteration order.

/// One queue's offsets of a consumer group (Java `OffsetWrapper`).
public struct OffsetWrapper: JSONBody, Hashable {
    /// The queue's max offset on the broker (the next offset to be written).
    public var brokerOffset: Int64
    /// The group's committed offset (0 when it has none).
    public var consumerOffset: Int64
    /// The offset the group's last pull reached (never below ``consumerOffset``).
    public var pullOffset: Int64
    /// Store time of the last consumed message (the one at ``consumerOffset`` − 1), in ms; 0 when unknown.
    public var lastTimestamp: Int64

    /// Creates offsets.
    public init(brokerOffset: Int64, consumerOffset: Int64, pullOffset: Int64, lastTimestamp: Int64 = 0) {
        self.brokerOffset = brokerOffset
        self.consumerOffset = consumerOffset
        self.pullOffset = pullOffset
        self.lastTimestamp = lastTimestamp
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "OffsetWrapper")
        brokerOffset = try r.int64("brokerOffset")
        consumerOffset = try r.int64("consumerOffset")
        pullOffset = try r.int64("pullOffset")
        lastTimestamp = try r.int64("lastTimestamp")
    }

    public var json: JSONValue {
        jsonObject([
            ("brokerOffset", .int(brokerOffset)), ("consumerOffset", .int(consumerOffset)),
            ("lastTimestamp", .int(lastTimestamp)), ("pullOffset", .int(pullOffset)),
        ])
    }

    /// Messages not yet consumed: ``brokerOffset`` − ``consumerOffset`` (wrapping like Java's `long`).
    public var diff: Int64 { brokerOffset &- consumerOffset }
}

/// The body of a GET_CONSUME_STATS response (Java `ConsumeStats`): a consumer group's offsets per queue on one broker.
public struct ConsumeStats: JSONBody, Hashable {
    /// Offsets by queue.
    public var offsetTable: [MessageQueueData: OffsetWrapper]
    /// Messages the group got per second (the broker's recent rate).
    public var consumeTps: Double

    /// Creates stats.
    public init(offsetTable: [MessageQueueData: OffsetWrapper] = [:], consumeTps: Double = 0) {
        self.offsetTable = offsetTable
        self.consumeTps = consumeTps
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "ConsumeStats")
        offsetTable = try queueTable(r, "offsetTable", OffsetWrapper.init(json:))
        consumeTps = try r.double("consumeTps")
    }

    /// fastjson's form: `consumeTps` as Java's `Double.toString`, the table in `ConcurrentHashMap` order.
    public var json: JSONValue {
        jsonObject([("consumeTps", .javaDouble(consumeTps)), ("offsetTable", queueTableJSON(offsetTable))])
    }

    /// Java's `computeTotalDiff` (the "Consume Diff Total" / lag): the sum over queues of broker offset minus
    /// consumer offset, negative differences included, wrapping like Java's `long`.
    public func computeTotalDiff() -> Int64 {
        offsetTable.values.reduce(Int64(0)) { $0 &+ $1.diff }
    }

    /// Java's `computeInflightTotalDiff`: the sum over queues of pull offset minus consumer offset.
    public func computeInflightTotalDiff() -> Int64 {
        offsetTable.values.reduce(Int64(0)) { $0 &+ ($1.pullOffset &- $1.consumerOffset) }
    }
}

/// One queue's offsets on a broker (Java `TopicOffset`).
public struct TopicOffset: JSONBody, Hashable {
    /// The queue's first offset still stored.
    public var minOffset: Int64
    /// The queue's max offset (the next offset to be written).
    public var maxOffset: Int64
    /// Store time of the queue's last message, in ms; 0 for an empty queue.
    public var lastUpdateTimestamp: Int64

    /// Creates offsets.
    public init(minOffset: Int64, maxOffset: Int64, lastUpdateTimestamp: Int64 = 0) {
        self.minOffset = minOffset
        self.maxOffset = maxOffset
        self.lastUpdateTimestamp = lastUpdateTimestamp
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "TopicOffset")
        minOffset = try r.int64("minOffset")
        maxOffset = try r.int64("maxOffset")
        lastUpdateTimestamp = try r.int64("lastUpdateTimestamp")
    }

    public var json: JSONValue {
        jsonObject([
            ("lastUpdateTimestamp", .int(lastUpdateTimestamp)), ("maxOffset", .int(maxOffset)),
            ("minOffset", .int(minOffset)),
        ])
    }
}

/// The body of a GET_TOPIC_STATS_INFO response (Java `TopicStatsTable`): a topic's offsets per queue on one broker.
public struct TopicStatsTable: JSONBody, Hashable {
    /// Offsets by queue.
    public var offsetTable: [MessageQueueData: TopicOffset]
    /// Messages put per second (the broker's recent rate).
    public var topicPutTps: Double

    /// Creates a table.
    public init(offsetTable: [MessageQueueData: TopicOffset] = [:], topicPutTps: Double = 0) {
        self.offsetTable = offsetTable
        self.topicPutTps = topicPutTps
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "TopicStatsTable")
        offsetTable = try queueTable(r, "offsetTable", TopicOffset.init(json:))
        topicPutTps = try r.double("topicPutTps")
    }

    /// fastjson's form: the table in `ConcurrentHashMap` order, `topicPutTps` as Java's `Double.toString`.
    public var json: JSONValue {
        jsonObject([("offsetTable", queueTableJSON(offsetTable)), ("topicPutTps", .javaDouble(topicPutTps))])
    }
}

/// One connected client of a consumer group (Java `Connection`).
public struct Connection: JSONBody, Hashable {
    /// The client id (`ip@instance`).
    public var clientId: String?
    /// The client's address as the broker sees it (`ip:port`).
    public var clientAddr: String?
    /// The client's language (from its heartbeat); nil when absent or a name Java does not define.
    public var language: LanguageCode?
    /// The client's MQVersion ordinal (from its heartbeat).
    public var version: Int32

    /// Creates a connection.
    public init(clientId: String?, clientAddr: String?, language: LanguageCode?, version: Int32) {
        self.clientId = clientId
        self.clientAddr = clientAddr
        self.language = language
        self.version = version
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "Connection")
        clientId = try r.optionalString("clientId")
        clientAddr = try r.optionalString("clientAddr")
        // fastjson reads an enum from its name or its ordinal; an unknown name reads as null.
        switch r.value("language") {
        case .string(let name)?: language = LanguageCode(name: name)
        case .number(let n)?: language = UInt8(n).map(LanguageCode.init(rawValue:)).flatMap { $0.name == nil ? nil : $0 }
        case nil: language = nil
        default: throw WireError(.malformedJSON, "Connection.language is not an enum name")
        }
        version = try r.int32("version")
    }

    public var json: JSONValue {
        jsonObject([
            ("clientAddr", .optional(clientAddr)), ("clientId", .optional(clientId)),
            ("language", .optional(language?.name)), ("version", .int(version)),
        ])
    }
}

/// The body of a GET_CONSUMER_CONNECTION_LIST response (Java `ConsumerConnection`): a consumer group's connected
/// clients on one broker and what the group registered.
public struct ConsumerConnection: JSONBody, Hashable {
    /// One entry per connected client (a Java `HashSet` of identity-hashed objects: written in the order given).
    public var connectionSet: [Connection]
    /// The group's subscription of each topic.
    public var subscriptionTable: [String: SubscriptionData]
    /// Pull, push or pop.
    public var consumeType: ConsumeType?
    /// Clustering or broadcasting.
    public var messageModel: MessageModel?
    /// Where a new group starts.
    public var consumeFromWhere: ConsumeFromWhere?

    /// Creates the body.
    public init(
        connectionSet: [Connection] = [], subscriptionTable: [String: SubscriptionData] = [:],
        consumeType: ConsumeType? = nil, messageModel: MessageModel? = nil, consumeFromWhere: ConsumeFromWhere? = nil
    ) {
        self.connectionSet = connectionSet
        self.subscriptionTable = subscriptionTable
        self.consumeType = consumeType
        self.messageModel = messageModel
        self.consumeFromWhere = consumeFromWhere
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "ConsumerConnection")
        connectionSet = try r.array("connectionSet").map(Connection.init(json:))
        var table: [String: SubscriptionData] = [:]
        for member in try r.object("subscriptionTable") {
            guard let topic = member.key.scalarText else {
                throw WireError(.malformedJSON, "ConsumerConnection.subscriptionTable key is not a topic name")
            }
            table[topic] = try SubscriptionData(json: member.value)
        }
        subscriptionTable = table
        consumeType = try r.optionalString("consumeType").map(ConsumeType.init(rawValue:))
        messageModel = try r.optionalString("messageModel").map(MessageModel.init(rawValue:))
        consumeFromWhere = try r.optionalString("consumeFromWhere").map(ConsumeFromWhere.init(rawValue:))
    }

    /// fastjson's form; `subscriptionTable` in the order of the `ConcurrentHashMap` the broker fills with one `putAll`.
    public var json: JSONValue {
        let topics = JavaCompat.concurrentHashMapOrder(
            subscriptionTable.keys.sorted(), presizedFor: subscriptionTable.count, hashCode: JavaCompat.stringHashCode)
        let table = topics.compactMap { topic in
            subscriptionTable[topic].map { JSONValue.Member(key: .string(topic), value: $0.json) }
        }
        return jsonObject([
            ("connectionSet", .array(connectionSet.map(\.json))),
            ("consumeFromWhere", .optional(consumeFromWhere?.rawValue)),
            ("consumeType", .optional(consumeType?.rawValue)), ("messageModel", .optional(messageModel?.rawValue)),
            ("subscriptionTable", .object(table)),
        ])
    }

    /// Java's `computeMinVersion`: the lowest client version, `Int32.max` without connections.
    public func computeMinVersion() -> Int32 {
        connectionSet.map(\.version).min() ?? .max
    }
}

/// The body of a GET_ALL_TOPIC_LIST_FROM_NAMESERVER response (Java `TopicList`).
public struct TopicList: JSONBody, Hashable {
    /// The topic names (a Java set: duplicates are written once).
    public var topicList: [String]
    /// The broker the list is of (nil from the name server).
    public var brokerAddr: String?

    /// Creates the body.
    public init(topicList: [String], brokerAddr: String? = nil) {
        self.topicList = topicList
        self.brokerAddr = brokerAddr
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "TopicList")
        topicList = try r.stringArray("topicList")
        brokerAddr = try r.optionalString("brokerAddr")
    }

    /// fastjson's form; `topicList` in the order of a `ConcurrentHashMap.newKeySet()` filled in the order given.
    public var json: JSONValue {
        let topics = JavaCompat.concurrentHashMapOrder(topicList, hashCode: JavaCompat.stringHashCode)
        return jsonObject([("brokerAddr", .optional(brokerAddr)), ("topicList", .array(topics.map(JSONValue.string)))])
    }
}

// MARK: - Queue-keyed maps

/// Reads a `Map<MessageQueue, V>` member: an object whose keys are queue objects (fastjson's form); absent or `null`
/// reads as empty, the last of duplicate queues wins.
private func queueTable<V>(
    _ r: JSONObjectReader, _ key: String, _ decode: (JSONValue) throws -> V
) throws -> [MessageQueueData: V] {
    let what = "\(r.what).\(key)"
    guard let value = r.value(key) else { return [:] }
    guard case .object(let members) = value else { throw WireError(.malformedJSON, "\(what) is not an object") }
    var table: [MessageQueueData: V] = [:]
    for member in members {
        guard case .object = member.key else { throw WireError(.malformedJSON, "\(what) key is not a MessageQueue object") }
        table[try MessageQueueData(json: member.key)] = try decode(member.value)
    }
    return table
}

/// Writes a `Map<MessageQueue, V>` as fastjson does (queue objects as keys), in the iteration order of the
/// `ConcurrentHashMap` the broker fills queue by queue (queues put in `MessageQueue` order).
private func queueTableJSON<V: JSONBody>(_ table: [MessageQueueData: V]) -> JSONValue {
    let queues = JavaCompat.concurrentHashMapOrder(table.keys.sorted(), hashCode: \.javaHashCode)
    return .object(queues.compactMap { queue in table[queue].map { JSONValue.Member(key: queue.json, value: $0.json) } })
}

// MARK: - Doubles

extension JSONObjectReader {
    /// A Java `double` member: a number (or a string holding a decimal number); absent or `null` reads as `def`.
    func double(_ key: String, default def: Double = 0) throws -> Double {
        guard let v = value(key) else { return def }
        switch v {
        case .number(let text):
            if let d = Double(text) { return d }
        case .string(let text) where text.utf8.allSatisfy({ "0123456789+-.eE".utf8.contains($0) }):
            if let d = Double(text) { return d }
        default:
            break
        }
        throw WireError(.malformedJSON, "\(what).\(key) is not a number")
    }
}

extension JSONValue {
    /// A `double` as fastjson writes it: Java's `Double.toString` (`0.0`, `1.5`, `1.0E7`); `null` for NaN and
    /// infinities.
    static func javaDouble(_ value: Double) -> JSONValue {
        value.isFinite ? .number(JavaCompat.doubleText(value)) : .null
    }
}

extension JavaCompat {
    /// Java's `Double.toString` for a finite value: the shortest digits that round-trip, as a plain decimal with at
    /// least one fractional digit when 10^-3 <= |value| < 10^7, else as `d.dddE<n>`.
    static func doubleText(_ value: Double) -> String {
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description has the same shortest digits; only the layout differs.
        var text = "\(value.magnitude)"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let integer = parts.first.map(String.init) ?? ""
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = Array(integer + fraction)
        var point = integer.count + exponent  // value = 0.<digits> x 10^point
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        if digits.isEmpty { return value.sign == .minus ? "-0.0" : "0.0" }
        let sign = value.sign == .minus ? "-" : ""
        let scientific = point - 1
        if scientific >= -3 && scientific < 7 {
            if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
            if point >= digits.count { return sign + String(digits) + String(repeating: "0", count: point - digits.count) + ".0" }
            return sign + String(digits[..<point]) + "." + String(digits[point...])
        }
        let rest = digits.count > 1 ? String(digits[1...]) : "0"
        return sign + String(digits[0]) + "." + rest + "E" + String(scientific)
    }

    /// The iteration order of a `java.util.concurrent.ConcurrentHashMap` (or its key set) made with the default
    /// constructor and filled with `elements` in this order, given each element's Java `hashCode()`.
    ///
    /// Equal elements keep their first position. The table starts at 16 buckets (or, for an empty map filled by one
    /// `putAll` of `presizedFor` entries, at the size `tryPresize` leaves) and doubles once the count reaches 3/4 of
    /// it; a resize splits each bin the way `transfer` does (the bin's last same-direction run keeps its order, the
    /// nodes before it are prepended in turn). Bins Java would turn into trees (8+ colliding entries) are not
    /// modelled.
    static func concurrentHashMapOrder<T: Hashable>(
        _ elements: [T], presizedFor presize: Int? = nil, hashCode: (T) -> Int32
    ) -> [T] {
        var unique: [T] = []
        var seen = Set<T>()
        for e in elements where seen.insert(e).inserted { unique.append(e) }
        guard unique.count > 1 else { return unique }
        var capacity = 16
        if let presize, presize > 0, presize < 1 << 29 {
            // tryPresize makes a table of tableSizeFor(size + size/2 + 1), then (its loop finding that below the new
            // threshold) doubles it once before the entries go in.
            capacity = 1
            while capacity < presize + presize / 2 + 1 { capacity <<= 1 }
            capacity <<= 1
        }
        var table = [[(element: T, hash: UInt32)]](repeating: [], count: capacity)
        var count = 0
        for element in unique {
            let h = UInt32(bitPattern: hashCode(element))
            let spread = (h ^ (h >> 16)) & 0x7FFF_FFFF
            table[Int(spread & UInt32(capacity - 1))].append((element, spread))
            count += 1
            while count >= capacity - (capacity >> 2) {
                var grown = [[(element: T, hash: UInt32)]](repeating: [], count: capacity * 2)
                for (index, bin) in table.enumerated() where !bin.isEmpty {
                    let bit = UInt32(capacity)
                    var lastRun = bin.count - 1
                    while lastRun > 0 && (bin[lastRun - 1].hash & bit) == (bin[lastRun].hash & bit) { lastRun -= 1 }
                    var low: [(element: T, hash: UInt32)] = []
                    var high: [(element: T, hash: UInt32)] = []
                    if bin[lastRun].hash & bit == 0 { low = Array(bin[lastRun...]) } else { high = Array(bin[lastRun...]) }
                    for node in bin[..<lastRun] {
                        if node.hash & bit == 0 { low.insert(node, at: 0) } else { high.insert(node, at: 0) }
                    }
                    grown[index] = low
                    grown[index + capacity] = high
                }
                table = grown
                capacity *= 2
            }
        }
        return table.flatMap { $0.map(\.element) }
    }
}
