import NIOCore
import Testing

@testable import RocketMQWire

/// The operator queries' headers and bodies: QUERY_MESSAGE, VIEW_MESSAGE_BY_ID, GET_CONSUME_STATS,
/// GET_TOPIC_STATS_INFO, GET_CONSUMER_CONNECTION_LIST, GET_ALL_TOPIC_LIST_FROM_NAMESERVER.
@Suite("Operator query headers and bodies")
struct AdminBodyTests {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
    static func queue(_ id: Int32) -> MessageQueueData { MessageQueueData(topic: "TopicTest", brokerName: "broker-a", queueId: id) }

    // MARK: Codes

    @Test func requestCodesMatchJava() {
        let codes: [(RequestCode, Int32, String)] = [
            (.queryMessage, 12, "QUERY_MESSAGE"), (.viewMessageById, 33, "VIEW_MESSAGE_BY_ID"),
            (.getTopicStatsInfo, 202, "GET_TOPIC_STATS_INFO"), (.getConsumerConnectionList, 203, "GET_CONSUMER_CONNECTION_LIST"),
            (.getAllTopicListFromNameServer, 206, "GET_ALL_TOPIC_LIST_FROM_NAMESERVER"), (.getConsumeStats, 208, "GET_CONSUME_STATS"),
        ]
        for (code, raw, name) in codes {
            #expect(code.rawValue == raw && code.name == name)
        }
    }

    // MARK: Headers

    @Test func uniqueKeyFlagIsAnExplicitField() throws {
        let header = QueryMessageRequestHeader(topic: "T", key: "K", maxNum: 32, beginTimestamp: 0, endTimestamp: .max)
        #expect(header.fields[QueryMessageRequestHeader.uniqueKeyQueryField] == nil)
        let unique = header.wireFields(for: .json, uniqueKey: true)
        #expect(unique["_UNIQUE_KEY_QUERY"] == "true" && unique["key"] == "K")
        // addExtField makes Java's map a HashMap(256): the explicit entry first, then the header's fields.
        #expect(unique.javaInitialCapacity == 256)
        #expect(header.wireFields(for: .rocketmq, uniqueKey: false)["_UNIQUE_KEY_QUERY"] == "false")
        #expect(QueryMessageRequestHeader.isUniqueKeyQuery(unique))
        #expect(!QueryMessageRequestHeader.isUniqueKeyQuery(["_UNIQUE_KEY_QUERY": "TRUE"]))  // the broker's equals("true")
        #expect(!QueryMessageRequestHeader.isUniqueKeyQuery([:]))
        // The flag does not disturb decoding the header.
        #expect(try QueryMessageRequestHeader(fields: unique) == header)
    }

    @Test func queryMessageRequiresEveryField() throws {
        let full: ExtFields = ["topic": "T", "key": "K", "maxNum": "32", "beginTimestamp": "0", "endTimestamp": "9"]
        for missing in ["topic", "key", "maxNum", "beginTimestamp", "endTimestamp"] {
            let fields = ExtFields(full.filter { $0.key != missing }.map { ($0.key, $0.value) })
            let error = try #require(throws: WireError.self) { try QueryMessageRequestHeader(fields: fields) }
            #expect(error.kind == .invalidHeaderField)
        }
        var bad = full
        bad["maxNum"] = "lots"
        #expect(throws: WireError.self) { try QueryMessageRequestHeader(fields: bad) }
        #expect(throws: WireError.self) { try ViewMessageRequestHeader(fields: ["offset": "0x10"]) }
        #expect(try ViewMessageRequestHeader(fields: ["offset": "4096"]) == ViewMessageRequestHeader(offset: 4096))
        #expect(throws: WireError.self) { try GetConsumerConnectionListRequestHeader(fields: [:]) }
        #expect(throws: WireError.self) { try GetTopicStatsInfoRequestHeader(fields: ["lo": "x", "ns": "n"]) }
    }

