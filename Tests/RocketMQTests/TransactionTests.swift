import Foundation
import NIOCore
import RocketMQ
import RocketMQMockBroker
import RocketMQWire
import RocketMQTestSupport
import Synchronization
import Testing

/// A cluster whose brokers check unresolved transactions quickly: 300 ms after sending, every 100 ms.
func transactionCluster(brokers: Int = 2, checkMax: Int = 15) async throws -> MockCluster {
    var config = MockCluster.Configuration(brokers: brokers)
    config.forEachBroker {
        $0.transactionTimeout = .milliseconds(300)
        $0.transactionCheckInterval = .milliseconds(100)
        $0.transactionCheckMax = checkMax
    }
    return try await MockCluster.start(config)
}

/// A running producer of `group` with `checker`, and its task.
struct RunningProducer {
    let producer: Producer
    let task: Task<Void, Error>

    init(_ cluster: MockCluster, group: String, checker: TransactionChecker?) throws {
        var config = ProducerConfiguration(group: group)
        config.sendTimeout = .seconds(20)  // a loaded 2-core machine can starve a debug build for seconds
        let producer = try Producer(
            configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress),
            transactionChecker: checker)
        self.producer = producer
        task = Task { try await producer.run() }  // unstructured: the producer's run(), cancelled and awaited in stop()
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// Messages checked back, by UNIQ_KEY.
final class CheckLog: Sendable {
    let checked = Mutex<[String: Int]>([:])
    func record(_ message: ReceivedMessage) { checked.withLock { $0[message.messageID, default: 0] += 1 } }
    func count(_ id: String) -> Int { checked.withLock { $0[id] ?? 0 } }
    var total: Int { checked.withLock { $0.values.reduce(0, +) } }
}

@Suite("Transactional messages against the mock cluster", .heavy)
struct TransactionTests {
    @Test("commit delivers once, rollback never, and neither is checked back")
    func commitAndRollback() async throws {
        let cluster = try await transactionCluster()
        cluster.createTopic("TX1", queues: 4)
        let checks = CheckLog()
        let p = try RunningProducer(cluster, group: "TXG1") { m in
            checks.record(m)
            return .rollback
        }
        let consumer = try startConsumer(cluster, group: "TXC1", topic: "TX1")
        var committed: [String] = []
        for i in 0..<10 {
            let decision: TransactionResolution = i % 2 == 0 ? .commit : .rollback
            let result = try await p.producer.sendInTransaction(Message(topic: "TX1", string: "tx-\(i)")) { message, sent in
                #expect(message.topic == "TX1")
                #expect(sent.status == .ok)
                return decision
            }
            #expect(result.resolution == decision)
            #expect(result.sendResult.transactionID == result.sendResult.messageID)
            if decision == .commit { committed.append("tx-\(i)") }
        }
        try await eventually(timeout: .seconds(60), "the committed messages delivered") {
            Set(consumer.received.bodies) == Set(committed)
        }
        // Well past the brokers' check time: nothing else arrives, nothing is checked.
        try await stays(for: .milliseconds(1_000), "only the committed ones, once each") {
            consumer.received.bodies.sorted() == committed.sorted() && checks.total == 0
        }
        #expect(p.producer.statistics.transactionsSent == 10)
        await consumer.stop()
        await p.stop()
        await cluster.shutdown()
    }

    @Test("unknown: the broker checks back and the checker's commit delivers the message once")
    func unknownIsCheckedBack() async throws {
        let cluster = try await transactionCluster()
        cluster.createTopic("TX2", queues: 4)
        let checks = CheckLog()
        let p = try RunningProducer(cluster, group: "TXG2") { m in
            checks.record(m)
            #expect(m.topic == "TX2")
            #expect(String(buffer: m.body).hasPrefix("maybe-"))
            #expect(m.properties[MessageProperty.producerGroup] == "TXG2")
            return String(buffer: m.body) == "maybe-0" ? .commit : .rollback
        }
        let consumer = try startConsumer(cluster, group: "TXC2", topic: "TX2")
        var ids: [String] = []
        for i in 0..<2 {
            let r = try await p.producer.sendInTransaction(Message(topic: "TX2", string: "maybe-\(i)")) { _, _ in .unknown }
            #expect(r.resolution == .unknown)
            ids.append(r.sendResult.messageID)
        }
        try await eventually(timeout: .seconds(60), "both checked back") { checks.count(ids[0]) >= 1 && checks.count(ids[1]) >= 1 }
        try await eventually(timeout: .seconds(60), "the committed one delivered") { consumer.received.bodies == ["maybe-0"] }
        // Resolved: neither is checked again, the rolled-back one never arrives.
        let answered = (checks.count(ids[0]), checks.count(ids[1]))
        try await stays(for: .milliseconds(800), "resolved transactions stay resolved") {
            consumer.received.bodies == ["maybe-0"] && (checks.count(ids[0]), checks.count(ids[1])) == answered
        }
        #expect(p.producer.statistics.transactionChecksAnswered >= 2)
        await consumer.stop()
        await p.stop()
        await cluster.shutdown()
    }

