import Foundation
import NIOCore
import RocketMQ
import RocketMQMockBroker
import RocketMQWire
import Synchronization
import RocketMQTestSupport
import Testing

/// Collects what a consumer received.
final class Received: Sendable {
    struct State: Sendable {
        var ids: [String: Int] = [:]
        var byQueue: [MessageQueue: [Int64]] = [:]
        var bodies: [String] = []
        var total = 0
    }

    let state = Mutex(State())

    func record(_ messages: [ReceivedMessage]) {
        state.withLock { s in
            for m in messages {
                s.ids[m.messageID, default: 0] += 1
                s.byQueue[m.queue, default: []].append(m.queueOffset)
                s.bodies.append(String(buffer: m.body))
                s.total += 1
            }
        }
    }

    var unique: Int { state.withLock { $0.ids.count } }
    var total: Int { state.withLock { $0.total } }
    var duplicates: Int { state.withLock { $0.total - $0.ids.count } }
    var ids: Set<String> { state.withLock { Set($0.ids.keys) } }
    var bodies: [String] { state.withLock { $0.bodies } }
    var byQueue: [MessageQueue: [Int64]] { state.withLock { $0.byQueue } }
}

/// A running consumer and its task.
struct RunningConsumer {
    let consumer: PushConsumer
    let task: Task<Void, Error>
    let received: Received

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

func startConsumer(
    _ cluster: MockCluster, group: String, topic: String, expression: String = "*",
    configure: (inout ConsumerConfiguration) -> Void = { _ in },
    handler: (@Sendable ([ReceivedMessage]) async -> ConsumeResult)? = nil
) throws -> RunningConsumer {
    var config = ConsumerConfiguration(group: group)
    config.startPoint = .firstOffset
    configure(&config)
    var client = ClientConfiguration(nameServer: cluster.nameServerAddress)
    client.heartbeatInterval = .seconds(5)
    let received = Received()
    let consumer = try PushConsumer(configuration: config, client: client) { messages in
        received.record(messages)
        if let handler { return await handler(messages) }
        return .success
    }
    try consumer.subscribe(topic, expression: expression)
    let task = Task { try await consumer.run() }
    return RunningConsumer(consumer: consumer, task: task, received: received)
}

func startProducer(_ cluster: MockCluster) throws -> (Producer, Task<Void, Error>) {
    var config = ProducerConfiguration(group: "ConsumerTestProducer")
    config.sendTimeout = .seconds(20)  // a loaded 2-core machine can starve a debug build for seconds
    let producer = try Producer(configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress))
    return (producer, Task { try await producer.run() })
}

/// Starts `members` consumers of `group` on `topic` (created with 4 queues on every broker) and waits until they
/// share its queues, each owned by exactly one member.
func startGroup(_ cluster: MockCluster, group: String, topic: String, members count: Int) async throws -> [RunningConsumer] {
    cluster.createTopic(topic, queues: 4)
    let members = try (0..<count).map { _ in try startConsumer(cluster, group: group, topic: topic) }
    let queues = 4 * cluster.brokers.count
    try await eventually(timeout: .seconds(60), "the group shares the \(queues) queues") {
        exclusivelyOwned(members, topic: topic, queues: queues)
    }
    return members
}

/// Every queue of `topic` owned by exactly one of `consumers`.
func ownership(_ consumers: [RunningConsumer], topic: String) -> [MessageQueue: Int] {
    var owners: [MessageQueue: Int] = [:]
    for c in consumers {
        for q in c.consumer.ownedQueues where q.topic == topic { owners[q, default: 0] += 1 }
    }
    return owners
}

