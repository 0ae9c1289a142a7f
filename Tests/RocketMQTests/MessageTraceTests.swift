import Foundation
import NIOCore
@testable import RocketMQ
import RocketMQMockBroker
import RocketMQTestSupport
import RocketMQWire
import Synchronization
import Testing

/// One message of a trace topic: its `KEYS` and its decoded records.
struct TraceMessage {
    var keys: [String]
    var records: [MessageTraceRecord]
}

/// The trace messages the mock brokers stored in `topic`, decoded.
func storedTraces(_ cluster: MockCluster, topic: String = MessageTraceConfiguration.defaultTraceTopic) throws -> [TraceMessage] {
    try storedMessages(cluster, topic: topic).map { record in
        TraceMessage(
            keys: (record.properties[MessageProperty.keys] ?? "").split(separator: " ").map(String.init),
            records: try MessageTraceCodec.decode(Array(record.body.readableBytesView)))
    }
}

/// A trace configuration for tests: flushed every 50 ms.
func testTrace(_ configure: (inout MessageTraceConfiguration) -> Void = { _ in }) -> MessageTraceConfiguration {
    var trace = MessageTraceConfiguration()
    trace.flushInterval = .milliseconds(50)
    configure(&trace)
    return trace
}

func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

@Suite("Message trace buffer and batching")
struct MessageTraceBufferTests {
    func record(_ id: String, topic: String = "T") -> MessageTraceRecord {
        var r = MessageTraceRecord(type: .pub, timestamp: 1)
        r.messageID = id
        r.topic = topic
        return r
    }

    @Test("wakes once per full batch, sends at most maxInFlight batches, drops past capacity")
    func offerAndBatch() {
        var b = MessageTraceBuffer(capacity: 5, batchSize: 2, maxInFlight: 1)
        var offered = b.offer(record("1"))
        #expect(offered == .init())
        offered = b.offer(record("2"))
        #expect(offered == .init(wake: true))
        offered = b.offer(record("3"))
        #expect(offered == .init(), "a wake is already pending")
        var batch = b.nextBatch()
        #expect(batch?.map(\.messageID) == ["1", "2"])
        batch = b.nextBatch()
        #expect(batch == nil, "one batch in flight at most")
        offered = b.offer([record("4"), record("5"), record("6"), record("7"), record("8")])
        #expect(offered == .init(dropped: 1), "room for 4 of 5, and no wake while the one send slot is taken")
        #expect(b.records.count == 5 && b.statistics.recordsDropped == 1 && b.statistics.recordsOffered == 8)
        let wake = b.finished(sent: 2, messages: 1, failed: 0, failedMessages: 0)
        #expect(wake, "a full batch waits: wake")
        batch = b.nextBatch()
        #expect(batch?.map(\.messageID) == ["3", "4"])
        #expect(b.statistics.recordsSent == 2 && b.statistics.messagesSent == 1)
    }

    @Test("the flush interval sends a partial batch; a cancelled send's records go back to the front")
    func flushAndRequeue() {
        var b = MessageTraceBuffer(capacity: 4, batchSize: 10, maxInFlight: 2)
        var flush = b.requestFlush()
        #expect(!flush, "nothing to flush")
        _ = b.offer([record("1"), record("2"), record("3")])
        let none = b.nextBatch()
        #expect(none == nil, "less than a batch")
        flush = b.requestFlush()
        #expect(flush)
        let batch = b.nextBatch()
        #expect(batch?.count == 3 && !b.flushRequested)
        _ = b.offer([record("4"), record("5")])
        _ = b.finished(sent: 0, messages: 0, failed: 0, failedMessages: 0)
        b.requeue(batch ?? [])
        #expect(b.records.map(\.messageID) == ["1", "2", "3", "4", "5"], "requeued at the front, even past the capacity")
        #expect(b.statistics.recordsFailed == 0 && b.inFlight == 0 && b.isFull)
        let closed = b.close()
        #expect(closed.map { $0.map(\.messageID) } == [["1", "2", "3", "4", "5"]])
        let late = b.offer(record("6"))
        #expect(late == .init(dropped: 1), "closed")
    }

