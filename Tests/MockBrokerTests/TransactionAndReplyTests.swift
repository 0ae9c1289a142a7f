import Foundation
import NIOCore
import RocketMQMockBroker
import RocketMQTestSupport
import RocketMQWire
import Testing

/// Transactions (half messages, END_TRANSACTION, checks, discards, restarts) and request-reply (SEND_REPLY_MESSAGE,
/// PUSH_REPLY_MESSAGE_TO_CLIENT) on the raw wire. The broker checks every 100 ms here; every assertion waits for an
/// event or a state, never for time to pass.
@Suite("Mock broker: transactions and request-reply", .heavy)
struct TransactionAndReplyTests {
    static let halfTopic = "RMQ_SYS_TRANS_HALF_TOPIC"
    static let opTopic = "RMQ_SYS_TRANS_OP_HALF_TOPIC"
    static let checkMaxTopic = "TRANS_CHECK_MAX_TIME_TOPIC"

    /// Brokers that check every 100 ms the halves older than 100 ms.
    static func transactional(checkMax: Int = 1_000, dataDirectory: URL? = nil) -> (inout MockCluster.Configuration) -> Void {
        { config in
            config.forEachBroker {
                $0.transactionTimeout = .milliseconds(100)
                $0.transactionCheckInterval = .milliseconds(100)
                $0.transactionCheckMax = checkMax
                $0.dataDirectory = dataDirectory
            }
        }
    }

    /// A half message as its send answer describes it.
    struct Half {
        var uniqueKey: String
        var queueOffset: Int64
        var commitLogOffset: Int64
        var offsetMsgId: String
    }

    static func sendHalf(
        _ c: TestConnection, _ body: String, queueId: Int32 = 0, group: String = "PGX", extra: [String: String] = [:],
        bornTimestamp: Int64? = nil
    ) async throws -> Half {
        var properties = ["TRAN_MSG": "true", "PGROUP": group]
        for (k, v) in extra { properties[k] = v }
        var fields = Wire.sendFields(topic: "TX", queueId: queueId, properties: properties, group: group, sysFlag: 0x4)
        if let bornTimestamp { fields["g"] = String(bornTimestamp) }
        let r = try await c.call(.sendMessageV2, fields, body: ByteBuffer(string: body))
        #expect(r.responseCode == .success, "\(r)")
        #expect(r.field("queueId") == String(queueId))  // the queue asked for, not the half queue's 0
        let msgId = try #require(r.field("msgId"))
        let (_, offset) = try MessageID.decodeOffsetMessageID(msgId)
        return Half(
            uniqueKey: try #require(r.field("transactionId")), queueOffset: try #require(r.field("queueOffset").flatMap { Int64($0) }),
            commitLogOffset: offset, offsetMsgId: msgId)
    }

    static func endFields(
        _ half: Half, _ action: Int32, fromCheck: Bool = false, group: String = "PGX", topic: String = "TX"
    ) -> ExtFields {
        [
            "topic": topic, "producerGroup": group, "tranStateTableOffset": String(half.queueOffset),
            "commitLogOffset": String(half.commitLogOffset), "commitOrRollback": String(action),
            "fromTransactionCheck": String(fromCheck), "msgId": half.uniqueKey, "transactionId": half.uniqueKey,
            "bname": "broker-a",
        ]
    }

    /// END_TRANSACTION as producers send it (oneway), then a request on the same connection: the broker reads a
    /// connection's frames in order, so when that answer arrives the END_TRANSACTION has been processed.
    static func end(_ c: TestConnection, _ half: Half, _ action: Int32, fromCheck: Bool = false) async throws {
        try await c.oneway(.endTransaction, endFields(half, action, fromCheck: fromCheck))
        _ = try await c.call(.getMaxOffset, ["topic": "TX", "queueId": "0"])
    }

    static func pull(_ c: TestConnection, topic: String = "TX", queueId: Int32) async throws -> [MessageRecord] {
        let r = try await c.call(.pullMessage, Wire.pullFields(group: "GX", topic: topic, queueId: queueId, offset: 0, sysFlag: 4).merging(["subscription": "*"]))
        return try Wire.records(r)
    }