@Suite("Push consumer against the mock cluster", .serialized, .heavy)
struct ConsumerTests {
    @Test func receivesEverythingFromEveryBroker() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("C1", queues: 4)
        let (producer, runner) = try startProducer(cluster)
        var sent = Set<String>()
        for i in 0..<400 { sent.insert(try await producer.send(Message(topic: "C1", string: "m\(i)")).messageID) }
        let c = try startConsumer(cluster, group: "G1", topic: "C1")
        try await eventually(timeout: .seconds(60), "all 400 received") { c.received.unique >= 400 }
        #expect(c.received.ids == sent)
        #expect(c.received.duplicates == 0)
        #expect(c.consumer.ownedQueues.filter { $0.topic == "C1" }.count == 8)
        // Offsets are committed after handling.
        await c.stop()
        let committed = cluster.brokers.flatMap { b in (0..<4).compactMap { b.committedOffset(group: "G1", topic: "C1", queueId: $0) } }
        #expect(committed.reduce(0, +) == 400)
        runner.cancel()
        await cluster.shutdown()
    }

    @Test func threeMembersShareQueuesAndConvergeOnJoinAndLeave() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("C2", queues: 4)
        var members = [try startConsumer(cluster, group: "G2", topic: "C2")]
        try await eventually(timeout: .seconds(60)) { ownership(members, topic: "C2").count == 8 }
        let clock = ContinuousClock()
        for _ in 0..<2 { members.append(try startConsumer(cluster, group: "G2", topic: "C2")) }
        let t0 = clock.now
        try await eventually(timeout: .seconds(60), "3 members own disjoint queues covering all 8") {
            let o = ownership(members, topic: "C2")
            return o.count == 8 && o.values.allSatisfy { $0 == 1 } && members.allSatisfy { !$0.consumer.ownedQueues.isEmpty }
        }
        print("join converged in \(clock.now - t0)")
        // One leaves: the other two take its queues.
        await members[1].stop()
        let t1 = clock.now
        let rest = [members[0], members[2]]
        try await eventually(timeout: .seconds(60), "2 members cover all 8 queues") { exclusivelyOwned(rest, topic: "C2", queues: 8) }
        print("leave converged in \(clock.now - t1)")
        for m in rest { await m.stop() }
        await cluster.shutdown()
    }

    @Test func noLossAndNoDuplicatesWithoutChurn() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("C3", queues: 4)
        let members = try (0..<3).map { _ in try startConsumer(cluster, group: "G3", topic: "C3") }
        try await eventually(timeout: .seconds(60)) { exclusivelyOwned(members, topic: "C3", queues: 8) }
        let (producer, runner) = try startProducer(cluster)
        let total = 20_000
        let sent = try await withThrowingTaskGroup(of: String.self) { group -> Set<String> in
            let perTask = total / 50
            for t in 0..<50 {
                group.addTask {
                    var last = ""
                    for i in 0..<perTask { last = try await producer.send(Message(topic: "C3", string: "\(t)-\(i)")).messageID }
                    return last
                }
            }
            var out = Set<String>()
            for try await id in group { out.insert(id) }
            return out
        }
        #expect(sent.count == 50)
        try await eventually(timeout: .seconds(60), "all received") {
            members.reduce(0) { $0 + $1.received.unique } >= total
        }
        let all = members.reduce(into: [String: Int]()) { acc, m in
            for (id, n) in m.received.state.withLock({ $0.ids }) { acc[id, default: 0] += n }
        }
        #expect(all.count == total)
        #expect(all.values.allSatisfy { $0 == 1 }, "duplicates without churn")
        for m in members { await m.stop() }
        runner.cancel()
        await cluster.shutdown()
    }

    @Test func retryRedeliversThenDeadLetters() async throws {
        var config = MockCluster.Configuration(brokers: 1)
        config.forEachBroker { $0.delayScale = 0.001 }
        let cluster = try await MockCluster.start(config)
        cluster.createTopic("C4", queues: 1)
        let attempts = Mutex(0)
        let c = try startConsumer(cluster, group: "G4", topic: "C4", configure: { $0.maxReconsumeTimes = 3 }) { _ in
            attempts.withLock { $0 += 1 }
            return .retryLater
        }
        let (producer, runner) = try startProducer(cluster)
        let id = try await producer.send(Message(topic: "C4", string: "poison")).messageID
        try await eventually(timeout: .seconds(60), "dead-lettered") {
            cluster.brokers[0].maxOffset(topic: "%DLQ%G4", queueId: 0) == 1
        }
        #expect(attempts.withLock { $0 } == 4)  // the first delivery and 3 retries
        let dlq = cluster.brokers[0].storedRecords(topic: "%DLQ%G4")
        #expect(dlq.first?.uniqueKey == id)
        #expect(c.received.bodies.allSatisfy { $0 == "poison" })
        await c.stop()
        runner.cancel()
        await cluster.shutdown()
    }

    @Test func broadcastingDeliversEverythingToEveryMember() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("C5", queues: 2)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rmq-offsets-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let members = try (0..<2).map { _ in
            try startConsumer(cluster, group: "G5", topic: "C5", configure: {
                $0.messageModel = .broadcasting
                $0.localOffsetDirectory = dir
            })
        }
        try await eventually(timeout: .seconds(60)) { members.allSatisfy { $0.consumer.ownedQueues.count == 4 } }
        let (producer, runner) = try startProducer(cluster)
        for i in 0..<100 { _ = try await producer.send(Message(topic: "C5", string: "b\(i)")) }
        try await eventually(timeout: .seconds(60)) { members.allSatisfy { $0.received.unique == 100 } }
        for m in members { await m.stop() }
        runner.cancel()
        await cluster.shutdown()
    }

    @Test func orderlyKeepsPerQueueOrder() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("C6", queues: 4)
        let members = try (0..<2).map { _ in
            try startConsumer(cluster, group: "G6", topic: "C6", configure: { $0.orderly = true })
        }
        let (producer, runner) = try startProducer(cluster)
        for i in 0..<200 {
            _ = try await producer.send(Message(topic: "C6", string: "\(i % 4)-\(i)"), shardingKey: "key\(i % 4)")
        }
        try await eventually(timeout: .seconds(60)) { members.reduce(0) { $0 + $1.received.unique } >= 200 }
        for m in members {
            for (_, offsets) in m.received.byQueue { #expect(offsets == offsets.sorted()) }
        }
        for m in members { await m.stop() }
        runner.cancel()
        await cluster.shutdown()
    }

    @Test func messagesSequenceIsBackPressured() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("C7", queues: 1)
        let (producer, runner) = try startProducer(cluster)
        for i in 0..<300 { _ = try await producer.send(Message(topic: "C7", string: "s\(i)")) }
        var config = ConsumerConfiguration(group: "G7")
        config.startPoint = .firstOffset
        config.pullThresholdForQueue = 50
        config.pullBatchSize = 10
        let consumer = try PushConsumer(configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress))
        try consumer.subscribe("C7")
        let task = Task { try await consumer.run() }
        var got: [ReceivedMessage] = []
        for await m in consumer.messages {
            got.append(m)
            if got.count == 40 { break }
        }
        // A slow reader: without acknowledgements pulling stops just past the threshold (50 + one batch of 10).
        try await eventually(timeout: .seconds(60)) { consumer.cachedMessageCount > 50 }
        try await stays(for: .milliseconds(200), "at most 60 cached") { consumer.cachedMessageCount <= 60 }
        for m in got { consumer.acknowledge(m) }
        task.cancel()
        _ = try? await task.value
        #expect(cluster.brokers[0].committedOffset(group: "G7", topic: "C7", queueId: 0) == 40)
        runner.cancel()
        await cluster.shutdown()
    }
}
