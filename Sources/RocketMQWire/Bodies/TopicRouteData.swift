/// One broker's queues of a topic (Java `QueueData`).
public struct QueueData: JSONBody, Hashable {
    /// Broker name.
    public var brokerName: String
    /// Queues consumers read.
    public var readQueueNums: Int32
    /// Queues producers write.
    public var writeQueueNums: Int32
    /// Permission bits: 4 read, 2 write, 1 inherit, 8 priority (6 = read/write).
    public var perm: Int32
    /// Topic sysFlag bits.
    public var topicSysFlag: Int32

    /// Permission bit: the queues may be read.
    public static let permRead: Int32 = 0x4
    /// Permission bit: the queues may be written.
    public static let permWrite: Int32 = 0x2

    /// Creates queue data.
    public init(brokerName: String, readQueueNums: Int32, writeQueueNums: Int32, perm: Int32 = 6, topicSysFlag: Int32 = 0) {
        self.brokerName = brokerName
        self.readQueueNums = readQueueNums
        self.writeQueueNums = writeQueueNums
        self.perm = perm
        self.topicSysFlag = topicSysFlag
    }

    /// Whether ``perm`` allows reading.
    public var isReadable: Bool { perm & Self.permRead != 0 }
    /// Whether ``perm`` allows writing.
    public var isWritable: Bool { perm & Self.permWrite != 0 }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "QueueData")
        brokerName = try r.string("brokerName")
        readQueueNums = try r.int32("readQueueNums")
        writeQueueNums = try r.int32("writeQueueNums")
        perm = try r.int32("perm")
        topicSysFlag = try r.int32("topicSysFlag")
    }

    public var json: JSONValue {
        jsonObject([
            ("brokerName", .string(brokerName)), ("perm", .int(perm)), ("readQueueNums", .int(readQueueNums)),
            ("topicSysFlag", .int(topicSysFlag)), ("writeQueueNums", .int(writeQueueNums)),
        ])
    }
}

/// One broker group of a route (Java `BrokerData`): its addresses by broker id (0 = master).
public struct BrokerData: JSONBody, Hashable {
    /// Cluster name.
    public var cluster: String
    /// Broker name.
    public var brokerName: String
    /// Address (`ip:port`) by broker id; id 0 is the master.
    public var brokerAddrs: [Int64: String]
    /// Zone, if configured.
    public var zoneName: String?
    /// Whether a slave acts as master while the master is down.
    public var enableActingMaster: Bool

    /// The master's broker id.
    public static let masterID: Int64 = 0

    /// Creates broker data.
    public init(
        cluster: String, brokerName: String, brokerAddrs: [Int64: String], zoneName: String? = nil,
        enableActingMaster: Bool = false
    ) {
        self.cluster = cluster
        self.brokerName = brokerName
        self.brokerAddrs = brokerAddrs
        self.zoneName = zoneName
        self.enableActingMaster = enableActingMaster
    }

    /// The master's address, if the broker group has one.
    public var masterAddress: String? { brokerAddrs[Self.masterID] }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "BrokerData")
        cluster = try r.optionalString("cluster") ?? ""
        brokerName = try r.string("brokerName")
        var addrs: [Int64: String] = [:]
        for member in try r.object("brokerAddrs") {
            guard let id = member.key.int64Value else {
                throw WireError(.malformedJSON, "BrokerData.brokerAddrs key is not a broker id")
            }
            if member.value.isNull { continue }
            guard let addr = member.value.scalarText else {
                throw WireError(.malformedJSON, "BrokerData.brokerAddrs[\(id)] is not a string")
            }
            addrs[id] = addr
        }
        brokerAddrs = addrs
        zoneName = try r.optionalString("zoneName")
        enableActingMaster = try r.bool("enableActingMaster", default: false)
    }

    /// Standard form (quoted keys in id order, as with fastjson's `MapSortField`).
    public var json: JSONValue { json(legacy: false) }

    /// The value in standard form, or in legacy form: bare numeric `brokerAddrs` keys in Java `HashMap<Long,String>`
    /// order.
    public func json(legacy: Bool) -> JSONValue {
        let ids: [Int64]
        if legacy {
            ids = JavaCompat.hashOrder(brokerAddrs.keys.sorted(), hashCode: JavaCompat.longHashCode)
        } else {
            ids = brokerAddrs.keys.sorted()
        }
        let addrs = JSONValue.object(
            ids.map { id in
                JSONValue.Member(key: legacy ? .int(id) : .string(String(id)), value: .string(brokerAddrs[id] ?? ""))
            })
        return jsonObject([
            ("brokerAddrs", addrs), ("brokerName", .string(brokerName)), ("cluster", .string(cluster)),
            ("enableActingMaster", .bool(enableActingMaster)), ("zoneName", .optional(zoneName)),
        ])
    }
}

/// The route of a topic as a name server returns it for GET_ROUTEINFO_BY_TOPIC (Java `TopicRouteData`).
///
/// `filterServerTable` is not modelled (always written as `{}`), nor is `topicQueueMappingByBroker` (static topics;
/// ignored when decoding).
public struct TopicRouteData: JSONBody, Hashable {
    /// How the name server writes the body.
    public enum Format: Sendable, Hashable {
        /// Standard JSON (request version >= V4_9_4 or `acceptStandardJsonOnly`): fastjson `BrowserCompatible`
        /// escaping, quoted `brokerAddrs` keys in id order.
        case standard
        /// Older fastjson output: bare numeric `brokerAddrs` keys (not valid JSON), no extra escaping.
        case legacy
    }

    /// `"brokerA:4;brokerB:4"` for ordered topics.
    public var orderTopicConf: String?
    /// The queue layout per broker, in the name server's order.
    public var queueDatas: [QueueData]
    /// The broker groups, in the name server's order.
    public var brokerDatas: [BrokerData]

    /// Creates route data.
    public init(orderTopicConf: String? = nil, queueDatas: [QueueData], brokerDatas: [BrokerData]) {
        self.orderTopicConf = orderTopicConf
        self.queueDatas = queueDatas
        self.brokerDatas = brokerDatas
    }

    public init(json: JSONValue) throws {
        let r = try JSONObjectReader(json, "TopicRouteData")
        orderTopicConf = try r.optionalString("orderTopicConf")
        queueDatas = try r.array("queueDatas").map(QueueData.init(json:))
        brokerDatas = try r.array("brokerDatas").map(BrokerData.init(json:))
    }

    /// The standard form.
    public var json: JSONValue { json(format: .standard) }

    /// The value in `format`; arrays keep their order.
    public func json(format: Format) -> JSONValue {
        jsonObject([
            ("brokerDatas", .array(brokerDatas.map { $0.json(legacy: format == .legacy) })),
            ("filterServerTable", .object([])),
            ("orderTopicConf", .optional(orderTopicConf)),
            ("queueDatas", .array(queueDatas.map(\.json))),
        ])
    }

    /// The standard form's bytes.
    public func encoded() -> [UInt8] { encoded(format: .standard) }

    /// The bytes in `format`, as the 5.3.3 name server writes them.
    public func encoded(format: Format) -> [UInt8] {
        JSONWriter.encode(json(format: format), browserCompatible: format == .standard)
    }
}