    static func registerProducer(_ c: TestConnection, clientID: String = "producer-1", group: String = "PGX") async throws {
        let r = try await c.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: clientID, group: "GX", topic: "TX", producer: group))
        #expect(r.responseCode == .success)
    }

    /// The next CHECK_TRANSACTION_STATE about `uniqueKey` (checks of other transactions are skipped), as the check
    /// header and the message of its body.
    static func nextCheck(_ c: TestConnection, for uniqueKey: String) async throws -> (CheckTransactionStateRequestHeader, MessageRecord) {
        while true {
            let push = try await c.nextPush(.checkTransactionState, timeout: .seconds(60))
            let header = try CheckTransactionStateRequestHeader(fields: try #require(push.extFields))
            guard header.msgId == uniqueKey else { continue }
            #expect(push.isOneway)
            var body = try #require(push.body)
            return (header, try MessageRecord.decode(from: &body))
        }
    }

    /// A half as a check names it (the copy the broker re-put).
    static func half(from check: CheckTransactionStateRequestHeader) -> Half {
        Half(
            uniqueKey: check.msgId ?? "", queueOffset: check.tranStateTableOffset, commitLogOffset: check.commitLogOffset,
            offsetMsgId: check.offsetMsgId ?? "")
    }

    // MARK: transactions

    @Test func halfSendsAndEndTransactionAnswersAsJava() async throws {
        try await withCluster(configure: Self.transactional()) { cluster in
            cluster.createTopic("TX", queues: 2)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            let half = try await Self.sendHalf(c, "h", queueId: 1)
            let stored = try #require(broker.storedRecords(topic: Self.halfTopic).first)
            #expect(stored.queueId == 0 && stored.queueOffset == half.queueOffset && stored.commitLogOffset == half.commitLogOffset)
            #expect(stored.offsetMessageID == half.offsetMsgId && stored.uniqueKey == half.uniqueKey)
            #expect(stored.sysFlag & MessageSysFlag.transactionMask == 0)
            #expect(stored.properties["__transactionId__"] == half.uniqueKey)
            #expect(stored.properties["REAL_TOPIC"] == "TX" && stored.properties["REAL_QID"] == "1")
            #expect(broker.maxOffset(topic: "TX", queueId: 1) == 0)

            // END_TRANSACTION sent as a request (not oneway) shows the answers Java computes.
            var wrongGroup = Self.endFields(half, 8)
            wrongGroup["producerGroup"] = "OTHER"
            #expect(try await c.call(.endTransaction, wrongGroup).remark == "The producer group wrong")
            var wrongQueueOffset = Self.endFields(half, 8)
            wrongQueueOffset["tranStateTableOffset"] = String(half.queueOffset + 7)
            #expect(try await c.call(.endTransaction, wrongQueueOffset).remark == "The transaction state table offset wrong")
            var unknownOffset = Self.endFields(half, 8)
            unknownOffset["commitLogOffset"] = "987654321"
            let notFound = try await c.call(.endTransaction, unknownOffset)
            #expect(notFound.responseCode == .systemError && notFound.remark == "Find prepared transaction message failed")
            #expect(try await c.call(.endTransaction, Self.endFields(half, 5)).responseCode == .systemError)  // commitOrRollback field wrong
            #expect(broker.maxOffset(topic: "TX", queueId: 1) == 0)

            // Clients may not send to the transaction system topics; a prepared batch is refused.
            for topic in [Self.halfTopic, Self.opTopic, Self.checkMaxTopic] {
                let r = try await c.call(.sendMessageV2, Wire.sendFields(topic: topic), body: ByteBuffer(string: "x"))
                #expect(r.responseCode == .noPermission && r.remark == "Sending message to topic[\(topic)] is forbidden.")
            }
            var batch = ByteBuffer()
            try MessageBatch.encode([BatchEntry(body: ByteBuffer(string: "b"), properties: ["TRAN_MSG": "true"])], into: &batch)
            var batchFields = Wire.sendFields(topic: "TX", properties: ["TRAN_MSG": "true", "PGROUP": "PGX"], group: "PGX", sysFlag: 0x4)
            batchFields["m"] = "true"
            let batchAnswer = try await c.call(.sendBatchMessage, batchFields, body: batch)
            #expect(batchAnswer.responseCode == .messageIllegal)
            await c.close()
        }
    }

    @Test func commitDeliversTheHalfOnceWithItsProperties() async throws {
        try await withCluster(configure: Self.transactional()) { cluster in
            cluster.createTopic("TX", queues: 2)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            let half = try await Self.sendHalf(c, "commit-me", queueId: 1)
            let stored = try #require(broker.storedRecords(topic: Self.halfTopic).first { $0.uniqueKey == half.uniqueKey })
            try await Self.end(c, half, 8)
            // The producer ends it again (a retry): still once.
            try await Self.end(c, half, 8)
            let delivered = try await Self.pull(c, queueId: 1)
            #expect(delivered.count == 1)
            let message = try #require(delivered.first)
            #expect(String(buffer: message.body) == "commit-me")
            #expect(message.topic == "TX" && message.queueId == 1)
            // The half's properties string as the 5.3.3 broker stores it (REAL_TOPIC, TRAN_MSG, PGROUP included).
            #expect(message.properties == stored.properties)
            #expect(message.preparedTransactionOffset == half.commitLogOffset)
            #expect(message.sysFlag & MessageSysFlag.transactionMask == MessageSysFlag.transactionCommitType)
            #expect(message.storeTimestamp == stored.storeTimestamp && message.bornTimestamp == stored.bornTimestamp)
            // One op message names the half's queue offset.
            let ops = broker.storedRecords(topic: Self.opTopic)
            #expect(ops.map { String(buffer: $0.body) } == ["\(half.queueOffset),"] && ops.allSatisfy { $0.tags == "d" })
            // Ended: never checked (no copy of the half is ever re-put).
            let halves = broker.maxOffset(topic: Self.halfTopic, queueId: 0)
            try await stays(for: .milliseconds(500), "no check re-puts the half") { broker.maxOffset(topic: Self.halfTopic, queueId: 0) == halves }
            await c.close()
        }
    }

    @Test func rollbackIsNeverVisibleAndLateEndsAreRefused() async throws {
        try await withCluster(configure: Self.transactional()) { cluster in
            cluster.createTopic("TX", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            let half = try await Self.sendHalf(c, "roll-me-back")
            try await Self.end(c, half, 12)
            try await Self.end(c, half, 8)  // a commit after the rollback is ignored
            #expect(try await Self.pull(c, queueId: 0).isEmpty)
            #expect(broker.storedRecords(topic: Self.opTopic).map { String(buffer: $0.body) } == ["\(half.queueOffset),"])
            try await stays(for: .milliseconds(300), "the rolled back message stays invisible") { broker.maxOffset(topic: "TX", queueId: 0) == 0 }

            // CHECK_IMMUNITY_TIME_IN_SECONDS: the producer's own END_TRANSACTION after the immunity time is refused
            // (604); the answer to a check is not.
            let old = try await Self.sendHalf(
                c, "late", extra: ["CHECK_IMMUNITY_TIME_IN_SECONDS": "1"],
                bornTimestamp: Int64(Date().timeIntervalSince1970 * 1000) - 600_000)
            let refused = try await c.call(.endTransaction, Self.endFields(old, 12))
            #expect(refused.responseCode == .illegalOperation)
            let accepted = try await c.call(.endTransaction, Self.endFields(old, 12, fromCheck: true))
            #expect(accepted.responseCode == .success)
            #expect(try await Self.pull(c, queueId: 0).isEmpty)
            await c.close()
        }
    }

    @Test func unknownStateIsCheckedAndTheCheckAnswerCommitsOnce() async throws {
        try await withCluster(configure: Self.transactional()) { cluster in
            cluster.createTopic("TX", queues: 2)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            try await Self.registerProducer(c)
            let half = try await Self.sendHalf(c, "unknown", queueId: 1)
            try await Self.end(c, half, 0)  // UNKNOW: nothing happens
            let (check, message) = try await Self.nextCheck(c, for: half.uniqueKey)
            #expect(check.topic == Self.halfTopic && check.transactionId == half.uniqueKey && check.bname == "broker-a")
            // The check names a new copy of the half, re-put in the half queue.
            #expect(check.commitLogOffset > half.commitLogOffset && check.tranStateTableOffset > half.queueOffset)
            let copy = try #require(broker.storedRecords(topic: Self.halfTopic).first { $0.commitLogOffset == check.commitLogOffset })
            #expect(copy.queueOffset == check.tranStateTableOffset && copy.offsetMessageID == check.offsetMsgId)
            #expect(copy.uniqueKey == half.uniqueKey && copy.properties["TRANSACTION_CHECK_TIMES"] == "1")
            // The body: that copy, with its real topic and queue.
            #expect(message.topic == "TX" && message.queueId == 1 && String(buffer: message.body) == "unknown")
            #expect(message.queueOffset == check.tranStateTableOffset && message.commitLogOffset == check.commitLogOffset)
            #expect(message.properties["TRANSACTION_CHECK_TIMES"] == "1" && message.properties["PGROUP"] == "PGX")
            #expect(message.sysFlag & MessageSysFlag.transactionMask == 0)

            // Answered commit as the Java client does: the check's offsets and topic, fromTransactionCheck=true.
            var answer = Self.endFields(Self.half(from: check), 8, fromCheck: true, topic: check.topic ?? "")
            answer["msgId"] = half.uniqueKey
            try await c.oneway(.endTransaction, answer)
            _ = try await c.call(.getMaxOffset, ["topic": "TX", "queueId": "1"])
            let delivered = try await Self.pull(c, queueId: 1)
            #expect(delivered.map { String(buffer: $0.body) } == ["unknown"])
            #expect(delivered.first?.preparedTransactionOffset == check.commitLogOffset)
            let halves = broker.maxOffset(topic: Self.halfTopic, queueId: 0)
            try await stays(for: .milliseconds(500), "no further checks") { broker.maxOffset(topic: Self.halfTopic, queueId: 0) == halves }
            await c.close()
        }
    }

    @Test func theProducersCommitAndACheckAnswerDeliverOnce() async throws {
        try await withCluster(configure: Self.transactional()) { cluster in
            cluster.createTopic("TX", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            try await Self.registerProducer(c)
            // Both orders: the producer's own commit first, then the check's answer; and the other way round.
            for producerFirst in [true, false] {
                let half = try await Self.sendHalf(c, producerFirst ? "producer-first" : "check-first")
                let (check, _) = try await Self.nextCheck(c, for: half.uniqueKey)
                let copy = Self.half(from: check)
                let ends: [(Half, Bool)] = producerFirst ? [(half, false), (copy, true)] : [(copy, true), (half, false)]
                for (target, fromCheck) in ends {
                    try await Self.end(c, target, 8, fromCheck: fromCheck)
                }
            }
            let bodies = try await Self.pull(c, queueId: 0).map { String(buffer: $0.body) }
            #expect(bodies == ["producer-first", "check-first"])
            #expect(broker.storedRecords(topic: Self.opTopic).count == 2)
            await c.close()
        }
    }

    @Test func checksStopAfterTransactionCheckMaxAndTheHalfIsDiscarded() async throws {
        try await withCluster(configure: Self.transactional(checkMax: 2)) { cluster in
            cluster.createTopic("TX", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            try await Self.registerProducer(c)
            let half = try await Self.sendHalf(c, "never-answered")
            var times: [String?] = []
            for _ in 0..<2 {
                times.append(try await Self.nextCheck(c, for: half.uniqueKey).1.properties["TRANSACTION_CHECK_TIMES"])
            }
            #expect(times == ["1", "2"])
            try await eventually(timeout: .seconds(60), "the half discarded") {
                broker.storedRecords(topic: Self.checkMaxTopic).contains { $0.uniqueKey == half.uniqueKey }
            }
            let discarded = try #require(broker.storedRecords(topic: Self.checkMaxTopic).first)
            #expect(discarded.queueId == 0 && discarded.properties["TRANSACTION_CHECK_TIMES"] == "2")
            #expect(discarded.properties["REAL_TOPIC"] == "TX" && String(buffer: discarded.body) == "never-answered")
            let topic = try #require(broker.topics.first { $0.name == Self.checkMaxTopic })
            #expect(topic.readQueueNums == 1 && topic.writeQueueNums == 1 && topic.perm.rawValue == 6)
            let halves = broker.maxOffset(topic: Self.halfTopic, queueId: 0)
            try await stays(for: .milliseconds(500), "no more checks") {
                c.pushedCount(.checkTransactionState) == 0 && broker.maxOffset(topic: Self.halfTopic, queueId: 0) == halves
            }
            #expect(broker.maxOffset(topic: "TX", queueId: 0) == 0)
            await c.close()
        }
    }

    @Test(arguments: [true, false])
    func pendingTransactionsSurviveARestart(withDataDirectory: Bool) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mock-broker-tx-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withCluster(configure: Self.transactional(dataDirectory: withDataDirectory ? dir : nil)) { cluster in
            cluster.createTopic("TX", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            try await Self.registerProducer(c)
            let pending = try await Self.sendHalf(c, "pending")
            let committed = try await Self.sendHalf(c, "committed")
            // Checked once before the restart, so the pending one has copies; the other is committed.
            _ = try await Self.nextCheck(c, for: pending.uniqueKey)
            try await Self.end(c, committed, 8)
            await broker.kill()
            try await broker.restart()

            let c2 = try await TestConnection.connect(broker.address)
            try await Self.registerProducer(c2)
            // Checked again after the restart (three checks: the committed one would have been checked meanwhile).
            var lastCheck: CheckTransactionStateRequestHeader?
            for _ in 0..<3 {
                let push = try await c2.nextPush(.checkTransactionState, timeout: .seconds(60))
                let header = try CheckTransactionStateRequestHeader(fields: try #require(push.extFields))
                #expect(header.msgId == pending.uniqueKey, "the committed transaction was checked after the restart")
                lastCheck = header
            }
            let check = try #require(lastCheck)
            try await Self.end(c2, Self.half(from: check), 8, fromCheck: true)
            let bodies = try await Self.pull(c2, queueId: 0).map { String(buffer: $0.body) }
            #expect(bodies == ["committed", "pending"])
            await c.close()
            await c2.close()
        }
    }

    // MARK: request-reply

    static let replyTopic = "DefaultCluster_REPLY_TOPIC"

    static func replyFields(to client: String?, group: String = "PG-REPLIER", queueId: Int32 = 0) -> ExtFields {
        var properties = ["MSG_TYPE": "reply", "CORRELATION_ID": "corr-1", "TTL": "3000"]
        if let client { properties["REPLY_TO_CLIENT"] = client }
        return Wire.sendFields(topic: replyTopic, queueId: queueId, tags: nil, properties: properties, group: group)
    }

    @Test func replyTopicIsInTheRoutesAndAReplyIsPushedToTheRequester() async throws {
        try await withCluster(configure: { $0.forEachBroker { $0.replyPushTimeout = .seconds(60) } }) { cluster in
            let broker = cluster.brokers[0]
            let ns = try await TestConnection.connect(cluster.nameServerAddress)
            let route = try TopicRouteData(buffer: try #require(try await ns.call(.getRouteInfoByTopic, ["topic": Self.replyTopic]).body))
            #expect(route.queueDatas.map { [$0.readQueueNums, $0.writeQueueNums, $0.perm] } == [[1, 1, 6]])

            let requester = try await TestConnection.connect(broker.address)
            _ = try await requester.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: "X", group: "GR", topic: "TX", producer: "PG-REQ"))
            let replier = try await TestConnection.connect(broker.address)
            let fields = Self.replyFields(to: "X")
            async let answer = replier.call(.sendReplyMessageV2, fields, body: ByteBuffer(string: "the reply"))
            let push = try await requester.nextPush(.pushReplyMessageToClient, timeout: .seconds(60))
            #expect(!push.isOneway)
            // Waiting for the requester's answer does not hold up the broker.
            #expect(try await replier.call(.getMaxOffset, ["topic": Self.replyTopic, "queueId": "0"]).responseCode == .success)
            let header = try ReplyMessageRequestHeader(fields: try #require(push.extFields))
            #expect(header.topic == Self.replyTopic && header.producerGroup == "PG-REPLIER" && header.defaultTopic == "TBW102")
            #expect(header.defaultTopicQueueNums == 4 && header.queueId == 0 && header.sysFlag == 0 && header.flag == 0)
            #expect(String(header.bornTimestamp) == fields["g"] && header.reconsumeTimes == 0 && header.unitMode == false)
            #expect(header.storeHost == broker.address && header.storeTimestamp > 0)
            let replierAddress = try #require(replier.channel.localAddress)
            #expect(header.bornHost == "\(replierAddress.ipAddress ?? ""):\(replierAddress.port ?? 0)")
            let pushed = MessageProperties(parsing: header.properties ?? "")
            #expect(pushed["CORRELATION_ID"] == "corr-1" && pushed["REPLY_TO_CLIENT"] == "X" && pushed["PUSH_REPLY_TIME"] != nil)
            #expect(push.body.map { String(buffer: $0) } == "the reply")
            try await requester.respond(to: push)
            let r = try await answer
            #expect(r.responseCode == .success && r.remark == nil)
            // Stored afterwards: the answer names the stored reply (without PUSH_REPLY_TIME).
            let stored = try #require(broker.storedRecords(topic: Self.replyTopic).first)
            #expect(r.field("msgId") == stored.offsetMessageID && r.field("queueId") == "0" && r.field("queueOffset") == "0")
            #expect(stored.properties["PUSH_REPLY_TIME"] == nil && stored.properties["CORRELATION_ID"] == "corr-1")
            await ns.close()
            await requester.close()
            await replier.close()
        }
    }

    @Test func replyFailuresAnswerSystemErrorWithJavasRemarks() async throws {
        try await withCluster(configure: { $0.forEachBroker { $0.replyPushTimeout = .milliseconds(300) } }) { cluster in
            let broker = cluster.brokers[0]
            let replier = try await TestConnection.connect(broker.address)
            let unknown = try await replier.call(.sendReplyMessageV2, Self.replyFields(to: "Y"), body: ByteBuffer(string: "r"))
            #expect(unknown.responseCode == .systemError && unknown.remark == "push reply message fail, channel of <Y> not found.")
            #expect(unknown.field("msgId") != nil)  // stored anyway (storeReplyMessageEnable)
            let missing = try await replier.call(.sendReplyMessageV2, Self.replyFields(to: nil), body: ByteBuffer(string: "r"))
            #expect(missing.responseCode == .systemError && missing.remark == "reply message properties[REPLY_TO_CLIENT] is null")

            let requester = try await TestConnection.connect(broker.address)
            _ = try await requester.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: "X", group: "GR", topic: "TX", producer: "PG-REQ"))
            // Not answered within the push timeout.
            let silent = try await replier.call(.sendReplyMessageV2, Self.replyFields(to: "X"), body: ByteBuffer(string: "r"))
            #expect(silent.responseCode == .systemError && silent.remark == "push reply message to Xfail.")
            _ = try await requester.nextPush(.pushReplyMessageToClient)
            // Answered with a failure, through SEND_REPLY_MESSAGE (324, the long header names).
            let v1 = try SendMessageRequestHeader(v2Fields: Self.replyFields(to: "X")).fields
            async let refused = replier.call(.sendReplyMessage, v1, body: ByteBuffer(string: "r"))
            try await requester.respond(to: try await requester.nextPush(.pushReplyMessageToClient), code: .systemError, remark: "no")
            let refusedAnswer = try await refused
            #expect(refusedAnswer.responseCode == .systemError && refusedAnswer.remark == "push reply message to Xfail.")
            await requester.close()
            await replier.close()
        }
    }

    @Test func aRequesterClosingFailsThePushAtOnce() async throws {
        try await withCluster(configure: { $0.forEachBroker { $0.replyPushTimeout = .seconds(120) } }) { cluster in
            let broker = cluster.brokers[0]
            let requester = try await TestConnection.connect(broker.address)
            _ = try await requester.call(.heartBeat, ExtFields(), body: Wire.heartbeat(clientID: "X", group: "GR", topic: "TX", producer: "PG-REQ"))
            let replier = try await TestConnection.connect(broker.address)
            async let answer = replier.call(.sendReplyMessageV2, Self.replyFields(to: "X"), body: ByteBuffer(string: "r"), timeout: .seconds(60))
            _ = try await requester.nextPush(.pushReplyMessageToClient)
            await requester.close()
            let r = try await answer
            #expect(r.responseCode == .systemError && r.remark == "push reply message to Xfail.")
            await replier.close()
        }
    }
}
