import Foundation
import NIOCore
import RocketMQ
import RocketMQMockBroker
import RocketMQTestSupport
import Testing

@Suite("SQL92 subscriptions against the mock cluster", .heavy)
struct SQL92ConsumerTests {
    @Test func pushConsumerReceivesExactlyTheMatchingMessages() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("SQ1", queues: 4)
        let (producer, runner) = try startProducer(cluster)
        var expected = Set<String>()
        for i in 0..<200 {
            let region = i % 2 == 0 ? "eu" : "us"
            var properties = ["i": String(i), "region": region]
            if i % 10 == 0 { properties["priority"] = "high" }
            let tags = i % 3 == 0 ? "TagA" : "TagB"
            _ = try await producer.send(Message(topic: "SQ1", string: "m\(i)", tags: tags, properties: properties))
            // i >= 100 in the EU, or any high-priority TagA message; messages without `priority` are unknown there.
            if (i >= 100 && region == "eu") || (i % 10 == 0 && i % 3 == 0) { expected.insert("m\(i)") }
        }

        var config = ConsumerConfiguration(group: "SQG1")
        config.startPoint = .firstOffset
        var client = ClientConfiguration(nameServer: cluster.nameServerAddress)
        client.heartbeatInterval = .seconds(5)
        let received = Received()
        let consumer = try PushConsumer(configuration: config, client: client) { messages in
            received.record(messages)
            return .success
        }
        try consumer.subscribe("SQ1", sql: "(i >= 100 AND region = 'eu') OR (priority = 'high' AND TAGS = 'TagA')")
        let task = Task { try await consumer.run() }

        try await eventually(timeout: .seconds(60), "\(expected.count) matching messages") { received.unique >= expected.count }
        // Once the group's committed offsets cover every stored message, the broker has filtered them all: anything
        // else it let through would have been received by then.
        try await eventually(timeout: .seconds(60), "offsets committed to the end") {
            let committed = cluster.brokers.flatMap { b in (0..<4).compactMap { b.committedOffset(group: "SQG1", topic: "SQ1", queueId: $0) } }
            return committed.reduce(0, +) == 200
        }
        #expect(Set(received.bodies) == expected)
        #expect(received.duplicates == 0)

        task.cancel()
        _ = try? await task.value
        runner.cancel()
        await cluster.shutdown()
    }

    @Test(arguments: ["a >", "a = 1 AND", "a IN (1, 2)", "region = NULL", "(a > 1", "a BETWEEN 5 AND 1"])
    func badExpressionsAreRefusedAtSubscribe(_ sql: String) throws {
        let consumer = try PushConsumer(
            configuration: ConsumerConfiguration(group: "SQG2"), client: ClientConfiguration(nameServer: "127.0.0.1:9")
        ) { _ in .success }
        let error = try #require(throws: RocketMQError.self) { try consumer.subscribe("SQ2", sql: sql) }
        #expect(error.code == .invalidArgument)
    }

    @Test func litePullConsumerPollsExactlyTheMatchingMessages() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("SQ3", queues: 2)
        let (producer, runner) = try startProducer(cluster)
        var expected = Set<String>()
        for i in 0..<60 {
            _ = try await producer.send(Message(topic: "SQ3", string: "m\(i)", properties: ["n": String(i)]))
            if i % 7 == 0 && i > 0 { expected.insert("m\(i)") }
        }
        let lite = try startLite(cluster, group: "SQG3") { try $0.subscribe("SQ3", sql: "n IN ('7','14','21','28','35','42','49','56')") }
        let got = try await pollMessages(lite.consumer, count: expected.count)
        #expect(Set(got.map { String(buffer: $0.body) }) == expected)
        #expect(got.count == expected.count)
        #expect(throws: RocketMQError.self) { try lite.consumer.subscribe("SQ4", sql: "n >") }
        await lite.stop()
        runner.cancel()
        await cluster.shutdown()
    }
}
