import Foundation
import NIOCore
@testable import RocketMQMockBroker
import RocketMQWire
import RocketMQTestSupport
import Testing

/// POP consumption on the raw wire (JSON headers, as the Java client sends them).
enum Pop {
    static func fields(
        group: String = "GPOP", topic: String, queueId: Int32 = -1, max: Int32 = 32, invisible: Int64, poll: Int64 = 0,
        order: Bool = false, exp: String? = nil, expType: String? = nil
    ) -> ExtFields {
        var f: ExtFields = [
            "consumerGroup": group, "topic": topic, "queueId": String(queueId), "maxMsgNums": String(max),
            "invisibleTime": String(invisible), "pollTime": String(poll), "bornTime": String(Int64(Date().timeIntervalSince1970 * 1000)),
            "initMode": "0", "order": order ? "true" : "false", "bname": "broker-a",
        ]
        if let exp { f["exp"] = exp }
        if let expType { f["expType"] = expType }
        return f
    }

    struct Popped {
        var response: RemotingCommand
        var header: PopMessageResponseHeader?
        var records: [MessageRecord]
        /// One receipt per record, as the Java client builds them (POP_CK when the broker set it).
        var receipts: [PopReceipt]
        var bodies: [String] { records.map { String(buffer: $0.body) } }
    }

    static func pop(
        _ c: TestConnection, group: String = "GPOP", topic: String, queueId: Int32 = -1, max: Int32 = 32,
        invisible: Int64, poll: Int64 = 0, order: Bool = false, exp: String? = nil
    ) async throws -> Popped {
        let r = try await c.call(
            .popMessage, fields(group: group, topic: topic, queueId: queueId, max: max, invisible: invisible, poll: poll, order: order, exp: exp))
        guard r.responseCode == .success else { return Popped(response: r, header: nil, records: [], receipts: []) }
        let header = try PopMessageResponseHeader(fields: r.extFields ?? ExtFields())
        let records = try Wire.records(r)
        let starts = try PopOffsetInfo.startOffsets(header.startOffsetInfo)
        let receipts = try records.map { record -> PopReceipt in
            if let ck = record.properties[MessageProperty.popCheckpoint] { return try PopReceipt(parsing: ck) }
            let start = try #require(starts[PopOffsetInfo.queueKey(.normal, queueId: record.queueId)])
            return PopReceipt(
                ckQueueOffset: start, popTime: header.popTime, invisibleTime: header.invisibleTime,
                reviveQueueId: header.reviveQid, retryFlag: .normal, brokerName: "broker-a", queueId: record.queueId,
                queueOffset: record.queueOffset)
        }
        return Popped(response: r, header: header, records: records, receipts: receipts)
    }

    static func ackFields(group: String = "GPOP", topic: String, _ receipt: PopReceipt, invisible: Int64? = nil) -> ExtFields {
        AckMessageRequestHeader(
            consumerGroup: group, topic: receipt.retryFlag.realTopic(topic, group: group), receipt: receipt,
            invisibleTime: invisible
        ).fields
    }

    static func send(_ c: TestConnection, topic: String, queueId: Int32 = 0, body: String, tags: String = "TagA") async throws {
        let r = try await c.call(
            .sendMessageV2, Wire.sendFields(topic: topic, queueId: queueId, tags: tags, properties: [MessageProperty.uniqueKey: "U-\(body)"]),
            body: ByteBuffer(string: body))
        #expect(r.responseCode == .success)
    }
}

