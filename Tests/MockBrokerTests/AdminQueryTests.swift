import Foundation
import NIOCore
@testable import RocketMQMockBroker
import RocketMQTestSupport
import RocketMQWire
import Testing

/// The operator queries over the raw wire: QUERY_MESSAGE, VIEW_MESSAGE_BY_ID, GET_CONSUME_STATS,
/// GET_CONSUMER_CONNECTION_LIST, GET_TOPIC_STATS_INFO and the name server's GET_ALL_TOPIC_LIST_FROM_NAMESERVER.
@Suite("Mock broker: operator queries", .heavy)
struct AdminQueryTests {
    static func queryFields(
        topic: String, key: String, maxNum: Int32 = 32, begin: Int64 = 0, end: Int64 = .max, unique: Bool? = nil
    ) -> ExtFields {
        var fields: ExtFields = [
            "topic": topic, "key": key, "maxNum": String(maxNum), "beginTimestamp": String(begin), "endTimestamp": String(end),
        ]
        if let unique { fields["_UNIQUE_KEY_QUERY"] = unique ? "true" : "false" }
        return fields
    }

    /// Sends `bodies` to `topic` (queue `queueId`) with the given KEYS and extra properties; returns what was stored.
    static func send(
        _ c: TestConnection, topic: String, queueId: Int32 = 0, _ bodies: [String], keys: String? = nil,
        properties: [String: String] = [:]
    ) async throws {
        for body in bodies {
            let r = try await c.call(
                .sendMessageV2, Wire.sendFields(topic: topic, queueId: queueId, keys: keys, properties: properties),
                body: ByteBuffer(string: body))
            #expect(r.responseCode == .success, "\(r)")
        }
    }

    /// Every stored record of a queue, read with a pull of a throwaway group.
    static func stored(_ c: TestConnection, topic: String, queueId: Int32 = 0) async throws -> [MessageRecord] {
        let pull = try await c.call(
            .pullMessage,
            Wire.pullFields(group: "G-reader", topic: topic, queueId: queueId, offset: 0, sysFlag: 0x4).merging(["subscription": "*"]))
        return pull.responseCode == .success ? try Wire.records(pull) : []
    }

    static func bodies(_ response: RemotingCommand) throws -> [String] {
        try Wire.records(response).map { String(buffer: $0.body) }
    }

    // MARK: QUERY_MESSAGE

    @Test func keyQueryFindsMessagesByAnyOfTheirKeysWithinTheTimeRange() async throws {
        try await withCluster { cluster in
            cluster.createTopic("Q1", queues: 2)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            try await Self.send(c, topic: "Q1", ["first"], keys: "order-1 shared")
            try await Self.send(c, topic: "Q1", queueId: 1, ["second"], keys: "order-2 shared")
            try await Self.send(c, topic: "Q1", ["third"], keys: "order-3")
            let records = try await Self.stored(c, topic: "Q1") + Self.stored(c, topic: "Q1", queueId: 1)
            let last = try #require(records.max { $0.commitLogOffset < $1.commitLogOffset })

            let shared = try await c.call(.queryMessage, Self.queryFields(topic: "Q1", key: "shared"))
            #expect(shared.responseCode == .success, "\(shared)")
            #expect(try Self.bodies(shared) == ["first", "second"])  // commit-log order, across queues
            // The response header says where the index stood: the last indexed message.
            let position = try QueryMessageResponseHeader(command: shared)
            #expect(position.indexLastUpdatePhyoffset == last.commitLogOffset)
            #expect(position.indexLastUpdateTimestamp == last.storeTimestamp)
            #expect(try await Self.bodies(c.call(.queryMessage, Self.queryFields(topic: "Q1", key: "order-3"))) == ["third"])

            // maxNum keeps the newest.
            #expect(try await Self.bodies(c.call(.queryMessage, Self.queryFields(topic: "Q1", key: "shared", maxNum: 1))) == ["second"])

            // The time range bounds the store time, both ends inclusive.
            let second = try #require(records.first { String(buffer: $0.body) == "second" })
            let from = try await c.call(.queryMessage, Self.queryFields(topic: "Q1", key: "shared", begin: second.storeTimestamp))
            let expected = records.filter { $0.keys.contains("shared") && $0.storeTimestamp >= second.storeTimestamp }
                .sorted { $0.commitLogOffset < $1.commitLogOffset }.map { String(buffer: $0.body) }
            #expect(try Self.bodies(from) == expected)
            let first = try #require(records.first { String(buffer: $0.body) == "first" })
            let before = try await c.call(.queryMessage, Self.queryFields(topic: "Q1", key: "shared", end: first.storeTimestamp - 1))
            #expect(before.responseCode == .queryNotFound)
            #expect(before.remark == "can not find message, maybe time range not correct")
            #expect(before.field("indexLastUpdateTimestamp") == "0" && before.field("indexLastUpdatePhyoffset") == "0")
            #expect(before.body == nil || before.body?.readableBytes == 0)

            // Keys are per topic, and "shared" is one key, not a prefix.
            #expect(try await c.call(.queryMessage, Self.queryFields(topic: "Other", key: "shared")).responseCode == .queryNotFound)
            #expect(try await c.call(.queryMessage, Self.queryFields(topic: "Q1", key: "share")).responseCode == .queryNotFound)
            #expect(try await c.call(.queryMessage, Self.queryFields(topic: "Q1", key: "order-1 shared")).responseCode == .queryNotFound)
            await c.close()
        }
    }