    @Test func consumeStatsTopicListFollowsJava() throws {
        #expect(GetConsumeStatsRequestHeader(consumerGroup: "G", topics: ["A", "B"]).topicList == "A;B;")
        #expect(GetConsumeStatsRequestHeader(consumerGroup: "G", topics: []).topicList == nil)
        #expect(GetConsumeStatsRequestHeader(consumerGroup: "G", topicList: "A;;B;").topics == ["A", "B"])
        #expect(GetConsumeStatsRequestHeader(consumerGroup: "G", topicList: " \t").topics.isEmpty)
        #expect(GetConsumeStatsRequestHeader(consumerGroup: "G", topicList: ";").topics.isEmpty)
        #expect(GetConsumeStatsRequestHeader(consumerGroup: "G", topic: "T").topics.isEmpty)
        #expect(GetConsumeStatsRequestHeader(consumerGroup: "G", topicList: "\u{A0}").topics == ["\u{A0}"])
    }

    // MARK: Consume stats

    /// What a 5.3.3 broker writes for a group that consumed 10 of 12 messages of queue 1 and nothing of queue 0.
    static let consumeStatsJSON =
        #"{"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"TopicTest"}:"#
        + #"{"brokerOffset":12,"consumerOffset":10,"lastTimestamp":1700000000123,"pullOffset":12},"#
        + #"{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:"#
        + #"{"brokerOffset":5,"consumerOffset":0,"lastTimestamp":0,"pullOffset":0}}}"#

    @Test func consumeStatsIsByteExact() throws {
        let stats = try ConsumeStats(bytes: Array(Self.consumeStatsJSON.utf8))
        #expect(stats.consumeTps == 0)
        #expect(stats.offsetTable[Self.queue(1)] == OffsetWrapper(brokerOffset: 12, consumerOffset: 10, pullOffset: 12, lastTimestamp: 1_700_000_000_123))
        #expect(stats.offsetTable[Self.queue(0)] == OffsetWrapper(brokerOffset: 5, consumerOffset: 0, pullOffset: 0))
        #expect(stats.computeTotalDiff() == 7)
        #expect(stats.computeInflightTotalDiff() == 2)
        #expect(Self.text(stats.encoded()) == Self.consumeStatsJSON)
        #expect(try ConsumeStats(buffer: stats.encodedBuffer()) == stats)
    }

    @Test func totalDiffSumsNegativeDifferencesAsJavaDoes() {
        // A consumer offset past the broker's (a queue truncated, a reset) counts negative, as in computeTotalDiff.
        let stats = ConsumeStats(offsetTable: [
            Self.queue(0): OffsetWrapper(brokerOffset: 10, consumerOffset: 4, pullOffset: 4),
            Self.queue(1): OffsetWrapper(brokerOffset: 3, consumerOffset: 5, pullOffset: 5),
        ])
        #expect(stats.computeTotalDiff() == 4)
        #expect(ConsumeStats().computeTotalDiff() == 0)
        // Hostile numbers wrap like a Java long instead of trapping.
        let huge = ConsumeStats(offsetTable: [
            Self.queue(0): OffsetWrapper(brokerOffset: .max, consumerOffset: -1, pullOffset: .min),
            Self.queue(1): OffsetWrapper(brokerOffset: .max, consumerOffset: .min, pullOffset: .max),
        ])
        #expect(huge.computeTotalDiff() == Int64.max &+ 1 &+ Int64.max &- .min)
        _ = huge.computeInflightTotalDiff()
    }

    @Test func consumeStatsOrderFollowsConcurrentHashMap() throws {
        // 16 queues: the table grows from 16 to 32 buckets at the 12th entry; order checked against Java's
        // MessageQueue.hashCode and ConcurrentHashMap's bucket layout.
        var table: [MessageQueueData: OffsetWrapper] = [:]
        for id in Int32(0)..<16 { table[Self.queue(id)] = OffsetWrapper(brokerOffset: Int64(id), consumerOffset: 0, pullOffset: 0) }
        let value = ConsumeStats(offsetTable: table).json
        let keys = try #require(value["offsetTable"]?.objectMembers).map { try MessageQueueData(json: $0.key).queueId }
        #expect(keys == [11, 10, 13, 12, 7, 6, 9, 8, 3, 2, 5, 4, 1, 0, 15, 14])
    }