@Suite("Mock broker: POP consumption", .heavy)
struct PopTests {
    @Test func popsEveryMessageOnceAcrossQueuesWithReceipts() async throws {
        try await withCluster { cluster in
            cluster.createTopic("PQ", queues: 4)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            for i in 0..<20 { try await Pop.send(c, topic: "PQ", queueId: Int32(i % 4), body: "m\(i)") }
            var seen: [String] = []
            for _ in 0..<40 where seen.count < 20 {
                let p = try await Pop.pop(c, topic: "PQ", max: 3, invisible: 60_000)
                guard p.response.responseCode == .success else { continue }
                #expect(p.response.remark == "FOUND" && p.records.count <= 3)
                let offsets = try PopOffsetInfo.messageOffsets(p.header?.msgOffsetInfo)
                for (record, receipt) in zip(p.records, p.receipts) {
                    #expect(record.topic == "PQ")
                    #expect(receipt.queueId == record.queueId && receipt.queueOffset == record.queueOffset)
                    #expect(offsets[PopOffsetInfo.queueKey(.normal, queueId: record.queueId)]?.contains(record.queueOffset) == true)
                    #expect((0..<8).contains(receipt.reviveQueueId) && receipt.retryFlag == .normal)
                    // The text form round-trips.
                    #expect(try PopReceipt(parsing: receipt.text) == receipt)
                }
                seen += p.bodies
            }
            #expect(seen.count == 20 && Set(seen) == Set((0..<20).map { "m\($0)" }))
            let none = try await Pop.pop(c, topic: "PQ", invisible: 60_000)
            #expect(none.response.responseCode == .pollingTimeout && none.response.remark == "NO_MESSAGE_IN_QUEUE")
            // The group registered itself as a POP consumer; its offsets advanced at pop time.
            #expect(broker.state.withLock { $0.registry.consumeType("GPOP") } == "CONSUME_POP")
            #expect((0..<4).map { broker.committedOffset(group: "GPOP", topic: "PQ", queueId: $0) } == [5, 5, 5, 5])
            await c.close()
        }
    }