    @Test func uniqueKeyQueryRunsWithTheBrokersMaxNum() async throws {
        try await withCluster { cluster in
            cluster.createTopic("Q2", queues: 1)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            // A producer retrying a send stores the same unique key more than once.
            let id = "7F00000100002A9F0000000000000ABC"
            try await Self.send(c, topic: "Q2", ["try-1", "try-2", "try-3"], properties: [MessageProperty.uniqueKey: id])
            try await Self.send(c, topic: "Q2", ["other"], keys: "k")
            let unique = try await c.call(.queryMessage, Self.queryFields(topic: "Q2", key: id, maxNum: 1, unique: true))
            #expect(unique.responseCode == .success, "\(unique)")
            #expect(try Self.bodies(unique) == ["try-1", "try-2", "try-3"])  // maxNum 1 was replaced by 32
            #expect(try Wire.records(unique).allSatisfy { $0.uniqueKey == id })
            // As a key query (flag false, or absent) maxNum holds; the unique key is in the same index.
            #expect(try await Self.bodies(c.call(.queryMessage, Self.queryFields(topic: "Q2", key: id, maxNum: 1, unique: false))) == ["try-3"])
            #expect(try await Self.bodies(c.call(.queryMessage, Self.queryFields(topic: "Q2", key: id, maxNum: 2))) == ["try-2", "try-3"])
            // Only exactly "true" makes a unique-key query.
            var upper = Self.queryFields(topic: "Q2", key: id, maxNum: 1)
            upper["_UNIQUE_KEY_QUERY"] = "TRUE"
            #expect(try await Self.bodies(c.call(.queryMessage, upper)) == ["try-3"])
            let none = try await c.call(.queryMessage, Self.queryFields(topic: "Q2", key: "7F000001", unique: true))
            #expect(none.responseCode == .queryNotFound)
            await c.close()
        }
    }

    @Test func queryMessageBadInputIsAnsweredNotCrashedOn() async throws {
        try await withCluster { cluster in
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            var missing = Self.queryFields(topic: "T", key: "k")
            missing = ExtFields(missing.filter { $0.key != "key" }.map { ($0.key, $0.value) })
            #expect(try await c.call(.queryMessage, missing).responseCode == .systemError)
            var bad = Self.queryFields(topic: "T", key: "k")
            bad["maxNum"] = "many"
            #expect(try await c.call(.queryMessage, bad).responseCode == .systemError)
            let negative = try await c.call(.queryMessage, Self.queryFields(topic: "T", key: "k", maxNum: -1))
            #expect(negative.responseCode == .systemError && negative.remark?.contains("Illegal Capacity") == true)
            #expect(try await c.call(.queryMessage, Self.queryFields(topic: "T", key: "k", maxNum: 0)).responseCode == .queryNotFound)
            #expect(try await c.call(.queryMessage, nil).responseCode == .systemError)
            // Still serving.
            #expect(try await c.call(.getMaxOffset, ["topic": "T", "queueId": "0"]).responseCode == .success)
            await c.close()
        }
    }

    // MARK: VIEW_MESSAGE_BY_ID