    @Test func doublesAreWrittenAsJavaDoubleToString() {
        let cases: [(Double, String)] = [
            (0, "0.0"), (1, "1.0"), (1.5, "1.5"), (-2.25, "-2.25"), (0.001, "0.001"), (0.0001, "1.0E-4"),
            (1_234_567, "1234567.0"), (10_000_000, "1.0E7"), (12_345_678.9, "1.23456789E7"), (0.1, "0.1"),
            (123.456, "123.456"), (1e21, "1.0E21"), (-0.0, "-0.0"), (2.5e-5, "2.5E-5"),
        ]
        for (value, text) in cases {
            #expect(JavaCompat.doubleText(value) == text, "\(value)")
        }
        #expect(JSONValue.javaDouble(.nan) == .null && JSONValue.javaDouble(.infinity) == .null)
        #expect(Self.text(ConsumeStats(consumeTps: 12.5).encoded()) == #"{"consumeTps":12.5,"offsetTable":{}}"#)
    }

    // MARK: Topic stats

    static let topicStatsJSON =
        #"{"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"TopicTest"}:"#
        + #"{"lastUpdateTimestamp":0,"maxOffset":0,"minOffset":0},"#
        + #"{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:"#
        + #"{"lastUpdateTimestamp":1700000000123,"maxOffset":3,"minOffset":0}},"topicPutTps":1.5}"#

    @Test func topicStatsIsByteExact() throws {
        let stats = try TopicStatsTable(bytes: Array(Self.topicStatsJSON.utf8))
        #expect(stats.topicPutTps == 1.5)
        #expect(stats.offsetTable[Self.queue(0)] == TopicOffset(minOffset: 0, maxOffset: 3, lastUpdateTimestamp: 1_700_000_000_123))
        #expect(stats.offsetTable[Self.queue(1)] == TopicOffset(minOffset: 0, maxOffset: 0))
        #expect(Self.text(stats.encoded()) == Self.topicStatsJSON)
    }

    // MARK: Consumer connection

    static let subscription = #"{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","#
        + #""subVersion":1700000000000,"tagsSet":[],"topic":"TopicTest"}"#
    static let retrySubscription = #"{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","#
        + #""subVersion":1700000000001,"tagsSet":[],"topic":"%RETRY%GroupA"}"#
    static let consumerConnectionJSON =
        #"{"connectionSet":[{"clientAddr":"127.0.0.1:54321","clientId":"127.0.0.1@12345","language":"JAVA","version":479}],"#
        + #""consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","#
        + #""subscriptionTable":{"TopicTest":"# + subscription + #","%RETRY%GroupA":"# + retrySubscription + "}}"

    @Test func consumerConnectionIsByteExact() throws {
        let body = try ConsumerConnection(bytes: Array(Self.consumerConnectionJSON.utf8))
        #expect(body.connectionSet == [Connection(clientId: "127.0.0.1@12345", clientAddr: "127.0.0.1:54321", language: .java, version: 479)])
        #expect(body.consumeType == .consumePassively && body.messageModel == .clustering && body.consumeFromWhere == .consumeFromLastOffset)
        #expect(body.subscriptionTable.keys.sorted() == ["%RETRY%GroupA", "TopicTest"])
        #expect(body.subscriptionTable["TopicTest"]?.subVersion == 1_700_000_000_000)
        #expect(body.computeMinVersion() == 479)
        // The broker fills the table with one putAll: TopicTest's bucket (1 of 8) comes before %RETRY%GroupA's (5).
        #expect(Self.text(body.encoded()) == Self.consumerConnectionJSON)
    }

    @Test func connectionLanguageReadsLikeFastjson() throws {
        #expect(try Connection(bytes: Array(#"{"language":"GO","version":1}"#.utf8)).language == .go)
        #expect(try Connection(bytes: Array(#"{"language":9}"#.utf8)).language == .go)
        #expect(try Connection(bytes: Array(#"{"language":"COBOL"}"#.utf8)).language == nil)
        #expect(try Connection(bytes: Array(#"{"language":200}"#.utf8)).language == nil)
        #expect(try Connection(bytes: Array("{}".utf8)) == Connection(clientId: nil, clientAddr: nil, language: nil, version: 0))
        #expect(throws: WireError.self) { try Connection(bytes: Array(#"{"language":[1]}"#.utf8)) }
        #expect(ConsumerConnection().computeMinVersion() == .max)
    }

    // MARK: Topic list

