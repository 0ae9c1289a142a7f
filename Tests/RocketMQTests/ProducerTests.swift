import Foundation
import Logging
import NIOCore
import RocketMQ
import RocketMQMockBroker
import RocketMQWire
import RocketMQTestSupport
import Testing

/// Starts a mock cluster and a producer on it; always shuts both down.
func withProducer<T>(
    brokers: Int = 2, queues: Int32 = 4,
    configureCluster: (inout MockCluster.Configuration) -> Void = { _ in },
    configure: (inout ProducerConfiguration, inout ClientConfiguration) -> Void = { _, _ in },
    _ body: (MockCluster, Producer) async throws -> T
) async throws -> T {
    var clusterConfig = MockCluster.Configuration(brokers: brokers, queues: queues)
    configureCluster(&clusterConfig)
    let cluster = try await MockCluster.start(clusterConfig)
    var producerConfig = ProducerConfiguration(group: "TestProducerGroup")
    // Generous: a 2-core CI machine running every suite in parallel can starve a debug build for seconds. Tests of
    // deadlines set their own.
    producerConfig.sendTimeout = .seconds(20)
    var client = ClientConfiguration(nameServer: cluster.nameServerAddress)
    configure(&producerConfig, &client)
    let producer = try Producer(configuration: producerConfig, client: client)
    let runner = Task { try await producer.run() }
    do {
        let result = try await body(cluster, producer)
        runner.cancel()
        _ = try? await runner.value
        await cluster.shutdown()
        return result
    } catch {
        runner.cancel()
        _ = try? await runner.value
        await cluster.shutdown()
        throw error
    }
}

/// Reads every message of `topic` on `broker` straight from the store format.
func storedMessages(_ cluster: MockCluster, topic: String) -> [MessageRecord] {
    cluster.brokers.flatMap { $0.storedRecords(topic: topic) }
}

@Suite("Producer against the mock cluster", .heavy)
struct ProducerTests {
    @Test func roundRobinOverBrokersAndQueues() async throws {
        // Without latency fault tolerance the rotation is exact (a slow send under load would otherwise skip a broker).
        try await withProducer(configure: { p, _ in p.latencyFaultTolerance = false }) { cluster, producer in
            cluster.createTopic("RR", queues: 4)
            var seen: [MessageQueue: Int] = [:]
            for i in 0..<80 {
                let r = try await producer.send(Message(topic: "RR", string: "m\(i)", tags: "TagA"))
                #expect(r.status == .ok)
                #expect(r.messageID.count == 32 && r.offsetMessageID.count == 32)
                seen[r.queue, default: 0] += 1
            }
            #expect(seen.count == 8)  // 2 brokers x 4 queues
            #expect(seen.values.allSatisfy { $0 == 10 })
            let stored = storedMessages(cluster, topic: "RR")
            #expect(stored.count == 80)
            #expect(stored.allSatisfy { $0.properties[MessageProperty.tags] == "TagA" })
        }
    }

    @Test func unknownTopicIsAutoCreatedThroughTBW102() async throws {
        try await withProducer { cluster, producer in
            let r = try await producer.send(Message(topic: "Fresh", string: "hello"))
            #expect(r.status == .ok)
            #expect(cluster.nameServer.route(for: "Fresh") != nil)
        }
    }

    @Test func orderedSendsLandOnOneQueue() async throws {
        try await withProducer { cluster, producer in
            cluster.createTopic("Ordered", queues: 4)
            var queues: Set<MessageQueue> = []
            for i in 0..<30 {
                let r = try await producer.send(Message(topic: "Ordered", string: "o\(i)"), shardingKey: "order-42")
                queues.insert(r.queue)
            }
            #expect(queues.count == 1)
            let selected = try await producer.send(Message(topic: "Ordered", string: "x")) { $0.last }
            #expect(selected.queue.queueId == 3)
            let stored = storedMessages(cluster, topic: "Ordered").filter { $0.queueId == queues.first?.queueId }
            #expect(stored.map { String(buffer: $0.body) }.prefix(30) == ArraySlice((0..<30).map { "o\($0)" }))
        }
    }

    @Test(arguments: [CompressionType.zstd, .zlib, .lz4])
    func compressedBodiesCarrySysFlagAndDecodeBack(type: CompressionType) async throws {
        try await withProducer(brokers: 1, configure: { p, _ in p.compression = type }) { cluster, producer in
            cluster.createTopic("Big", queues: 1)
            let text = String(repeating: "{\"k\":\"value\",\"n\":12345}", count: 400)  // > 4 KiB
            _ = try await producer.send(Message(topic: "Big", string: text))
            _ = try await producer.send(Message(topic: "Big", string: "small"))
            let stored = storedMessages(cluster, topic: "Big")
            #expect(stored.count == 2)
            let big = try #require(stored.first)
            #expect(big.sysFlag == MessageSysFlag.flag(for: type))
            #expect(big.body.readableBytes < text.utf8.count)
            #expect(String(buffer: try big.decompressedBody()) == text)
            #expect(stored[1].sysFlag == 0)
        }
    }

