import Foundation
import NIOCore
@testable import RocketMQMockBroker
import RocketMQWire
import RocketMQTestSupport
import Testing

/// Raw-wire helpers: requests are built from field names, as a foreign client would, so these tests check the
/// broker against the protocol rather than against our own header types.
enum Wire {
    static func sendFields(
        topic: String, queueId: Int32 = 0, tags: String? = "TagA", keys: String? = nil, properties extra: [String: String] = [:],
        group: String = "PG", sysFlag: Int32 = 0, brokerName: String = "broker-a"
    ) -> ExtFields {
        var props = MessageProperties()
        if let tags { props[MessageProperty.tags] = tags }
        if let keys { props[MessageProperty.keys] = keys }
        props[MessageProperty.waitStoreMessageOK] = "true"
        for (k, v) in extra { props[k] = v }
        return [
            "a": group, "b": topic, "c": "TBW102", "d": "4", "e": String(queueId), "f": String(sysFlag),
            "g": String(Int64(Date().timeIntervalSince1970 * 1000)), "h": "0", "i": props.encoded, "j": "0",
            "k": "false", "m": "false", "n": brokerName,
        ]
    }

    static func heartbeat(clientID: String, group: String, topic: String, tags: [String] = [], producer: String? = nil, broadcasting: Bool = false) -> ByteBuffer {
        let codes = tags.map { String(JavaCompat.stringHashCode($0)) }.joined(separator: ",")
        let tagSet = tags.map { "\"\($0)\"" }.joined(separator: ",")
        let sub = tags.isEmpty ? "*" : tags.joined(separator: " || ")
        let producers = producer.map { "{\"groupName\":\"\($0)\"}" } ?? ""
        let json = """
            {"clientID":"\(clientID)","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET",\
            "consumeType":"CONSUME_PASSIVELY","groupName":"\(group)","messageModel":"\(broadcasting ? "BROADCASTING" : "CLUSTERING")",\
            "subscriptionDataSet":[{"classFilterMode":false,"codeSet":[\(codes)],"expressionType":"TAG","subString":"\(sub)",\
            "subVersion":1,"tagsSet":[\(tagSet)],"topic":"\(topic)"},{"classFilterMode":false,"codeSet":[],"expressionType":"TAG",\
            "subString":"*","subVersion":1,"tagsSet":[],"topic":"%RETRY%\(group)"}],"unitMode":false}],\
            "heartbeatFingerprint":0,"producerDataSet":[\(producers)],"withoutSub":false}
            """
        return ByteBuffer(string: json)
    }

    static func pullFields(group: String, topic: String, queueId: Int32, offset: Int64, sysFlag: Int32 = 2, suspend: Int64 = 0, max: Int32 = 32) -> ExtFields {
        [
            "consumerGroup": group, "topic": topic, "queueId": String(queueId), "queueOffset": String(offset),
            "maxMsgNums": String(max), "sysFlag": String(sysFlag), "commitOffset": "0",
            "suspendTimeoutMillis": String(suspend), "subVersion": "0", "expressionType": "TAG",
        ]
    }

    static func records(_ response: RemotingCommand) throws -> [MessageRecord] {
        let (records, error) = MessageRecord.decodeAll(response.body ?? ByteBuffer())
        if let error { throw error }
        return records
    }
}

/// Starts a cluster for one test and always shuts it down.
func withCluster<T>(
    brokers: Int = 1, configure: (inout MockCluster.Configuration) -> Void = { _ in },
    _ body: (MockCluster) async throws -> T
) async throws -> T {
    var config = MockCluster.Configuration(brokers: brokers)
    configure(&config)
    let cluster = try await MockCluster.start(config)
    do {
        let result = try await body(cluster)
        await cluster.shutdown()
        return result
    } catch {
        await cluster.shutdown()
        throw error
    }
}

