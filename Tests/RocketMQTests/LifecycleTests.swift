@_spi(Diagnostics) import RocketMQ
import RocketMQMockBroker
import RocketMQTestSupport
import Testing

@Suite("Lifecycle: run() owns every background task", .heavy)
struct LifecycleTests {
    @Test("after run() returns nothing of a producer or a consumer is still running: no tasks, no requests, no sockets")
    func nothingOutlivesRun() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("L1", queues: 4)
        let ports = Set([port(of: cluster.nameServerAddress)] + cluster.brokers.map { port(of: $0.address) })
        let client = ClientConfiguration(nameServer: cluster.nameServerAddress)

        let producer = try Producer(configuration: ProducerConfiguration(group: "LifecycleProducer"), client: client)
        let push = try PushConsumer(configuration: ConsumerConfiguration(group: "LifecyclePush"), client: client) { messages in
            // Every fifth batch fails: send-backs and redeliveries are background work too.
            messages.first.map { $0.queueOffset % 5 == 0 } == true ? .retryLater : .success
        }
        try push.subscribe("L1")
        let lite = try LitePullConsumer(configuration: LitePullConsumerConfiguration(group: "LifecycleLite"), client: client)
        try lite.subscribe("L1")

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            group.addTask { try await push.run() }
            group.addTask { try await lite.run() }
            try await eventually(timeout: .seconds(30), "both consumers own queues") {
                !push.ownedQueues.isEmpty && !lite.assignment.isEmpty
            }
            for i in 0..<50 { _ = try await producer.send(Message(topic: "L1", string: "m\(i)")) }
            // Reactions in flight when run() is cancelled: dropped connections (reconnect, re-register), a broker
            // leaving the routes (route watch, probing), rebalances.
            for b in cluster.brokers { b.dropConnections() }
            async let drained: Void = cluster.brokers[1].drain(grace: .milliseconds(300))
            _ = try? await producer.send(Message(topic: "L1", string: "during the drain"))
            group.cancelAll()
            try? await group.waitForAll()
            await drained
        }

        #expect(producer.backgroundTaskCount == 0)
        #expect(push.backgroundTaskCount == 0)
        #expect(lite.backgroundTaskCount == 0)
        #expect(producer.pendingRequestCount == 0)
        #expect(push.pendingRequestCount == 0)
        #expect(lite.pendingRequestCount == 0)
        #expect(clientSockets(toPorts: ports) == 0)
        // Nothing wakes up later to probe, heartbeat or reconnect (longer than every probe and watch interval).
        try await stays(for: .milliseconds(2500), "no client socket to the cluster") { clientSockets(toPorts: ports) == 0 }
        await cluster.shutdown()
    }
}