    @Test func batchAndOnewaySends() async throws {
        try await withProducer(brokers: 1) { cluster, producer in
            cluster.createTopic("Batch", queues: 2)
            let r = try await producer.send((0..<5).map { Message(topic: "Batch", string: "b\($0)") })
            #expect(r.messageID.split(separator: ",").count == 5)
            #expect(r.offsetMessageID.split(separator: ",").count == 5)
            try await producer.sendOneway(Message(topic: "Batch", string: "oneway"))
            try await eventually { storedMessages(cluster, topic: "Batch").count == 6 }
            let bodies = Set(storedMessages(cluster, topic: "Batch").map { String(buffer: $0.body) })
            #expect(bodies == ["b0", "b1", "b2", "b3", "b4", "oneway"])
        }
    }

    @Test func invalidArgumentsAreTypedErrors() async throws {
        try await withProducer(brokers: 1) { _, producer in
            for bad in [
                Message(topic: "", string: "x"), Message(topic: "bad topic", string: "x"),
                Message(topic: "T", body: ByteBuffer()), Message(topic: String(repeating: "t", count: 128), string: "x"),
                Message(topic: "T", bytes: [UInt8](repeating: 1, count: 4 * 1024 * 1024 + 1)),
                Message(topic: "T", string: "x", properties: ["a\u{1}b": "c"]),
            ] {
                await #expect {
                    _ = try await producer.send(bad)
                } throws: { error in
                    (error as? RocketMQError)?.code == .invalidArgument
                }
            }
        }
    }

    @Test func killedBrokerSendsFailOverWithoutErrors() async throws {
        try await withProducer { cluster, producer in
            cluster.createTopic("Failover", queues: 4)
            for i in 0..<20 { _ = try await producer.send(Message(topic: "Failover", string: "warm\(i)")) }
            await cluster.brokers[0].kill()
            var brokersUsed: Set<String> = []
            for i in 0..<100 {
                let r = try await producer.send(Message(topic: "Failover", string: "after\(i)"))
                brokersUsed.insert(r.queue.brokerName)
            }
            #expect(brokersUsed == [cluster.brokers[1].name])
        }
    }

    @Test func drainWithGoAwayUnderLoadLosesNoSendAndRestartedBrokerIsReRegistered() async throws {
        try await withProducer(configureCluster: { $0.forEachBroker { $0.clientScanInterval = .seconds(60) } }) { cluster, producer in
            cluster.createTopic("Drain", queues: 4)
            let draining = cluster.brokers[0]
            // Warm up both connections.
            for i in 0..<16 { _ = try await producer.send(Message(topic: "Drain", string: "warm\(i)")) }
            let total = 5_000
            let outcome = try await withThrowingTaskGroup(of: Bool.self) { group -> (ok: Int, failed: Int) in
                for i in 0..<total {
                    group.addTask {
                        do {
                            _ = try await producer.send(Message(topic: "Drain", string: "d\(i)"))
                            return true
                        } catch {
                            return false
                        }
                    }
                    if i == total / 4 {
                        group.addTask {
                            await draining.drain(grace: .seconds(2))
                            return true
                        }
                    }
                }
                var ok = 0
                var failed = 0
                for try await success in group { if success { ok += 1 } else { failed += 1 } }
                return (ok - 1, failed)
            }
            #expect(outcome.failed == 0)
            #expect(outcome.ok == total)
            let stored = Set(storedMessages(cluster, topic: "Drain").map { String(buffer: $0.body) })
            #expect((0..<total).allSatisfy { stored.contains("d\($0)") })
            // Restart: the client re-registers (heartbeat on ACTIVE) and sends flow there again.
            try await draining.restart()
            try await eventually(timeout: .seconds(60), "restarted broker takes sends again") {
                let r = try await producer.send(Message(topic: "Drain", string: "after-restart"))
                return r.queue.brokerName == draining.name
            }
            try await eventually(timeout: .seconds(60), "producer group re-registered: groups \(draining.producerGroups), connections \(draining.connectionCount)") {
                draining.producerGroups.contains("TestProducerGroup")
            }
        }
    }

    @Test func heartbeatsReachEveryBroker() async throws {
        try await withProducer(brokers: 3) { cluster, producer in
            cluster.createTopic("HB", queues: 1)
            _ = try await producer.send(Message(topic: "HB", string: "x"))
            try await eventually(timeout: .seconds(60)) {
                cluster.brokers.allSatisfy { $0.producerGroups.contains("TestProducerGroup") }
            }
        }
    }

    @Test func deadlinesHonouredWhenEveryBrokerIsPaused() async throws {
        try await withProducer(configure: { p, _ in p.sendTimeout = .milliseconds(800) }) { cluster, producer in
            cluster.createTopic("Paused", queues: 2)
            // Warm up (route, connections) with retries: the 800 ms deadline is for the paused sends below.
            try await eventually(timeout: .seconds(60), "a warm-up send") {
                (try? await producer.send(Message(topic: "Paused", string: "warm"))) != nil
            }
            for b in cluster.brokers { b.pause() }
            let clock = ContinuousClock()
            let t0 = clock.now
            await #expect {
                _ = try await producer.send(Message(topic: "Paused", string: "stuck"))
            } throws: { error in
                (error as? RocketMQError)?.code == .timeout
            }
            let elapsed = clock.now - t0
            #expect(elapsed >= .milliseconds(700) && elapsed < .seconds(10))  // the deadline, not a hang
            for b in cluster.brokers { b.pause(false) }
        }
    }
}