    @Test func ackedStaysGoneUnackedComesBackFromTheRetryTopic() async throws {
        try await withCluster { cluster in
            cluster.createTopic("PR", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            try await Pop.send(c, topic: "PR", body: "a")
            try await Pop.send(c, topic: "PR", body: "b")
            let p = try await Pop.pop(c, topic: "PR", invisible: 1_000)
            #expect(p.bodies == ["a", "b"])
            let ack = try await c.call(.ackMessage, Pop.ackFields(topic: "PR", p.receipts[0]))
            #expect(ack.responseCode == .success)
            var back: Pop.Popped?
            try await eventually("b redelivered") {
                let q = try await Pop.pop(c, topic: "PR", invisible: 60_000)
                if !q.records.isEmpty { back = q }
                return back != nil
            }
            let again = try #require(back)
            #expect(again.bodies == ["b"])
            let record = try #require(again.records.first)
            let receipt = try #require(again.receipts.first)
            #expect(record.topic == "PR" && record.reconsumeTimes == 1)
            #expect(record.properties[MessageProperty.uniqueKey] == "U-b")
            #expect(record.properties[MessageProperty.firstPopTime] == String(p.header?.popTime ?? -1))
            #expect(receipt.retryFlag == .retry && receipt.queueId == 0 && receipt.queueOffset == record.queueOffset)
            // Not back while invisible (60 s) and acked through the retry topic.
            try await stays(for: .milliseconds(600), "nothing to pop") {
                try await Pop.pop(c, topic: "PR", invisible: 60_000).response.responseCode == .pollingTimeout
            }
            #expect(try await c.call(.ackMessage, Pop.ackFields(topic: "PR", receipt)).responseCode == .success)
            #expect(broker.state.withLock { $0.pop.checkpoints.isEmpty })
            #expect(broker.maxOffset(topic: "%RETRY%GPOP_PR", queueId: 0) == 1)
            await c.close()
        }
    }

    @Test func changeInvisibleTimeExtendsAndOnlyTheNewReceiptCounts() async throws {
        try await withCluster { cluster in
            cluster.createTopic("PC", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            // Extends: invisible for 400 ms, then for 60 s.
            try await Pop.send(c, topic: "PC", body: "a")
            let a = try await Pop.pop(c, topic: "PC", invisible: 1_000)
            let changed = try await c.call(.changeMessageInvisibleTime, Pop.ackFields(topic: "PC", a.receipts[0], invisible: 60_000))
            #expect(changed.responseCode == .success)
            let h = try ChangeInvisibleTimeResponseHeader(fields: changed.extFields ?? ExtFields())
            #expect(h.invisibleTime == 60_000 && h.reviveQid == a.receipts[0].reviveQueueId && h.popTime >= a.receipts[0].popTime)
            try await stays(for: .milliseconds(1_500), "a stays invisible") {
                try await Pop.pop(c, topic: "PC", invisible: 60_000).response.responseCode == .pollingTimeout
            }
            let newA = PopReceipt(
                ckQueueOffset: a.receipts[0].queueOffset, popTime: h.popTime, invisibleTime: h.invisibleTime, reviveQueueId: h.reviveQid,
                retryFlag: .normal, brokerName: "broker-a", queueId: 0, queueOffset: a.receipts[0].queueOffset)
            #expect(try await c.call(.ackMessage, Pop.ackFields(topic: "PC", newA)).responseCode == .success)
            // The old receipt's ack does not stop the redelivery; the new one's does.
            try await Pop.send(c, topic: "PC", body: "b")
            let b = try await Pop.pop(c, topic: "PC", invisible: 60_000)
            #expect(b.bodies == ["b"])
            let shorter = try await c.call(.changeMessageInvisibleTime, Pop.ackFields(topic: "PC", b.receipts[0], invisible: 400))
            #expect(shorter.responseCode == .success)
            #expect(try await c.call(.ackMessage, Pop.ackFields(topic: "PC", b.receipts[0])).responseCode == .success)
            var back: Pop.Popped?
            try await eventually("b redelivered") {
                let q = try await Pop.pop(c, topic: "PC", invisible: 60_000)
                if !q.records.isEmpty { back = q }
                return back != nil
            }
            let retried = try #require(back)
            #expect(retried.bodies == ["b"] && retried.records[0].reconsumeTimes == 1)
            let r = try await c.call(.changeMessageInvisibleTime, Pop.ackFields(topic: "PC", retried.receipts[0], invisible: 400))
            let rh = try ChangeInvisibleTimeResponseHeader(fields: r.extFields ?? ExtFields())
            var newB = retried.receipts[0]
            newB.ckQueueOffset = newB.queueOffset
            newB.popTime = rh.popTime
            newB.invisibleTime = rh.invisibleTime
            #expect(try await c.call(.ackMessage, Pop.ackFields(topic: "PC", newB)).responseCode == .success)
            try await stays(for: .milliseconds(1_200), "b acked for good") {
                try await Pop.pop(c, topic: "PC", invisible: 60_000).response.responseCode == .pollingTimeout
            }
            #expect(broker.state.withLock { $0.pop.checkpoints.isEmpty })
            await c.close()
        }
    }

    @Test func batchAckAcknowledgesTheSetBitsOnly() async throws {
        try await withCluster { cluster in
            cluster.createTopic("PB", queues: 1)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            for m in ["x", "y", "z"] { try await Pop.send(c, topic: "PB", body: m) }
            let p = try await Pop.pop(c, topic: "PB", invisible: 1_000)
            #expect(p.bodies == ["x", "y", "z"])
            let r = p.receipts[0]
            let body = BatchAckMessageRequestBody(brokerName: "broker-a", acks: [
                BatchAck(
                    consumerGroup: "GPOP", topic: "PB", retryFlag: .normal, startOffset: r.ckQueueOffset, queueId: 0,
                    reviveQueueId: r.reviveQueueId, popTime: r.popTime, invisibleTime: r.invisibleTime,
                    bits: [Int(p.receipts[0].queueOffset - r.ckQueueOffset), Int(p.receipts[2].queueOffset - r.ckQueueOffset)]),
            ])
            let ack = try await c.call(.batchAckMessage, nil, body: body.encodedBuffer())
            #expect(ack.responseCode == .success)
            let empty = try await c.call(.batchAckMessage, nil)
            #expect(empty.responseCode == .noMessage)
            var back: [String] = []
            try await eventually("y redelivered") {
                back += try await Pop.pop(c, topic: "PB", invisible: 60_000).bodies
                return !back.isEmpty
            }
            #expect(back == ["y"])
            await c.close()
        }
    }

    @Test func longPollingWakesOnSendAndTimesOut() async throws {
        try await withCluster { cluster in
            cluster.createTopic("PL", queues: 2)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            let none = try await Pop.pop(c, topic: "PL", invisible: 60_000, poll: 0)
            #expect(none.response.responseCode == .pollingTimeout && none.response.remark == "NO_MESSAGE_IN_QUEUE")
            let clock = ContinuousClock()
            let t0 = clock.now
            let timedOut = try await Pop.pop(c, topic: "PL", invisible: 60_000, poll: 300)
            #expect(timedOut.response.responseCode == .pollingTimeout && clock.now - t0 >= .milliseconds(200))
            // Held until a message arrives (the poll time is far away).
            let held = Task { try await Pop.pop(c, topic: "PL", invisible: 60_000, poll: 20_000) }
            try await eventually("the pop is held") {
                let r = try await c.call(.pollingInfo, ["consumerGroup": "GPOP", "topic": "PL", "queueId": "-1"])
                return r.responseCode == .success && r.field("pollingNum") == "1"
            }
            try await Pop.send(c, topic: "PL", queueId: 1, body: "late")
            let woken = try await held.value
            #expect(woken.response.responseCode == .success && woken.bodies == ["late"])
            // NOTIFICATION: no message now, then held and woken by one.
            let n0 = try await c.call(.notification, ["consumerGroup": "GPOP", "topic": "PL", "queueId": "-1", "pollTime": "0", "bornTime": "0"])
            #expect(n0.responseCode == .success && n0.field("hasMsg") == "false")
            let n1 = Task {
                try await c.call(.notification, [
                    "consumerGroup": "GPOP", "topic": "PL", "queueId": "-1", "pollTime": "20000",
                    "bornTime": String(Int64(Date().timeIntervalSince1970 * 1000)),
                ])
            }
            try await eventually("the notification is held") {
                try await c.call(.pollingInfo, ["consumerGroup": "GPOP", "topic": "PL", "queueId": "-1"]).field("pollingNum") == "1"
            }
            try await Pop.send(c, topic: "PL", queueId: 0, body: "more")
            #expect(try await n1.value.field("hasMsg") == "true")
            // PEEK sees it without popping it.
            let peek = try await c.call(.peekMessage, ["consumerGroup": "GPOP", "topic": "PL", "queueId": "0", "maxMsgNums": "8"])
            let peeked = try Wire.records(peek).map { String(buffer: $0.body) }
            #expect(peek.responseCode == .success && peeked == ["more"])
            #expect(try await Pop.pop(c, topic: "PL", invisible: 60_000).bodies == ["more"])
            let peekNone = try await c.call(.peekMessage, ["consumerGroup": "GPOP", "topic": "PL", "queueId": "0", "maxMsgNums": "8"])
            #expect(peekNone.responseCode == .pullNotFound)
            await c.close()
        }
    }

    @Test func orderedPopBlocksTheQueueUntilAckedAndKeepsOrder() async throws {
        try await withCluster { cluster in
            cluster.createTopic("PO", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            for m in ["o0", "o1", "o2"] { try await Pop.send(c, topic: "PO", body: m) }
            let first = try await Pop.pop(c, topic: "PO", max: 2, invisible: 60_000, order: true)
            #expect(first.bodies == ["o0", "o1"] && first.header?.reviveQid == 999)
            let counts = try PopOffsetInfo.orderCounts(first.header?.orderCountInfo)
            #expect(counts[PopOffsetInfo.orderKey(.normal, queueId: 0, offset: 0)] == 0 && counts["0@0"] == 0)
            #expect(try await Pop.pop(c, topic: "PO", invisible: 60_000, order: true).response.responseCode == .pollingTimeout)
            #expect(try await c.call(.ackMessage, Pop.ackFields(topic: "PO", first.receipts[0])).responseCode == .success)
            #expect(broker.committedOffset(group: "GPOP", topic: "PO", queueId: 0) == 1)
            #expect(try await Pop.pop(c, topic: "PO", invisible: 60_000, order: true).response.responseCode == .pollingTimeout)
            #expect(try await c.call(.ackMessage, Pop.ackFields(topic: "PO", first.receipts[1])).responseCode == .success)
            #expect(broker.committedOffset(group: "GPOP", topic: "PO", queueId: 0) == 2)
            let second = try await Pop.pop(c, topic: "PO", invisible: 400, order: true)
            #expect(second.bodies == ["o2"])
            // Not acked: the same message again after its invisible time, counted.
            var again: Pop.Popped?
            try await eventually("o2 popped again") {
                let p = try await Pop.pop(c, topic: "PO", invisible: 60_000, order: true)
                if !p.records.isEmpty { again = p }
                return again != nil
            }
            let repeated = try #require(again)
            #expect(repeated.bodies == ["o2"])
            #expect(try PopOffsetInfo.orderCounts(repeated.header?.orderCountInfo)[PopOffsetInfo.orderKey(.normal, queueId: 0, offset: 2)] == 1)
            #expect(broker.maxOffset(topic: "%RETRY%GPOP_PO", queueId: 0) == 0)
            await c.close()
        }
    }

    @Test func revivedTooOftenGoesToTheDeadLetterTopic() async throws {
        try await withCluster(configure: { $0.forEachBroker { $0.popMaxReconsumeTimes = 1 } }) { cluster in
            cluster.createTopic("PD", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            try await Pop.send(c, topic: "PD", body: "d")
            #expect(try await Pop.pop(c, topic: "PD", invisible: 300).bodies == ["d"])
            var retried: [MessageRecord] = []
            try await eventually("d retried once") {
                retried += try await Pop.pop(c, topic: "PD", invisible: 300).records
                return !retried.isEmpty
            }
            #expect(retried.map(\.reconsumeTimes) == [1])
            try await eventually("d dead-lettered") { broker.maxOffset(topic: "%DLQ%GPOP", queueId: 0) == 1 }
            let dead = broker.storedRecords(topic: "%DLQ%GPOP")
            #expect(dead.map(\.reconsumeTimes) == [2] && dead.first?.properties[MessageProperty.uniqueKey] == "U-d")
            try await stays(for: .milliseconds(600), "nothing left to pop") {
                try await Pop.pop(c, topic: "PD", invisible: 300).response.responseCode == .pollingTimeout
            }
            await c.close()
        }
    }

    @Test func checkpointsSurviveARestartWithADataDirectory() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mock-broker-pop-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withCluster(configure: { $0.forEachBroker { $0.dataDirectory = dir } }) { cluster in
            cluster.createTopic("PS", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            for m in ["acked", "unacked"] { try await Pop.send(c, topic: "PS", body: m) }
            let p = try await Pop.pop(c, topic: "PS", invisible: 1_500)
            #expect(p.bodies == ["acked", "unacked"])
            #expect(try await c.call(.ackMessage, Pop.ackFields(topic: "PS", p.receipts[0])).responseCode == .success)
            await broker.kill()
            try await broker.restart()
            let c2 = try await TestConnection.connect(broker.address)
            var back: [String] = []
            try await eventually("the unacked message back after the restart") {
                back += try await Pop.pop(c2, topic: "PS", invisible: 60_000).bodies
                return !back.isEmpty
            }
            #expect(back == ["unacked"])
            try await stays(for: .milliseconds(1_200), "the acked message never back") {
                try await Pop.pop(c2, topic: "PS", invisible: 60_000).response.responseCode == .pollingTimeout
            }
            #expect(broker.committedOffset(group: "GPOP", topic: "PS", queueId: 0) == 2)
            await c2.close()
        }
    }

    @Test func drainAnswersGoAwayAndClosesHeldPops() async throws {
        try await withCluster { cluster in
            cluster.createTopic("PG", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            let held = Task { try await Pop.pop(c, topic: "PG", invisible: 60_000, poll: 60_000) }
            try await eventually("the pop is held") {
                try await c.call(.pollingInfo, ["consumerGroup": "GPOP", "topic": "PG", "queueId": "-1"]).field("pollingNum") == "1"
            }
            let drain = Task { await broker.drain(grace: .seconds(120)) }
            try await eventually("GO_AWAY for a new pop") {
                try await c.call(.popMessage, Pop.fields(topic: "PG", invisible: 60_000)).responseCode == .goAway
            }
            broker.endGracePeriod()
            await drain.value
            // The held pop is not answered with a message: its connection closes with the broker.
            await #expect(throws: (any Error).self) { _ = try await held.value }
            #expect(broker.state.withLock { $0.pop.holds.isEmpty })
        }
    }

    @Test func tagAndSQLFiltersAndPopHeartbeats() async throws {
        try await withCluster { cluster in
            cluster.createTopic("PF", queues: 1)
            let broker = cluster.brokers[0]
            let c = try await TestConnection.connect(broker.address)
            var hb = String(buffer: Wire.heartbeat(clientID: "pop-client", group: "GHB", topic: "PF"))
            hb = hb.replacingOccurrences(of: "CONSUME_PASSIVELY", with: "CONSUME_POP")
            #expect(try await c.call(.heartBeat, ExtFields(), body: ByteBuffer(string: hb)).responseCode == .success)
            #expect(broker.state.withLock { $0.registry.consumeType("GHB") } == "CONSUME_POP")
            for (body, tag) in [("a1", "TagA"), ("b1", "TagB"), ("a2", "TagA")] {
                try await Pop.send(c, topic: "PF", body: body, tags: tag)
            }
            #expect(try await Pop.pop(c, group: "GTAG", topic: "PF", invisible: 60_000, exp: "TagB").bodies == ["b1"])
            // The messages filtered out count as consumed for that group.
            #expect(broker.committedOffset(group: "GTAG", topic: "PF", queueId: 0) == 3)
            let sql = try await c.call(.popMessage, Pop.fields(group: "GSQL", topic: "PF", invisible: 60_000, exp: "TAGS = 'TagA'", expType: "SQL92"))
            let matched = try Wire.records(sql).map { String(buffer: $0.body) }
            #expect(sql.responseCode == .success && matched == ["a1", "a2"])
            await c.close()
        }
    }

    @Test func badInputGetsJavasCodes() async throws {
        try await withCluster { cluster in
            cluster.createTopic("PX", queues: 4)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            try await Pop.send(c, topic: "PX", body: "x")
            let tooMany = try await Pop.pop(c, topic: "PX", max: 33, invisible: 60_000)
            #expect(tooMany.response.responseCode == .invalidParameter && tooMany.response.remark?.contains("greater than 32") == true)
            let badQueue = try await Pop.pop(c, topic: "PX", queueId: 4, invisible: 60_000)
            #expect(badQueue.response.responseCode == .invalidParameter && badQueue.response.remark?.hasPrefix("queueId[4] is illegal") == true)
            #expect(try await Pop.pop(c, topic: "NOPE", invisible: 60_000).response.responseCode == .topicNotExist)
            let badSQL = try await c.call(.popMessage, Pop.fields(topic: "PX", invisible: 60_000).merging(["expType": "SQL92", "exp": "a >"]))
            #expect(badSQL.responseCode == .subscriptionParseFailed)
            let p = try await Pop.pop(c, topic: "PX", invisible: 60_000)
            let receipt = try #require(p.receipts.first)
            var fields = Pop.ackFields(topic: "PX", receipt)
            fields["extraInfo"] = "not a receipt"
            let malformed = try await c.call(.ackMessage, fields)
            #expect(malformed.responseCode == .systemError && malformed.remark?.contains("extraInfo") == true)
            fields = Pop.ackFields(topic: "PX", receipt)
            fields["queueId"] = "9"
            let illegal = try await c.call(.ackMessage, fields)
            #expect(illegal.responseCode == .messageIllegal && illegal.remark?.hasPrefix("queueId[9] is illegal") == true)
            fields = Pop.ackFields(topic: "PX", receipt)
            fields["offset"] = "100"
            let outOfRange = try await c.call(.ackMessage, fields)
            #expect(outOfRange.responseCode == .noMessage && outOfRange.remark?.hasPrefix("offset is illegal, key:PX@") == true)
            // CHANGE_MESSAGE_INVISIBLETIME refuses offset == max (ack accepts it).
            var change = Pop.ackFields(topic: "PX", receipt, invisible: 1_000)
            change["offset"] = String(receipt.queueOffset + 1)
            #expect(try await c.call(.changeMessageInvisibleTime, change).responseCode == .noMessage)
            change["offset"] = String(receipt.queueOffset)
            change["extraInfo"] = "1 2 3"
            #expect(try await c.call(.changeMessageInvisibleTime, change).responseCode == .systemError)
            var missing = Pop.fields(topic: "PX", invisible: 60_000)
            missing["consumerGroup"] = nil
            #expect(try await c.call(.popMessage, missing).responseCode == .systemError)
            // Still serving.
            #expect(try await c.call(.ackMessage, Pop.ackFields(topic: "PX", receipt)).responseCode == .success)
            await c.close()
        }
    }
}