    @Test("a batch becomes one trace message per traced topic, split before it would exceed maxMessageSize")
    func chunking() {
        let batch = [record("a1", topic: "A"), record("b1", topic: "B"), record("a2", topic: "A"), record("a3", topic: "A")]
        let oneSize = MessageTraceCodec.encode(record("a1", topic: "A")).utf8.count
        let chunks = MessageTraceDispatcher.chunks(of: batch, maxBytes: oneSize * 2)
        #expect(chunks.map { $0.records.map(\.messageID) } == [["a1", "a2"], ["a3"], ["b1"]])
        #expect(chunks.allSatisfy { $0.body == MessageTraceCodec.encode($0.records) && $0.body.utf8.count <= oneSize * 2 })
        #expect(MessageTraceDispatcher.chunks(of: batch, maxBytes: 1).count == 4, "a record larger than the limit goes alone")
    }

    @Test("configuration: Java's defaults, validation")
    func configuration() throws {
        let c = MessageTraceConfiguration()
        #expect(c.traceTopic == "RMQ_SYS_TRACE_TOPIC" && c.batchSize == 10 && c.maxMessageSize == 128_000)
        #expect(c.bufferCapacity == 2048 && c.flushInterval == .seconds(5) && c.sendTimeout == .seconds(5))
        var big = c
        big.batchSize = 50
        #expect(big.effectiveBatchSize == 20)
        try c.validate()
        var bad = c
        bad.traceTopic = "bad topic"
        #expect(throws: RocketMQError.self) { try bad.validate() }
        bad = c
        bad.bufferCapacity = 0
        #expect(throws: RocketMQError.self) { try bad.validate() }
        var producer = ProducerConfiguration(group: "G")
        producer.messageTrace = bad
        #expect(throws: RocketMQError.self) { try Producer(configuration: producer, client: ClientConfiguration(nameServer: "127.0.0.1:9")) }
    }
}

