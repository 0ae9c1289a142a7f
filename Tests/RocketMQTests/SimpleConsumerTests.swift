import Foundation
import NIOCore
import RocketMQ
import RocketMQMockBroker
import RocketMQWire
import RocketMQTestSupport
import Synchronization
import Testing

/// A running simple consumer and its task.
struct RunningSimpleConsumer {
    let consumer: SimpleConsumer
    let task: Task<Void, Error>

    init(_ cluster: MockCluster, group: String, topic: String, configure: (inout SimpleConsumerConfiguration) -> Void = { _ in }) throws {
        var config = SimpleConsumerConfiguration(group: group)
        config.startPoint = .firstOffset
        config.awaitDuration = .seconds(2)
        configure(&config)
        let consumer = try SimpleConsumer(configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress))
        try consumer.subscribe(topic)
        self.consumer = consumer
        task = Task { try await consumer.run() }  // unstructured: the consumer's run(), cancelled and awaited in stop()
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// Deliveries per message id, shared by tasks.
final class IDCounts: Sendable {
    let state = Mutex<[String: Int]>([:])
}

/// Sends `count` messages `"<prefix><i>"` to `topic`; returns their ids in order.
func sendAll(_ producer: Producer, topic: String, count: Int, prefix: String = "m") async throws -> [String] {
    var ids: [String] = []
    for i in 0..<count { ids.append(try await producer.send(Message(topic: topic, string: "\(prefix)\(i)")).messageID) }
    return ids
}

@Suite("Simple consumer (POP) against the mock cluster", .heavy)
struct SimpleConsumerTests {
    @Test("three concurrent simple consumers: every message exactly once when acknowledged")
    func threeConsumersShareEverything() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("P1", queues: 4)
        let (producer, runner) = try startProducer(cluster)
        let sent = try await sendAll(producer, topic: "P1", count: 300)
        let members = try (0..<3).map { _ in try RunningSimpleConsumer(cluster, group: "PG1", topic: "P1") }
        let seen = IDCounts()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for member in members {
                group.addTask {
                    while seen.state.withLock({ $0.count }) < sent.count {
                        let batch = try await member.consumer.receive(maxMessages: 16)
                        for m in batch { seen.state.withLock { $0[m.messageID, default: 0] += 1 } }
                        try await member.consumer.ack(batch)
                    }
                }
            }
            try await group.waitForAll()
        }
        let counts = seen.state.withLock { $0 }
        #expect(Set(counts.keys) == Set(sent))
        #expect(counts.values.allSatisfy { $0 == 1 }, "duplicates: \(counts.filter { $0.value > 1 }.count)")
        // Acknowledged: nothing comes back.
        let late = try await members[0].consumer.receive(maxMessages: 16)
        #expect(late.isEmpty)
        for m in members { await m.stop() }
        runner.cancel()
        await cluster.shutdown()
    }

    @Test("unacknowledged messages come back after their invisible time, not before; a changed invisible time holds")
    func invisibleTime() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("P2", queues: 2)
        let (producer, runner) = try startProducer(cluster)
        _ = try await sendAll(producer, topic: "P2", count: 2)
        let member = try RunningSimpleConsumer(cluster, group: "PG2", topic: "P2")
        var first: [PoppedMessage] = []
        try await eventually(timeout: .seconds(60), "both received") {
            first += try await member.consumer.receive(maxMessages: 2, invisibleDuration: .seconds(2))
            return first.count == 2
        }
        // One gets more time; neither is acknowledged.
        let extended = try await member.consumer.changeInvisibleDuration(first[1], to: .seconds(5))
        #expect(extended.invisibleUntil > first[1].invisibleUntil)
        var again: [PoppedMessage] = []
        try await eventually(timeout: .seconds(60), "both back") {
            again += try await member.consumer.receive(maxMessages: 2, invisibleDuration: .seconds(30))
            return again.count == 2
        }
        for m in again {
            let before = m.messageID == first[0].messageID ? first[0] : extended
            // Handed out again only once its (latest) invisible time had ended.
            #expect(m.receipt.popTime >= before.invisibleUntil, "\(m.messageID): popped at \(m.receipt.popTime), invisible until \(before.invisibleUntil)")
            #expect(m.reconsumeTimes == 1, "\(m.messageID)")
        }
        #expect(Set(again.map(\.messageID)) == Set(first.map(\.messageID)))
        // The old receipts are stale now: they expired.
        await #expect(throws: RocketMQError.self) { try await member.consumer.ack(first[0]) }
        try await member.consumer.ack(again)
        #expect(try await member.consumer.receive(maxMessages: 2).isEmpty)
        await member.stop()
        runner.cancel()
        await cluster.shutdown()
    }

    @Test("a consumer gone mid-batch: its messages reach the others after their invisible time")
    func consumerGoneMidBatch() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("P3", queues: 2)
        let (producer, runner) = try startProducer(cluster)
        let sent = try await sendAll(producer, topic: "P3", count: 20)
        let gone = try RunningSimpleConsumer(cluster, group: "PG3", topic: "P3")
        var taken: [PoppedMessage] = []
        try await eventually(timeout: .seconds(60), "the first member took some") {
            taken += try await gone.consumer.receive(maxMessages: 8, invisibleDuration: .seconds(1))
            return !taken.isEmpty
        }
        await gone.stop()  // without acknowledging anything
        let other = try RunningSimpleConsumer(cluster, group: "PG3", topic: "P3")
        var ids = Set<String>()
        try await eventually(timeout: .seconds(60), "the other member got everything") {
            let batch = try await other.consumer.receive(maxMessages: 16)
            try await other.consumer.ack(batch)
            ids.formUnion(batch.map(\.messageID))
            return ids.count == sent.count
        }
        #expect(ids == Set(sent))
        await other.stop()
        runner.cancel()
        await cluster.shutdown()
    }

    @Test("FIFO: one queue's messages in order, the next only after the previous were acknowledged")
    func orderedPop() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("P4", queues: 1)
        let (producer, runner) = try startProducer(cluster)
        let sent = try await sendAll(producer, topic: "P4", count: 30)
        let member = try RunningSimpleConsumer(cluster, group: "PG4", topic: "P4") { $0.orderly = true }
        var order: [String] = []
        try await eventually(timeout: .seconds(60), "all in order") {
            let batch = try await member.consumer.receive(maxMessages: 8)
            order += batch.map(\.messageID)
            try await member.consumer.ack(batch)
            return order.count >= sent.count
        }
        #expect(order == sent)
        await member.stop()
        runner.cancel()
        await cluster.shutdown()
    }

    @Test("messages as an AsyncSequence; bad arguments are refused")
    func asyncSequenceAndArguments() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("P5", queues: 2)
        let (producer, runner) = try startProducer(cluster)
        let sent = try await sendAll(producer, topic: "P5", count: 10)
        let member = try RunningSimpleConsumer(cluster, group: "PG5", topic: "P5")
        var ids: [String] = []
        for try await message in member.consumer.messages {
            try await member.consumer.ack(message)
            ids.append(message.messageID)
            if ids.count == sent.count { break }
        }
        #expect(Set(ids) == Set(sent))
        await #expect(throws: RocketMQError.self) { _ = try await member.consumer.receive(maxMessages: 33) }
        await #expect(throws: RocketMQError.self) { _ = try await member.consumer.receive(invisibleDuration: .milliseconds(10)) }
        #expect(throws: RocketMQError.self) {
            var config = SimpleConsumerConfiguration(group: "G")
            config.startPoint = .timestamp(1)
            _ = try SimpleConsumer(configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress))
        }
        #expect(member.consumer.statistics.acknowledged == sent.count)
        await member.stop()
        runner.cancel()
        await cluster.shutdown()
    }

    @Test("push consumers in POP mode: a member joining moves nothing, nothing is lost, failures come back")
    func pushConsumerInPopMode() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("P6", queues: 2)
        let (producer, runner) = try startProducer(cluster)
        let failedOnce = IDCounts()
        func member() throws -> RunningConsumer {
            try startConsumer(cluster, group: "PG6", topic: "P6", configure: {
                var pop = PopSettings()
                pop.invisibleDuration = .seconds(5)
                pop.retryDelays = [.seconds(1)]
                $0.pop = pop
                $0.maxConcurrency = 4
            }, handler: { messages in
                // Every message whose body ends in 7 fails once: it must come back.
                for m in messages where String(buffer: m.body).hasSuffix("7") {
                    let first = failedOnce.state.withLock { s -> Bool in
                        defer { s[m.messageID, default: 0] += 1 }
                        return s[m.messageID] == nil
                    }
                    if first { return .retryLater }
                }
                return .success
            })
        }
        var members = [try member(), try member()]
        var sent = try await sendAll(producer, topic: "P6", count: 100, prefix: "a")
        members.append(try member())  // joins while the first messages are being consumed
        sent += try await sendAll(producer, topic: "P6", count: 100, prefix: "b")
        try await eventually(timeout: .seconds(60), "every message handled") {
            members.reduce(into: Set<String>()) { $0.formUnion($1.received.ids) }.isSuperset(of: Set(sent))
        }
        // POP: no member owns queues, nothing was rebalanced.
        #expect(members.allSatisfy { $0.consumer.ownedQueues.isEmpty && $0.consumer.rebalanceCount == 0 })
        #expect(failedOnce.state.withLock { $0.count } == 20)
        let deliveries = members.reduce(0) { $0 + $1.received.total }
        print("push in POP mode: \(sent.count) messages, \(deliveries) deliveries (20 failed once on purpose)")
        for m in members { await m.stop() }
        runner.cancel()
        await cluster.shutdown()
    }
}