    @Test func viewByCommitLogOffset() async throws {
        try await withCluster { cluster in
            cluster.createTopic("V1", queues: 1)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            try await Self.send(c, topic: "V1", ["a", "b"], keys: "vk")
            let records = try await Self.stored(c, topic: "V1")
            let b = try #require(records.last)
            let view = try await c.call(.viewMessageById, ["offset": String(b.commitLogOffset), "topic": "V1"])
            #expect(view.responseCode == .success, "\(view)")
            let viewed = try Wire.records(view)
            #expect(viewed.count == 1 && viewed.first == b)
            // The offsetMsgId a client holds encodes this offset.
            let decoded = try MessageID.decodeOffsetMessageID(b.offsetMessageID)
            #expect(decoded.commitLogOffset == b.commitLogOffset)
            for offset in [b.commitLogOffset + 1, -1, 1 << 40] {
                let r = try await c.call(.viewMessageById, ["offset": String(offset)])
                #expect(r.responseCode == .systemError)
                #expect(r.remark == "can not find message by the offset, \(offset)")
            }
            #expect(try await c.call(.viewMessageById, ["offset": "x"]).responseCode == .systemError)
            #expect(try await c.call(.viewMessageById, [:]).responseCode == .systemError)
            await c.close()
        }
    }

    // MARK: GET_CONSUME_STATS