@Suite("Mock broker: requests", .heavy)
struct MockBrokerRequestTests {
    @Test func routesForAutoCreateKeyAndUnknownTopics() async throws {
        try await withCluster(brokers: 2) { cluster in
            let ns = try await TestConnection.connect(cluster.nameServerAddress)
            let tbw = try await ns.call(.getRouteInfoByTopic, ["topic": "TBW102"])
            #expect(tbw.responseCode == .success)
            let route = try TopicRouteData(buffer: try #require(tbw.body))
            #expect(Set(route.brokerDatas.map(\.brokerName)) == ["broker-a", "broker-b"])
            #expect(route.queueDatas.allSatisfy { $0.perm == 7 })
            let unknown = try await ns.call(.getRouteInfoByTopic, ["topic": "NoSuchTopic"])
            #expect(unknown.responseCode == .topicNotExist)
            // A pre-4.9.4 client gets the legacy form with unquoted numeric keys.
            let legacy = try await ns.call(.getRouteInfoByTopic, ["topic": "TBW102"], version: 399)
            let text = String(buffer: try #require(legacy.body))
            #expect(text.contains("{0:\""))
            let standard = String(buffer: try #require(tbw.body))
            #expect(standard.contains("{\"0\":\""))
            await ns.close()
        }
    }

    @Test func sendAutoCreatesTopicAndPullReturnsStoreFormat() async throws {
        try await withCluster { cluster in
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            var offsets: [Int64] = []
            for i in 0..<5 {
                let r = try await c.call(.sendMessageV2, Wire.sendFields(topic: "T1", queueId: 1), body: ByteBuffer(string: "m\(i)"))
                #expect(r.responseCode == .success, "\(r)")
                offsets.append(Int64(r.field("queueOffset") ?? "") ?? -1)
                #expect(r.field("msgId")?.count == 32)
                #expect(r.field("MSG_REGION") == "DefaultRegion")
            }
            #expect(offsets == [0, 1, 2, 3, 4])
            let ns = try await TestConnection.connect(cluster.nameServerAddress)
            let route = try await ns.call(.getRouteInfoByTopic, ["topic": "T1"])
            #expect(route.responseCode == .success)
            let pull = try await c.call(.pullMessage, Wire.pullFields(group: "G", topic: "T1", queueId: 1, offset: 0, sysFlag: 0x2 | 0x4).merging(["subscription": "*"]))
            #expect(pull.responseCode == .success, "\(pull)")
            let records = try Wire.records(pull)
            #expect(records.map { String(buffer: $0.body) } == ["m0", "m1", "m2", "m3", "m4"])
            #expect(records.map(\.queueOffset) == [0, 1, 2, 3, 4])
            #expect(records.allSatisfy { $0.properties[MessageProperty.cluster] == "DefaultCluster" && $0.uniqueKey != nil })
            #expect(records[0].bodyCRC == Int32(bitPattern: CRC32.checksum(Array("m0".utf8)) & 0x7FFF_FFFF))
            #expect(pull.field("nextBeginOffset") == "5")
            await c.close()
            await ns.close()
        }
    }

    @Test func unknownTopicWithoutAutoCreateIsRejected() async throws {
        try await withCluster(configure: { $0.forEachBroker { $0.autoCreateTopics = false } }) { cluster in
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            let r = try await c.call(.sendMessageV2, Wire.sendFields(topic: "Nope"), body: ByteBuffer(string: "x"))
            #expect(r.responseCode == .topicNotExist)
            let ns = try await TestConnection.connect(cluster.nameServerAddress)
            #expect(try await ns.call(.getRouteInfoByTopic, ["topic": "TBW102"]).responseCode == .topicNotExist)
            await c.close()
            await ns.close()
        }
    }

    @Test func pullStatusesFollowJava() async throws {
        try await withCluster { cluster in
            cluster.createTopic("T2", queues: 2)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            let sub: ExtFields = ["subscription": "*"]
            // Empty queue at offset 0: PULL_NOT_FOUND; beyond: PULL_OFFSET_MOVED.
            let empty = try await c.call(.pullMessage, Wire.pullFields(group: "G", topic: "T2", queueId: 0, offset: 0, sysFlag: 4).merging(sub))
            #expect(empty.responseCode == .pullNotFound)
            let moved = try await c.call(.pullMessage, Wire.pullFields(group: "G", topic: "T2", queueId: 0, offset: 9, sysFlag: 4).merging(sub))
            #expect(moved.responseCode == .pullOffsetMoved)
            _ = try await c.call(.sendMessageV2, Wire.sendFields(topic: "T2", queueId: 0, tags: "TagB"), body: ByteBuffer(string: "b"))
            let atMax = try await c.call(.pullMessage, Wire.pullFields(group: "G", topic: "T2", queueId: 0, offset: 1, sysFlag: 4).merging(sub))
            #expect(atMax.responseCode == .pullNotFound && atMax.remark == "OFFSET_OVERFLOW_ONE")
            let badly = try await c.call(.pullMessage, Wire.pullFields(group: "G", topic: "T2", queueId: 0, offset: 50, sysFlag: 4).merging(sub))
            #expect(badly.responseCode == .pullOffsetMoved && badly.field("nextBeginOffset") == "1")
            // A filter matching nothing: PULL_RETRY_IMMEDIATELY past the scanned range.
            let filtered = try await c.call(.pullMessage, Wire.pullFields(group: "G", topic: "T2", queueId: 0, offset: 0, sysFlag: 4).merging(["subscription": "TagA"]))
            #expect(filtered.responseCode == .pullRetryImmediately && filtered.field("nextBeginOffset") == "1")
            // Without SUBSCRIPTION flag and no heartbeat: SUBSCRIPTION_NOT_EXIST.
            let noSub = try await c.call(.pullMessage, Wire.pullFields(group: "G", topic: "T2", queueId: 0, offset: 0))
            #expect(noSub.responseCode == .subscriptionNotExist)
            await c.close()
        }
    }

    @Test func tagFilteringUsesHeartbeatCodeSet() async throws {
        try await withCluster { cluster in
            cluster.createTopic("T3", queues: 1)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            for tag in ["TagA", "TagB", "TagC", "TagA"] {
                _ = try await c.call(.sendMessageV2, Wire.sendFields(topic: "T3", tags: tag), body: ByteBuffer(string: tag))
            }
            let hb = try await c.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: "c1", group: "G3", topic: "T3", tags: ["TagA", "TagC"]))
            #expect(hb.responseCode == .success && hb.field("IS_SUPPORT_HEART_BEAT_V2") == "true")
            let pull = try await c.call(.pullMessage, Wire.pullFields(group: "G3", topic: "T3", queueId: 0, offset: 0))
            #expect(try Wire.records(pull).map { String(buffer: $0.body) } == ["TagA", "TagC", "TagA"])
            await c.close()
        }
    }

    @Test func longPollingWakesOnArrivalAndExpiresAtSuspendTime() async throws {
        try await withCluster { cluster in
            cluster.createTopic("T4", queues: 1)
            let consumer = try await TestConnection.connect(cluster.brokers[0].address)
            let producer = try await TestConnection.connect(cluster.brokers[0].address)
            let suspend = Duration.seconds(120)
            let fields = Wire.pullFields(group: "G", topic: "T4", queueId: 0, offset: 0, sysFlag: 0x2 | 0x4, suspend: 120_000).merging(["subscription": "*"])
            let clock = ContinuousClock()
            let start = clock.now
            async let held = consumer.call(.pullMessage, fields, timeout: suspend * 2)
            // Send only once the broker holds the pull, so the answer proves the wake-up.
            try await eventually { cluster.brokers[0].heldPullCount == 1 }
            _ = try await producer.call(.sendMessageV2, Wire.sendFields(topic: "T4"), body: ByteBuffer(string: "wake"))
            let answer = try await held
            #expect(answer.responseCode == .success)
            #expect(try Wire.records(answer).map { String(buffer: $0.body) } == ["wake"])
            #expect(clock.now - start < suspend)  // woken by the message, not answered at the suspend time
            // Nothing arrives: answered PULL_NOT_FOUND at the suspend time, not Java's 5 s granularity.
            let t0 = clock.now
            let idle = try await consumer.call(.pullMessage, Wire.pullFields(group: "G", topic: "T4", queueId: 0, offset: 1, sysFlag: 0x2 | 0x4, suspend: 300).merging(["subscription": "*"]))
            let waited = clock.now - t0
            #expect(idle.responseCode == .pullNotFound)
            #expect(waited >= .milliseconds(250))  // held until the suspend time, not answered at once
            await consumer.close()
            await producer.close()
        }
    }

    @Test func offsetsQueryUpdateOnewayAndBounds() async throws {
        try await withCluster { cluster in
            cluster.createTopic("T5", queues: 2)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            let q: ExtFields = ["consumerGroup": "G5", "topic": "T5", "queueId": "1"]
            #expect(try await c.call(.queryConsumerOffset, q).responseCode == .queryNotFound)
            try await c.oneway(.updateConsumerOffset, q.merging(["commitOffset": "7"]))
            // A oneway update is never answered; the next query on the same connection sees it.
            let r = try await c.call(.queryConsumerOffset, q)
            #expect(r.responseCode == .success && r.field("offset") == "7")
            let sync = try await c.call(.updateConsumerOffset, q.merging(["commitOffset": "9"]))
            #expect(sync.responseCode == .success)
            for i in 0..<3 {
                _ = try await c.call(.sendMessageV2, Wire.sendFields(topic: "T5", queueId: 1), body: ByteBuffer(string: "\(i)"))
            }
            let qid: ExtFields = ["topic": "T5", "queueId": "1"]
            #expect(try await c.call(.getMaxOffset, qid.merging(["committed": "true"])).field("offset") == "3")
            #expect(try await c.call(.getMinOffset, qid).field("offset") == "0")
            let search = try await c.call(.searchOffsetByTimestamp, qid.merging(["timestamp": "0", "boundaryType": "LOWER"]))
            #expect(search.field("offset") == "0")
            #expect(cluster.brokers[0].committedOffset(group: "G5", topic: "T5", queueId: 1) == 9)
            await c.close()
        }
    }

    @Test func notifyOnJoinLeaveAndClose() async throws {
        try await withCluster { cluster in
            cluster.createTopic("T6", queues: 4)
            let broker = cluster.brokers[0]
            let first = try await TestConnection.connect(broker.address)
            _ = try await first.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: "c1", group: "G6", topic: "T6"))
            _ = try await first.nextPush(.notifyConsumerIdsChanged)  // also sent to the joining connection
            let second = try await TestConnection.connect(broker.address)
            _ = try await second.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: "c2", group: "G6", topic: "T6"))
            let notify = try await first.nextPush(.notifyConsumerIdsChanged)
            #expect(notify.field("consumerGroup") == "G6" && notify.isOneway)
            let list = try await first.call(.getConsumerListByGroup, ["consumerGroup": "G6"])
            let ids = try ConsumerListBody(buffer: try #require(list.body)).consumerIdList
            #expect(Set(ids) == ["c1", "c2"])
            // A plain re-heartbeat changes nothing: no notify.
            _ = try await second.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: "c2", group: "G6", topic: "T6"))
            _ = try await second.call(.unregisterClient, ["clientID": "c2", "consumerGroup": "G6"])
            _ = try await first.nextPush(.notifyConsumerIdsChanged)
            #expect(broker.consumerIDs(group: "G6") == ["c1"])
            let third = try await TestConnection.connect(broker.address)
            _ = try await third.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: "c3", group: "G6", topic: "T6"))
            _ = try await first.nextPush(.notifyConsumerIdsChanged)
            await third.close()
            _ = try await first.nextPush(.notifyConsumerIdsChanged)  // connection closed: the group changed
            let none = try await second.call(.getConsumerListByGroup, ["consumerGroup": "Nobody"])
            #expect(none.responseCode == .systemError)
            await first.close()
            await second.close()
        }
    }

    @Test func heartbeatExpiryDropsTheClient() async throws {
        try await withCluster(configure: {
            $0.forEachBroker {
                $0.clientExpiry = .milliseconds(200)
                $0.clientScanInterval = .milliseconds(50)
            }
        }) { cluster in
            cluster.createTopic("T7", queues: 1)
            let stale = try await TestConnection.connect(cluster.brokers[0].address)
            _ = try await stale.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: "old", group: "G7", topic: "T7"))
            try await stale.waitClosed(timeout: .seconds(5))
            #expect(cluster.brokers[0].consumerIDs(group: "G7").isEmpty)
        }
    }

    @Test func sendBackRetriesThenDeadLetters() async throws {
        try await withCluster(configure: { $0.forEachBroker { $0.delayScale = 0.001 } }) { cluster in
            cluster.createTopic("T8", queues: 1)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            _ = try await c.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: "c", group: "G8", topic: "T8"))
            _ = try await c.call(.sendMessageV2, Wire.sendFields(topic: "T8"), body: ByteBuffer(string: "payload"))
            let first = try Wire.records(try await c.call(.pullMessage, Wire.pullFields(group: "G8", topic: "T8", queueId: 0, offset: 0)))[0]
            let back = try await c.call(.consumerSendMsgBack, [
                "offset": String(first.commitLogOffset), "group": "G8", "delayLevel": "0",
                "originMsgId": first.uniqueKey ?? "", "originTopic": "T8", "unitMode": "false", "maxReconsumeTimes": "2",
            ])
            #expect(back.responseCode == .success)
            // Delivered to %RETRY%G8 after the (scaled) delay; the long poll wakes on it. (Held far longer than the
            // delay, so that an expiry, which would answer it empty, never comes first on a loaded machine.)
            let retryPull = try await c.call(.pullMessage, Wire.pullFields(group: "G8", topic: "%RETRY%G8", queueId: 0, offset: 0, sysFlag: 2, suspend: 60_000), timeout: .seconds(90))
            let retried = try #require(try Wire.records(retryPull).first)
            #expect(retried.reconsumeTimes == 1)
            #expect(retried.uniqueKey == first.uniqueKey)
            #expect(retried.properties[MessageProperty.retryTopic] == "T8")
            #expect(String(buffer: retried.body) == "payload")
            func sendBack(_ record: MessageRecord) async throws {
                let r = try await c.call(.consumerSendMsgBack, [
                    "offset": String(record.commitLogOffset), "group": "G8", "delayLevel": "0",
                    "originMsgId": record.uniqueKey ?? "", "originTopic": "T8", "unitMode": "false", "maxReconsumeTimes": "2",
                ])
                #expect(r.responseCode == .success)
            }
            // Second failure: retried once more (reconsumeTimes 2 = maxReconsumeTimes).
            try await sendBack(retried)
            let againPull = try await c.call(.pullMessage, Wire.pullFields(group: "G8", topic: "%RETRY%G8", queueId: 0, offset: retried.queueOffset + 1, sysFlag: 2, suspend: 60_000), timeout: .seconds(90))
            let again = try #require(try Wire.records(againPull).first)
            #expect(again.reconsumeTimes == 2)
            #expect(again.uniqueKey == first.uniqueKey)
            // Past maxReconsumeTimes: straight to %DLQ%G8, not retried again.
            try await sendBack(again)
            let dlq = try await c.call(.pullMessage, Wire.pullFields(group: "G8", topic: "%DLQ%G8", queueId: 0, offset: 0, sysFlag: 0x2 | 0x4, suspend: 60_000).merging(["subscription": "*"]), timeout: .seconds(90))
            #expect(dlq.responseCode == .success)
            #expect(try Wire.records(dlq).first?.uniqueKey == first.uniqueKey)
            #expect(cluster.brokers[0].maxOffset(topic: "%RETRY%G8", queueId: 0) == 2)
            // delayLevel -1: straight to the DLQ.
            let direct = try await c.call(.consumerSendMsgBack, [
                "offset": String(first.commitLogOffset), "group": "G8", "delayLevel": "-1", "originTopic": "T8",
                "unitMode": "false",
            ])
            #expect(direct.responseCode == .success)
            #expect(cluster.brokers[0].maxOffset(topic: "%DLQ%G8", queueId: 0) == 2)
            let missing = try await c.call(.consumerSendMsgBack, ["offset": "999999", "group": "G8", "delayLevel": "0", "unitMode": "false"])
            #expect(missing.responseCode == .systemError)
            await c.close()
        }
    }

    @Test func lockLeasesExpire() {
        var table = LockTable(leaseMillis: 1000)
        let q = [MessageQueueData(topic: "T", brokerName: "b", queueId: 0)]
        #expect(table.lock(group: "G", clientID: "A", queues: q, now: 0) == q)
        #expect(table.lock(group: "G", clientID: "B", queues: q, now: 1000).isEmpty)  // still A's
        #expect(table.lock(group: "G", clientID: "A", queues: q, now: 1500) == q)  // renewed by A
        #expect(table.lock(group: "G", clientID: "B", queues: q, now: 2501) == q)  // A's lease expired
        table.unlock(group: "G", clientID: "A", queues: q)  // not A's any more: no effect
        #expect(table.lock(group: "G", clientID: "A", queues: q, now: 2600).isEmpty)
    }

    @Test func locksAreLeasedPerClient() async throws {
        try await withCluster { cluster in
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            func body(_ client: String) -> ByteBuffer {
                ByteBuffer(string: #"{"clientId":"\#(client)","consumerGroup":"G9","mqSet":[{"brokerName":"broker-a","queueId":0,"topic":"T9"},{"brokerName":"broker-a","queueId":1,"topic":"T9"}],"onlyThisBroker":false}"#)
            }
            let a = try LockBatchResponseBody(buffer: try #require(try await c.call(.lockBatchMQ, ExtFields(), body: body("A")).body))
            #expect(a.lockOKMQSet.count == 2)
            let b = try LockBatchResponseBody(buffer: try #require(try await c.call(.lockBatchMQ, ExtFields(), body: body("B")).body))
            #expect(b.lockOKMQSet.isEmpty)
            #expect(try await c.call(.unlockBatchMQ, ExtFields(), body: body("A")).responseCode == .success)
            let b2 = try LockBatchResponseBody(buffer: try #require(try await c.call(.lockBatchMQ, ExtFields(), body: body("B")).body))
            #expect(b2.lockOKMQSet.count == 2)
            await c.close()
        }
    }

    @Test func transactionsCommitRollbackAndCheck() async throws {
        try await withCluster(configure: {
            $0.forEachBroker {
                $0.transactionTimeout = .milliseconds(50)
                $0.transactionCheckInterval = .milliseconds(50)
            }
        }) { cluster in
            cluster.createTopic("TX", queues: 1)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            _ = try await c.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: "p", group: "GX", topic: "TX", producer: "PGX"))
            func half(_ body: String, immunitySeconds: Int? = nil) async throws -> RemotingCommand {
                var properties = ["TRAN_MSG": "true", "PGROUP": "PGX"]
                if let immunitySeconds { properties["CHECK_IMMUNITY_TIME_IN_SECONDS"] = String(immunitySeconds) }
                return try await c.call(.sendMessageV2, Wire.sendFields(topic: "TX", properties: properties, group: "PGX", sysFlag: 0x4), body: ByteBuffer(string: body))
            }
            // Immune to checks for longer than the test takes: otherwise, with checks every 50 ms, a loaded machine
            // could check them 15 times (and discard them, as Java does) before their END_TRANSACTION arrives.
            let committed = try await half("commit-me", immunitySeconds: 600)
            let rolledBack = try await half("roll-me-back", immunitySeconds: 600)
            #expect(cluster.brokers[0].maxOffset(topic: "TX", queueId: 0) == 0)  // invisible until committed
            for (r, action) in [(committed, "8"), (rolledBack, "12")] {
                let (_, offset) = try MessageID.decodeOffsetMessageID(try #require(r.field("msgId")))
                try await c.oneway(.endTransaction, [
                    "topic": "TX", "producerGroup": "PGX", "tranStateTableOffset": r.field("queueOffset") ?? "0",
                    "commitLogOffset": String(offset), "commitOrRollback": action, "fromTransactionCheck": "false",
                    "msgId": r.field("transactionId") ?? "", "transactionId": r.field("transactionId") ?? "",
                ])
            }
            // The END_TRANSACTIONs were read before this pull on the same connection: the commit is there already.
            let pull = try await c.call(.pullMessage, Wire.pullFields(group: "GX", topic: "TX", queueId: 0, offset: 0, sysFlag: 2, suspend: 60_000), timeout: .seconds(90))
            #expect(try Wire.records(pull).map { String(buffer: $0.body) } == ["commit-me"])
            // A third half message left open is checked with CHECK_TRANSACTION_STATE (the first two are settled and
            // immune anyway: the first check is this one's).
            _ = try await half("unknown")
            let check = try await c.nextPush(.checkTransactionState)
            #expect(check.isOneway && check.field("topic") == "RMQ_SYS_TRANS_HALF_TOPIC")
            var body = try #require(check.body)
            let message = try MessageRecord.decode(from: &body)
            #expect(String(buffer: message.body) == "unknown")
            #expect(message.topic == "TX")
            #expect(message.properties["TRANSACTION_CHECK_TIMES"] == "1")
            #expect(cluster.brokers[0].maxOffset(topic: "TX", queueId: 0) == 1)  // only the committed one
            await c.close()
        }
    }

    @Test func unsupportedCodesAndMalformedFrames() async throws {
        try await withCluster { cluster in
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            let r = try await c.call(RequestCode(9999), ExtFields())
            #expect(r.responseCode == .requestCodeNotSupported && r.remark == " request type 9999 not supported")
            let bad = try await TestConnection.rawChannel(cluster.brokers[0].address)
            var garbage = ByteBuffer()
            garbage.writeBytes([0x7F, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 16))
            try await bad.writeAndFlush(garbage).get()
            try await withTimeout(.seconds(5), "the malformed frame to close the connection") { try await bad.closeFuture.get() }
            // Only that connection closed.
            #expect(try await c.call(.getMaxOffset, ["topic": "TBW102", "queueId": "0"]).responseCode == .success)
            await c.close()
        }
    }
}

extension ExtFields {
    func merging(_ other: ExtFields) -> ExtFields {
        var copy = self
        for (k, v) in other { copy[k] = v }
        return copy
    }
}