@Suite("Message trace against the mock cluster", .heavy)
struct MessageTraceTests {
    @Test("traced sends and handling are written to RMQ_SYS_TRACE_TOPIC, one Pub and one SubBefore/SubAfter per message")
    func producerAndConsumerTrace() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("TRC1", queues: 2)
        var config = ProducerConfiguration(group: "TraceProducer")
        config.sendTimeout = .seconds(20)
        config.messageTrace = testTrace()
        let producer = try Producer(configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress))
        let producerRun = Task { try await producer.run() }  // unstructured: the producer's run(), cancelled below
        let consumer = try startConsumer(cluster, group: "TraceConsumer", topic: "TRC1", configure: { $0.messageTrace = testTrace() })

        let n = 20
        let before = nowMillis()
        var sent: [Int: SendResult] = [:]
        for i in 0..<n {
            sent[i] = try await producer.send(Message(topic: "TRC1", string: "body-\(i)", tags: "Tag\(i % 2)", keys: ["k\(i)", "biz"]))
        }
        let after = nowMillis()
        try await eventually("consumed") { consumer.received.unique == n }
        try await eventually("every trace stored") {
            try storedTraces(cluster).flatMap(\.records).count >= 3 * n
        }

        // Read the trace topic back through the SDK, as any consumer of it would.
        let reader = try startLite(cluster, group: "TraceReader") { try $0.subscribe("RMQ_SYS_TRACE_TOPIC") }
        var traceMessages: [ReceivedMessage] = []
        try await eventually("the trace topic read back") {
            traceMessages += try await reader.consumer.poll(timeout: .milliseconds(200))
            return try traceMessages.flatMap { try MessageTraceCodec.decode(Array($0.body.readableBytesView)) }.count >= 3 * n
        }
        let records = try traceMessages.flatMap { try MessageTraceCodec.decode(Array($0.body.readableBytesView)) }
        let broker = cluster.brokers[0].address
        for (i, result) in sent {
            let id = result.messageID
            let pubs = records.filter { $0.type == .pub && $0.messageID == id }
            #expect(pubs.count == 1, "one Pub for \(id)")
            if let pub = pubs.first {
                #expect(pub.topic == "TRC1" && pub.tags == "Tag\(i % 2)" && pub.keys == "k\(i) biz")
                #expect(pub.storeHost == broker && pub.offsetMessageID == result.offsetMessageID)
                #expect(pub.groupName == "TraceProducer" && pub.regionID == "DefaultRegion" && pub.success)
                #expect(pub.messageType == .normal && pub.bodyLength == Int32("body-\(i)".utf8.count))
                #expect(pub.timestamp >= before - 1 && pub.timestamp <= after + 1 && pub.costTime >= 0)
            }
            let befores = records.filter { $0.type == .subBefore && $0.messageID == id }
            let afters = records.filter { $0.type == .subAfter && $0.messageID == id }
            #expect(befores.count == 1 && afters.count == 1, "one SubBefore and one SubAfter for \(id)")
            if let b = befores.first, let a = afters.first {
                #expect(!b.requestID.isEmpty && b.requestID == a.requestID)
                #expect(b.groupName == "TraceConsumer" && a.groupName == "TraceConsumer" && b.regionID == "DefaultRegion")
                #expect(b.retryTimes == 0 && b.keys == "k\(i) biz" && a.keys == "k\(i) biz")
                #expect(a.success && a.contextCode == MessageTraceConsumeOutcome.success.rawValue && a.costTime >= 0)
                #expect(a.timestamp >= b.timestamp)
            }
            // mqadmin queryMsgTraceById finds the traces by the message id: it is a key of the trace messages.
            #expect(traceMessages.contains { $0.keys.contains(id) && $0.keys.contains("k\(i)") })
        }
        #expect(records.count == 3 * n)
        #expect(traceMessages.allSatisfy { $0.topic == "RMQ_SYS_TRACE_TOPIC" })
        // The counts follow the brokers' answers to the trace sends, which may land just after the records are stored.
        try await eventually(timeout: .seconds(60), "trace statistics counted") {
            producer.statistics.messageTrace?.recordsSent == n && consumer.consumer.messageTraceStatistics?.recordsSent == 2 * n
        }
        let producerStats = try #require(producer.statistics.messageTrace)
        #expect(producerStats.recordsSent == n && producerStats.recordsDropped == 0 && producerStats.recordsFailed == 0)
        #expect(producer.statistics.sent == n, "trace messages are not counted as the user's sends")

        await reader.stop()
        await consumer.stop()
        producerRun.cancel()
        _ = try? await producerRun.value
        await cluster.shutdown()
    }

    @Test("a handler that throws or asks for a retry is traced with Java's context code; the redelivery with its retry count")
    func failedHandlingTrace() async throws {
        var clusterConfig = MockCluster.Configuration(brokers: 1)
        clusterConfig.forEachBroker { $0.delayScale = 0.001 }
        let cluster = try await MockCluster.start(clusterConfig)
        cluster.createTopic("TRC2", queues: 1)
        let (producer, producerRun) = try startProducer(cluster)
        var config = ConsumerConfiguration(group: "TraceFailing")
        config.startPoint = .firstOffset
        config.messageTrace = testTrace()
        let deliveries = Mutex<[String: Int]>([:])
        let consumer = try PushConsumer(configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress)) { messages in
            struct Refused: Error {}
            let m = messages[0]
            let first = deliveries.withLock { d -> Bool in
                d[m.messageID, default: 0] += 1
                return d[m.messageID] == 1
            }
            if first && m.tags == "Throw" { throw Refused() }
            if first && m.tags == "Later" { return .retryLater }
            return .success
        }
        try consumer.subscribe("TRC2")
        let consumerRun = Task { try await consumer.run() }  // unstructured: the consumer's run(), cancelled below
        let thrown = try await producer.send(Message(topic: "TRC2", string: "a", tags: "Throw"))
        let later = try await producer.send(Message(topic: "TRC2", string: "b", tags: "Later"))
        try await eventually(timeout: .seconds(60), "both handled twice, traced") {
            try storedTraces(cluster).flatMap(\.records).filter { $0.type == .subAfter }.count >= 4
        }
        let records = try storedTraces(cluster).flatMap(\.records)
        for (result, code) in [(thrown, MessageTraceConsumeOutcome.exception), (later, .failed)] {
            let afters = records.filter { $0.type == .subAfter && $0.messageID == result.messageID }
            let befores = records.filter { $0.type == .subBefore && $0.messageID == result.messageID }
            #expect(afters.map(\.success).sorted { !$0 && $1 } == [false, true])
            #expect(Set(afters.map(\.contextCode)) == [code.rawValue, MessageTraceConsumeOutcome.success.rawValue])
            #expect(befores.map(\.retryTimes).sorted() == [0, 1])
            #expect(Set(befores.map(\.requestID)) == Set(afters.map(\.requestID)) && Set(befores.map(\.requestID)).count == 2)
        }
        consumerRun.cancel()
        _ = try? await consumerRun.value
        producerRun.cancel()
        _ = try? await producerRun.value
        await cluster.shutdown()
    }

    @Test("orderly and POP handling are traced too", arguments: ["orderly", "pop"])
    func handlingModesTrace(mode: String) async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        let topic = "TRC8\(mode)"
        cluster.createTopic(topic, queues: 2)
        let (producer, producerRun) = try startProducer(cluster)
        let consumer = try startConsumer(cluster, group: "Trace\(mode)", topic: topic, configure: {
            $0.messageTrace = testTrace()
            if mode == "pop" { $0.pop = PopSettings() } else { $0.orderly = true }
        })
        var ids: [String] = []
        for i in 0..<10 { ids.append(try await producer.send(Message(topic: topic, string: "m\(i)")).messageID) }
        try await eventually(timeout: .seconds(60), "consumed and traced") {
            try consumer.received.unique == 10 && storedTraces(cluster).flatMap(\.records).count >= 20
        }
        let records = try storedTraces(cluster).flatMap(\.records)
        for id in ids {
            let before = records.filter { $0.type == .subBefore && $0.messageID == id }
            let after = records.filter { $0.type == .subAfter && $0.messageID == id }
            #expect(before.count == 1 && after.count == 1 && before.first?.requestID == after.first?.requestID)
            #expect(after.first?.success == true && after.first?.groupName == "Trace\(mode)")
        }
        await consumer.stop()
        producerRun.cancel()
        _ = try? await producerRun.value
        await cluster.shutdown()
    }

    @Test("a transaction left unknown writes EndTransaction UNKNOW, then the checker's answer fromTransactionCheck")
    func checkedTransactionTrace() async throws {
        let cluster = try await transactionCluster(brokers: 1)
        cluster.createTopic("TRC9", queues: 1)
        var config = ProducerConfiguration(group: "TraceChecked")
        config.sendTimeout = .seconds(20)
        config.messageTrace = testTrace()
        let producer = try Producer(
            configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress),
            transactionChecker: { _ in .commit })
        let producerRun = Task { try await producer.run() }  // unstructured: the producer's run(), cancelled below
        let sent = try await producer.sendInTransaction(Message(topic: "TRC9", string: "maybe", keys: ["tx-key"])) { _, _ in .unknown }
        let id = sent.sendResult.messageID
        try await eventually(timeout: .seconds(60), "the check's answer traced") {
            try storedTraces(cluster).flatMap(\.records).contains { $0.type == .endTransaction && $0.fromTransactionCheck }
        }
        let ends = try storedTraces(cluster).flatMap(\.records).filter { $0.type == .endTransaction && $0.messageID == id }
        let local = ends.first { !$0.fromTransactionCheck }
        let checked = ends.first { $0.fromTransactionCheck }
        #expect(local?.transactionState == .unknown)
        #expect(checked?.transactionState == .commit && checked?.topic == "TRC9" && checked?.keys == "tx-key")
        #expect(checked?.storeHost == cluster.brokers[0].address && checked?.transactionID == id)
        producerRun.cancel()
        _ = try? await producerRun.value
        await cluster.shutdown()
    }

    @Test("transactional sends write a half-message Pub and an EndTransaction; a batch writes one Pub per message")
    func transactionAndBatchTrace() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("TRC3", queues: 2)
        var config = ProducerConfiguration(group: "TraceTx")
        config.sendTimeout = .seconds(20)
        config.messageTrace = testTrace()
        let producer = try Producer(
            configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress),
            transactionChecker: { _ in .commit })
        let producerRun = Task { try await producer.run() }  // unstructured: the producer's run(), cancelled below
        let committed = try await producer.sendInTransaction(Message(topic: "TRC3", string: "c", tags: "TX", keys: ["order-1"])) { _, _ in .commit }
        let rolledBack = try await producer.sendInTransaction(Message(topic: "TRC3", string: "r")) { _, _ in .rollback }
        let batch = try await producer.send((0..<3).map { Message(topic: "TRC3", string: "batch-\($0)", keys: ["bk\($0)"]) })
        try await eventually("every trace stored") { try storedTraces(cluster).flatMap(\.records).count >= 7 }
        let messages = try storedTraces(cluster)
        let records = messages.flatMap(\.records)
        let broker = cluster.brokers[0].address
        for (result, state) in [(committed, TransactionResolution.commit), (rolledBack, .rollback)] {
            let id = result.sendResult.messageID
            let pub = records.first { $0.type == .pub && $0.messageID == id }
            #expect(pub?.messageType == .transactionHalf && pub?.success == true)
            let ends = records.filter { $0.type == .endTransaction && $0.messageID == id }
            #expect(ends.count == 1)
            if let end = ends.first {
                #expect(end.transactionState == state && !end.fromTransactionCheck && end.transactionID == id)
                #expect(end.messageType == .transactionCommit && end.storeHost == broker && end.topic == "TRC3")
                #expect(end.groupName == "TraceTx" && end.regionID == "DefaultRegion")
            }
        }
        let committedEnd = records.first { $0.type == .endTransaction && $0.messageID == committed.sendResult.messageID }
        #expect(committedEnd?.tags == "TX" && committedEnd?.keys == "order-1")
        let ids = batch.messageID.split(separator: ",").map(String.init)
        let offsetIDs = batch.offsetMessageID.split(separator: ",").map(String.init)
        #expect(ids.count == 3)
        for (i, id) in ids.enumerated() {
            let pubs = records.filter { $0.type == .pub && $0.messageID == id }
            #expect(pubs.count == 1 && pubs.first?.keys == "bk\(i)" && pubs.first?.offsetMessageID == offsetIDs[i])
            #expect(messages.contains { $0.keys.contains(id) })
        }
        #expect(records.count == 7)
        producerRun.cancel()
        _ = try? await producerRun.value
        await cluster.shutdown()
    }

    @Test("a trace topic the broker refuses never fails the user's sends; the failed records are counted")
    func refusedTraceTopic() async throws {
        try await withProducer(brokers: 1, configure: { p, _ in
            p.messageTrace = testTrace { $0.traceTopic = "SELF_TEST_TOPIC" }  // the broker forbids sending to it
        }) { cluster, producer in
            cluster.createTopic("TRC5", queues: 2)
            for i in 0..<10 {
                let result = try await producer.send(Message(topic: "TRC5", string: "m\(i)"))
                #expect(result.status == .ok)
            }
            try await eventually("the trace records counted as failed") {
                producer.statistics.messageTrace?.recordsFailed == 10
            }
            let stats = try #require(producer.statistics.messageTrace)
            #expect(stats.recordsSent == 0 && stats.messagesFailed >= 1 && stats.recordsDropped == 0)
            #expect(producer.statistics.sent == 10 && producer.statistics.failed == 0)
            #expect(storedMessages(cluster, topic: "SELF_TEST_TOPIC").isEmpty)
        }
    }

    @Test("a trace broker that does not answer never slows the user's sends: the full buffer drops, counted")
    func stuckTraceBroker() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        let brokerA = try #require(cluster.broker(named: "broker-a"))
        let brokerB = try #require(cluster.broker(named: "broker-b"))
        brokerA.createTopic(TopicConfig(name: "TRC4", queues: 2))
        brokerB.createTopic(TopicConfig(name: "TRC4_TRACE", queues: 1))
        var config = ProducerConfiguration(group: "TraceStuck")
        config.sendTimeout = .seconds(20)
        config.messageTrace = testTrace {
            $0.traceTopic = "TRC4_TRACE"
            $0.bufferCapacity = 8
            $0.batchSize = 1
            $0.concurrentSends = 1
            $0.sendTimeout = .seconds(600)
            $0.shutdownFlushTimeout = .milliseconds(500)
        }
        let producer = try Producer(configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress))
        let producerRun = Task { try await producer.run() }  // unstructured: the producer's run(), cancelled below
        // The first trace message goes to broker-b, which stops answering: that send hangs (for 600 s).
        brokerB.pause()
        let n = 30
        for i in 0..<n { _ = try await producer.send(Message(topic: "TRC4", string: "m\(i)")) }
        // Every user send is done while the trace send still hangs: nothing waited for it.
        let stats = try #require(producer.statistics.messageTrace)
        #expect(stats.recordsOffered == n)
        #expect(stats.messagesSent == 0 && stats.messagesFailed == 0, "the trace send is still stuck")
        #expect(stats.recordsDropped >= n - 8 - 1, "at most the buffer's 8 and the stuck one kept")
        #expect(producer.statistics.sent == n)
        // Stopping cancels the stuck send (its record goes back to the buffer); shutdown gives the buffered records
        // 500 ms, then counts them failed.
        producerRun.cancel()
        _ = try? await producerRun.value
        let final = try #require(producer.statistics.messageTrace)
        #expect(final.recordsSent + final.recordsFailed + final.recordsDropped == n)
        #expect(final.recordsSent == 0)
        brokerB.pause(false)
        await cluster.shutdown()
    }

    @Test("records buffered at shutdown are sent by the shutdown, within its bound")
    func shutdownDrains() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("TRC6", queues: 1)
        var config = ProducerConfiguration(group: "TraceDrain")
        config.sendTimeout = .seconds(20)
        config.messageTrace = testTrace {
            $0.batchSize = 20
            $0.flushInterval = .seconds(3600)  // never flushed while running
        }
        let producer = try Producer(configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress))
        let producerRun = Task { try await producer.run() }  // unstructured: the producer's run(), cancelled below
        var ids: [String] = []
        for i in 0..<5 { ids.append(try await producer.send(Message(topic: "TRC6", string: "m\(i)")).messageID) }
        #expect(try storedTraces(cluster).isEmpty, "less than a batch, no flush yet")
        producerRun.cancel()
        _ = try? await producerRun.value
        let records = try storedTraces(cluster).flatMap(\.records)
        #expect(records.map(\.messageID).sorted() == ids.sorted())
        #expect(producer.statistics.messageTrace?.recordsSent == 5)
        await cluster.shutdown()
    }

    @Test("with messageTrace nil nothing is written to the trace topic")
    func offWritesNothing() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("TRC7", queues: 2)
        let (producer, producerRun) = try startProducer(cluster)
        let consumer = try startConsumer(cluster, group: "TraceOff", topic: "TRC7")
        for i in 0..<10 { _ = try await producer.send(Message(topic: "TRC7", string: "m\(i)", keys: ["k\(i)"])) }
        try await eventually("consumed") { consumer.received.unique == 10 }
        await consumer.stop()
        producerRun.cancel()
        _ = try? await producerRun.value
        #expect(producer.statistics.messageTrace == nil && consumer.consumer.messageTraceStatistics == nil)
        #expect(storedMessages(cluster, topic: MessageTraceConfiguration.defaultTraceTopic).isEmpty)
        #expect(!cluster.brokers[0].topics.contains { $0.name == MessageTraceConfiguration.defaultTraceTopic })
        await cluster.shutdown()
    }
}