    @Test func consumeStatsShowTheLagAfterACommit() async throws {
        try await withCluster { cluster in
            cluster.createTopic("C1", queues: 2)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            try await Self.send(c, topic: "C1", queueId: 0, ["0", "1", "2", "3", "4"])
            try await Self.send(c, topic: "C1", queueId: 1, ["5", "6", "7"])
            let q0 = try await Self.stored(c, topic: "C1", queueId: 0)
            #expect(try await c.call(.heartBeat, body: Wire.heartbeat(clientID: "c1", group: "GC", topic: "C1")).responseCode == .success)
            // The consumer commits 2 on queue 0, then pulls from there to the end.
            let commit = try await c.call(.updateConsumerOffset, ["consumerGroup": "GC", "topic": "C1", "queueId": "0", "commitOffset": "2"])
            #expect(commit.responseCode == .success)
            let pull = try await c.call(.pullMessage, Wire.pullFields(group: "GC", topic: "C1", queueId: 0, offset: 2, sysFlag: 0x4).merging(["subscription": "*"]))
            #expect(try Wire.records(pull).count == 3)

            for fields: ExtFields in [["consumerGroup": "GC", "topic": "C1"], ["consumerGroup": "GC"], ["consumerGroup": "GC", "topicList": "C1;"]] {
                let r = try await c.call(.getConsumeStats, fields)
                #expect(r.responseCode == .success, "\(r)")
                let stats = try ConsumeStats(buffer: try #require(r.body))
                let queue0 = MessageQueueData(topic: "C1", brokerName: broker.name, queueId: 0)
                let queue1 = MessageQueueData(topic: "C1", brokerName: broker.name, queueId: 1)
                #expect(stats.offsetTable.count == 2, "\(fields)")
                #expect(stats.offsetTable[queue0] == OffsetWrapper(
                    brokerOffset: 5, consumerOffset: 2, pullOffset: 5, lastTimestamp: q0[1].storeTimestamp))
                #expect(stats.offsetTable[queue1] == OffsetWrapper(brokerOffset: 3, consumerOffset: 0, pullOffset: 0, lastTimestamp: 0))
                #expect(stats.computeTotalDiff() == 6)
                #expect(stats.consumeTps > 0)  // three messages pulled within the minute
            }
            // A topic the online group does not subscribe to is left out (unless listed explicitly).
            cluster.createTopic("C2", queues: 1)
            let unsubscribed = try await c.call(.getConsumeStats, ["consumerGroup": "GC", "topic": "C2"])
            #expect(try ConsumeStats(buffer: try #require(unsubscribed.body)).offsetTable.isEmpty)
            let listed = try await c.call(.getConsumeStats, ["consumerGroup": "GC", "topicList": "C2;NoSuchTopic;"])
            #expect(try ConsumeStats(buffer: try #require(listed.body)).offsetTable.keys.map(\.topic) == ["C2"])
            await c.close()
        }
    }

    @Test func consumeStatsOfAnUnknownGroupAreEmptyAsFromJava() async throws {
        try await withCluster { cluster in
            cluster.createTopic("C3", queues: 1)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            for fields: ExtFields in [["consumerGroup": "Nobody"], ["consumerGroup": "Nobody", "topic": "C3"]] {
                let r = try await c.call(.getConsumeStats, fields)
                // Java's broker answers SUCCESS; its admin tool reports CONSUMER_NOT_ONLINE for an empty table.
                #expect(r.responseCode == .success)
                let stats = try ConsumeStats(buffer: try #require(r.body))
                #expect(fields["topic"] == nil ? stats.offsetTable.isEmpty : stats.offsetTable.count == 1)
                #expect(stats.computeTotalDiff() == 0)
            }
            #expect(try await c.call(.getConsumeStats, [:]).responseCode == .systemError)
            await c.close()
        }
    }

    // MARK: GET_CONSUMER_CONNECTION_LIST

    @Test func connectionListComesFromHeartbeats() async throws {
        try await withCluster { cluster in
            let broker = cluster.brokers[0]
            let consumer = try await TestConnection.connect(broker.address)
            let admin = try await TestConnection.connect(broker.address)
            var heartbeat = RemotingCommand.request(.heartBeat, body: Wire.heartbeat(clientID: "10.0.0.1@42", group: "GL", topic: "L1"))
            heartbeat.language = .go
            heartbeat.version = MQVersion.v5_0_0.rawValue
            #expect(try await consumer.call(heartbeat).responseCode == .success)

            let r = try await admin.call(.getConsumerConnectionList, ["consumerGroup": "GL"])
            #expect(r.responseCode == .success, "\(r)")
            let body = try ConsumerConnection(buffer: try #require(r.body))
            let local = try #require(consumer.channel.localAddress)
            #expect(body.connectionSet == [Connection(
                clientId: "10.0.0.1@42", clientAddr: "\(local.ipAddress ?? ""):\(local.port ?? 0)", language: .go,
                version: MQVersion.v5_0_0.rawValue)])
            #expect(body.consumeType == .consumePassively && body.messageModel == .clustering)
            #expect(body.consumeFromWhere == .consumeFromFirstOffset)
            #expect(Set(body.subscriptionTable.keys) == ["L1", "%RETRY%GL"])
            #expect(body.subscriptionTable["L1"]?.subString == "*")

            let unknown = try await admin.call(.getConsumerConnectionList, ["consumerGroup": "Nobody"])
            #expect(unknown.responseCode == .consumerNotOnline)
            #expect(unknown.remark == "the consumer group[Nobody] not online")
            #expect(try await admin.call(.getConsumerConnectionList, [:]).responseCode == .systemError)

            // The group goes offline with its last connection.
            await consumer.close()
            try await eventually("the group to go offline") {
                try await admin.call(.getConsumerConnectionList, ["consumerGroup": "GL"]).responseCode == .consumerNotOnline
            }
            await admin.close()
        }
    }

    // MARK: GET_TOPIC_STATS_INFO

    @Test func topicStatsPerQueue() async throws {
        try await withCluster { cluster in
            cluster.createTopic("S1", queues: 3)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            try await Self.send(c, topic: "S1", queueId: 1, ["a", "b"])
            let q1 = try await Self.stored(c, topic: "S1", queueId: 1)
            let r = try await c.call(.getTopicStatsInfo, ["topic": "S1"])
            #expect(r.responseCode == .success, "\(r)")
            let table = try TopicStatsTable(buffer: try #require(r.body))
            #expect(table.offsetTable.count == 3)
            func queue(_ id: Int32) -> MessageQueueData { MessageQueueData(topic: "S1", brokerName: broker.name, queueId: id) }
            #expect(table.offsetTable[queue(1)] == TopicOffset(minOffset: 0, maxOffset: 2, lastUpdateTimestamp: q1[1].storeTimestamp))
            #expect(table.offsetTable[queue(0)] == TopicOffset(minOffset: 0, maxOffset: 0, lastUpdateTimestamp: 0))
            #expect(table.offsetTable[queue(2)] == TopicOffset(minOffset: 0, maxOffset: 0, lastUpdateTimestamp: 0))
            #expect(table.topicPutTps > 0)

            let unknown = try await c.call(.getTopicStatsInfo, ["topic": "NoSuchTopic"])
            #expect(unknown.responseCode == .topicNotExist && unknown.remark == "topic[NoSuchTopic] not exist")
            #expect(try await c.call(.getTopicStatsInfo, [:]).responseCode == .systemError)
            await c.close()
        }
    }

    // MARK: GET_ALL_TOPIC_LIST_FROM_NAMESERVER

    @Test func nameServerListsEveryTopic() async throws {
        try await withCluster(brokers: 2) { cluster in
            cluster.createTopic("N1", queues: 1)
            cluster.brokers[1].createTopic(TopicConfig(name: "OnlyOnB", queues: 1))
            let ns = try await TestConnection.connect(cluster.nameServerAddress)
            let r = try await ns.call(.getAllTopicListFromNameServer, nil)
            #expect(r.responseCode == .success, "\(r)")
            let list = try TopicList(buffer: try #require(r.body))
            #expect(list.brokerAddr == nil)
            #expect(Set(list.topicList).isSuperset(of: ["N1", "OnlyOnB", "TBW102", "DefaultCluster_REPLY_TOPIC"]))
            #expect(list.topicList.count == Set(list.topicList).count)
            await ns.close()
        }
    }

    // MARK: Restart

    @Test func indexSurvivesARestartWithADataDirectory() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mock-broker-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withCluster(configure: { $0.forEachBroker { $0.dataDirectory = dir } }) { cluster in
            cluster.createTopic("R1", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            try await Self.send(c, topic: "R1", ["r0", "r1"], keys: "persisted")
            let before = try await c.call(.queryMessage, Self.queryFields(topic: "R1", key: "persisted"))
            let stored = try Wire.records(before)
            #expect(stored.map { String(buffer: $0.body) } == ["r0", "r1"])

            await broker.kill()
            try await broker.restart()
            let c2 = try await TestConnection.connect(broker.address)
            let after = try await c2.call(.queryMessage, Self.queryFields(topic: "R1", key: "persisted"))
            #expect(after.responseCode == .success, "\(after)")
            #expect(try Wire.records(after) == stored)
            #expect(try QueryMessageResponseHeader(command: after) == QueryMessageResponseHeader(command: before))
            let unique = try #require(stored[0].uniqueKey)
            #expect(try await Self.bodies(c2.call(.queryMessage, Self.queryFields(topic: "R1", key: unique, unique: true))) == ["r0"])
            let view = try await c2.call(.viewMessageById, ["offset": String(stored[1].commitLogOffset)])
            #expect(try Wire.records(view) == [stored[1]])
            // New messages join the rebuilt index.
            try await Self.send(c2, topic: "R1", ["r2"], keys: "persisted")
            #expect(try await Self.bodies(c2.call(.queryMessage, Self.queryFields(topic: "R1", key: "persisted"))) == ["r0", "r1", "r2"])
            await c2.close()
        }
    }
}

/// The index and rate counter on their own (no sockets).
@Suite("Mock broker: message index")
struct MessageIndexTests {
    static func record(_ offset: Int64, at time: Int64, keys: String?, unique: String? = nil, sysFlag: Int32 = 0, topic: String = "T") -> MessageRecord {
        var properties = MessageProperties()
        if let keys { properties[MessageProperty.keys] = keys }
        if let unique { properties[MessageProperty.uniqueKey] = unique }
        let host = MessageHost(ip: [127, 0, 0, 1], port: 1)
        return MessageRecord(
            topic: topic, properties: properties, commitLogOffset: offset, sysFlag: sysFlag, bornHost: host,
            storeTimestamp: time, storeHost: host)
    }

    @Test func indexesKeysAndUniqueKeysAsJavaDoes() {
        var index = MessageIndex()
        index.add(Self.record(0, at: 100, keys: " a  b ", unique: "U0"))
        index.add(Self.record(100, at: 200, keys: "a a", unique: "a"))  // listed thrice, found once
        index.add(Self.record(200, at: 300, keys: "a", sysFlag: MessageSysFlag.transactionRollbackType))
        index.add(Self.record(300, at: 400, keys: "a", sysFlag: MessageSysFlag.transactionPreparedType))
        index.add(Self.record(400, at: 500, keys: nil))
        index.add(Self.record(500, at: 600, keys: "b", topic: "T#a"))  // Java's "topic#key" joins these the same way
        #expect(index.query(topic: "T", key: "a", maxNum: 32, begin: 0, end: .max) == [0, 100, 300])
        #expect(index.query(topic: "T", key: "b", maxNum: 32, begin: 0, end: .max) == [0])
        #expect(index.query(topic: "T", key: "a#b", maxNum: 32, begin: 0, end: .max) == [500])
        #expect(index.query(topic: "T", key: "U0", maxNum: 32, begin: 0, end: .max) == [0])
        #expect(index.query(topic: "T", key: "", maxNum: 32, begin: 0, end: .max) == [])
        #expect(index.query(topic: "T", key: "a", maxNum: 2, begin: 0, end: .max) == [100, 300])
        #expect(index.query(topic: "T", key: "a", maxNum: 32, begin: 200, end: 399) == [100])
        #expect(index.query(topic: "T", key: "a", maxNum: 0, begin: 0, end: .max) == [])
        #expect(index.query(topic: "T", key: "a", maxNum: 32, begin: 500, end: 0) == [])
        // The last indexed record (the rolled-back and key-less ones are not indexed).
        #expect(index.lastUpdatePhyOffset == 500 && index.lastUpdateTimestamp == 600)
    }

    @Test func queriesAreCappedAtMaxMsgsNumBatch() {
        var index = MessageIndex()
        for i in 0..<100 { index.add(Self.record(Int64(i), at: Int64(i), keys: "k")) }
        let found = index.query(topic: "T", key: "k", maxNum: .max, begin: 0, end: .max)
        #expect(found == Array(36..<100).map(Int64.init))
    }

    @Test func manyKeysAreEachFoundUnderTheirOwnName() {
        var index = MessageIndex()
        for i in 0..<5000 { index.add(Self.record(Int64(i) * 10, at: Int64(i), keys: "k\(i)", unique: "U\(i)")) }
        for i in stride(from: 0, to: 5000, by: 7) {
            #expect(index.query(topic: "T", key: "k\(i)", maxNum: 32, begin: 0, end: .max) == [Int64(i) * 10])
            #expect(index.query(topic: "T", key: "U\(i)", maxNum: 32, begin: 0, end: .max) == [Int64(i) * 10])
        }
        #expect(index.query(topic: "T", key: "k5000", maxNum: 32, begin: 0, end: .max) == [])
        #expect(index.query(topic: "U", key: "k1", maxNum: 32, begin: 0, end: .max) == [])
    }

    /// Locations by commit-log offset: found exactly where a record starts, across chunks, nowhere else.
    @Test func commitLogLocationsFindRecordStarts() {
        var locations = CommitLogLocations()
        let key = QueueKey(topic: "T", queueId: 1)
        #expect(locations[0] == nil)
        let count = 40_000  // more than two chunks
        for i in 0..<count { locations.append(.init(offset: Int64(i) * 100 + 5, key: key, index: i)) }
        for i in [0, 1, 16_383, 16_384, 16_385, 32_768, count - 1] {
            #expect(locations[Int64(i) * 100 + 5]?.index == i)
            #expect(locations[Int64(i) * 100 + 6] == nil && locations[Int64(i) * 100 + 4] == nil)
        }
        #expect(locations[-1] == nil && locations[Int64(count) * 100 + 5] == nil)
        // Out of order (the store never does this): still found, and a repeated offset replaces its location.
        locations.append(.init(offset: 50, key: key, index: -1))
        locations.append(.init(offset: 105, key: QueueKey(topic: "U", queueId: 2), index: 7))
        #expect(locations[50]?.index == -1 && locations[105]?.index == 7 && locations[105]?.key.topic == "U")
        #expect(locations[5]?.index == 0 && locations[205]?.index == 2)
    }

    @Test func rateCounterAveragesTheLastMinute() {
        var rate = RateCounter()
        rate.add(30, nowMillis: 1_000_000)
        rate.add(30, nowMillis: 1_030_000)
        #expect(rate.perSecond(nowMillis: 1_030_000) == 1)
        #expect(rate.perSecond(nowMillis: 1_065_000) == 0.5)  // the first 30 aged out
        rate.add(60, nowMillis: 1_060_000)  // same slot as 1_000_000: replaces it
        #expect(rate.perSecond(nowMillis: 1_060_000) == 1.5)
        #expect(RateCounter().perSecond(nowMillis: 0) == 0)
    }
}