    @Test("a local transaction that throws answers unknown; the checker decides")
    func throwingLocalTransactionIsUnknown() async throws {
        struct LocalFailure: Error {}
        let cluster = try await transactionCluster(brokers: 1)
        cluster.createTopic("TX3", queues: 2)
        let p = try RunningProducer(cluster, group: "TXG3") { _ in .commit }
        let consumer = try startConsumer(cluster, group: "TXC3", topic: "TX3")
        let r = try await p.producer.sendInTransaction(Message(topic: "TX3", string: "thrown")) { _, _ in throw LocalFailure() }
        #expect(r.resolution == .unknown)
        try await eventually(timeout: .seconds(60), "committed by the check") { consumer.received.bodies == ["thrown"] }
        try await stays(for: .milliseconds(500), "once") { consumer.received.total == 1 }
        await consumer.stop()
        await p.stop()
        await cluster.shutdown()
    }

    @Test("a producer gone between half message and END_TRANSACTION: another member of the group answers the check")
    func anotherMemberAnswers() async throws {
        let cluster = try await transactionCluster()
        cluster.createTopic("TX4", queues: 4)
        let consumer = try startConsumer(cluster, group: "TXC4", topic: "TX4")
        // The first member: its local transaction does not finish before the member is gone, and neither does its
        // checker (a check may reach it before it goes). Both are held at `gone`, opened once its connections closed.
        let gone = Gate()
        let first = try RunningProducer(cluster, group: "TXG4") { _ in
            await gone.wait()
            return .rollback
        }
        let stored = AsyncStream.makeStream(of: String.self)
        let sending = Task {  // unstructured: the first member's send, held in its local transaction, awaited below
            try await first.producer.sendInTransaction(Message(topic: "TX4", string: "orphan")) { _, sent in
                stored.continuation.yield(sent.messageID)
                await gone.wait()  // as a process that died here
                return .rollback
            }
        }
        var iterator = stored.stream.makeAsyncIterator()
        let id = try #require(await iterator.next())
        await first.producer.shutdown()  // its connections close: no END_TRANSACTION can reach a broker any more
        gone.open()  // its answers now fail to leave the shut-down client
        _ = try? await sending.value
        await first.stop()
        // A second member of the group answers the check: commit.
        let checks = CheckLog()
        let second = try RunningProducer(cluster, group: "TXG4") { m in
            checks.record(m)
            return .commit
        }
        try await eventually(timeout: .seconds(60), "the orphan committed by the second member") {
            consumer.received.bodies == ["orphan"]
        }
        #expect(checks.count(id) >= 1)
        try await stays(for: .milliseconds(500), "delivered once") { consumer.received.total == 1 }
        await consumer.stop()
        await second.stop()
        await cluster.shutdown()
    }

    @Test("transactional sends refuse delays and a producer without a checker")
    func invalidTransactionalSends() async throws {
        let cluster = try await transactionCluster(brokers: 1)
        let plain = try RunningProducer(cluster, group: "TXG5", checker: nil)
        await #expect(throws: RocketMQError.self) {
            _ = try await plain.producer.sendInTransaction(Message(topic: "TX5", string: "x")) { _, _ in .commit }
        }
        let p = try RunningProducer(cluster, group: "TXG5b") { _ in .commit }
        var delayed = Message(topic: "TX5", string: "x")
        delayed.delayLevel = 2
        var ran = false
        do {
            _ = try await p.producer.sendInTransaction(delayed) { _, _ in
                ran = true
                return .commit
            }
            Issue.record("a delayed transactional message was accepted")
        } catch let error as RocketMQError {
            #expect(error.code == .invalidArgument)
        }
        var timed = Message(topic: "TX5", string: "x")
        timed.deliverAtMillis = Int64(Date().timeIntervalSince1970 * 1000) + 60_000
        await #expect(throws: RocketMQError.self) {
            _ = try await p.producer.sendInTransaction(timed) { _, _ in .commit }
        }
        #expect(!ran)
        #expect(p.producer.statistics.transactionsSent == 0)
        await plain.stop()
        await p.stop()
        await cluster.shutdown()
    }
}