    @Test func topicListIsByteExact() throws {
        let json = #"{"topicList":["DefaultCluster_REPLY_TOPIC","TopicTest","TBW102"]}"#
        let list = try TopicList(bytes: Array(json.utf8))
        #expect(Set(list.topicList) == ["TopicTest", "TBW102", "DefaultCluster_REPLY_TOPIC"] && list.brokerAddr == nil)
        #expect(Self.text(TopicList(topicList: ["TopicTest", "TBW102", "DefaultCluster_REPLY_TOPIC", "TopicTest"]).encoded()) == json)
        let withBroker = TopicList(topicList: [], brokerAddr: "127.0.0.1:10911")
        #expect(Self.text(withBroker.encoded()) == #"{"brokerAddr":"127.0.0.1:10911","topicList":[]}"#)
        #expect(try TopicList(bytes: withBroker.encoded()) == withBroker)
    }

    // MARK: Malformed input

    static let malformed: [String] = [
        "", "[]", "null", "1", #""x""#, "{", #"{"offsetTable":"#,
        #"{"offsetTable":[1]}"#, #"{"offsetTable":5}"#, #"{"offsetTable":{"TopicTest":{}}}"#,
        #"{"offsetTable":{{"brokerName":"b","queueId":0}:{}}}"#,
        #"{"offsetTable":{{"brokerName":"b","queueId":"x","topic":"T"}:{}}}"#,
        #"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:7}}"#,
        #"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"brokerOffset":"many"}}}"#,
        #"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"maxOffset":1e999}}}"#,
        #"{"consumeTps":"fast"}"#, #"{"consumeTps":"nan"}"#, #"{"topicPutTps":[0]}"#, #"{"consumeTps":{}}"#,
    ]

    @Test(arguments: malformed)
    func malformedStatsAreTypedErrors(_ text: String) {
        // Each input is wrong for at least one of the two; neither decoder may crash.
        let consume = Result { try ConsumeStats(bytes: Array(text.utf8)) }
        let topic = Result { try TopicStatsTable(bytes: Array(text.utf8)) }
        for result in [consume.map { _ in () }, topic.map { _ in () }] {
            if case .failure(let error) = result { #expect(error is WireError) }
        }
        #expect(consume.isFailure || topic.isFailure, "\(text)")
    }

    @Test func malformedConnectionsAndTopicListsAreTypedErrors() {
        let connections = [
            "", "{", #"{"connectionSet":{}}"#, #"{"connectionSet":[1]}"#, #"{"connectionSet":[{"version":"x"}]}"#,
            #"{"subscriptionTable":[]}"#, #"{"subscriptionTable":{"T":1}}"#, #"{"subscriptionTable":{"T":{}}}"#,
            #"{"subscriptionTable":{{"a":1}:{"topic":"T"}}}"#, #"{"consumeType":{}}"#,
            #"{"connectionSet":[{"clientId":["x"]}]}"#,
        ]
        for text in connections {
            #expect(throws: WireError.self, "\(text)") { try ConsumerConnection(bytes: Array(text.utf8)) }
        }
        for text in ["", "[", #"{"topicList":"T"}"#, #"{"topicList":[{}]}"#, #"{"brokerAddr":[]}"#] {
            #expect(throws: WireError.self, "\(text)") { try TopicList(bytes: Array(text.utf8)) }
        }
    }

    @Test func missingMembersTakeJavaDefaults() throws {
        #expect(try ConsumeStats(bytes: Array("{}".utf8)) == ConsumeStats())
        #expect(try ConsumeStats(bytes: Array(#"{"offsetTable":null,"consumeTps":"2.5"}"#.utf8)) == ConsumeStats(consumeTps: 2.5))
        #expect(try TopicStatsTable(bytes: Array(#"{"offsetTable":{}}"#.utf8)) == TopicStatsTable())
        #expect(try ConsumerConnection(bytes: Array("{}".utf8)) == ConsumerConnection())
        #expect(try TopicList(bytes: Array("{}".utf8)) == TopicList(topicList: []))
        let wrapper = try OffsetWrapper(bytes: Array(#"{"brokerOffset":"3","unknown":[1,{"x":null}]}"#.utf8))
        #expect(wrapper == OffsetWrapper(brokerOffset: 3, consumerOffset: 0, pullOffset: 0))
    }
}

extension Result {
    fileprivate var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
