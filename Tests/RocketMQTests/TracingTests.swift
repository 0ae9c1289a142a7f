import Foundation
import InMemoryTracing
import NIOCore
import RocketMQ
import RocketMQMockBroker
import RocketMQTestSupport
import Testing
import Tracing

@Suite("Tracing: producer and consumer spans over the mock cluster", .heavy)
struct TracingTests {
    @Test("a send's span is the parent of its consumption's span; a failed handler is recorded")
    func tracePropagatesFromProducerToConsumer() async throws {
        let tracer = InMemoryTracer()
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("TR1", queues: 2)
        var client = ClientConfiguration(nameServer: cluster.nameServerAddress)
        client.tracer = tracer
        var producerConfig = ProducerConfiguration(group: "TracingProducer")
        producerConfig.sendTimeout = .seconds(20)
        let producer = try Producer(configuration: producerConfig, client: client)
        let producerRun = Task { try await producer.run() }  // unstructured: the producer's run(), cancelled below
        var consumerConfig = ConsumerConfiguration(group: "TracingConsumer")
        consumerConfig.startPoint = .firstOffset
        let failedOnce = IDCounts()
        let received = Received()
        let consumer = try PushConsumer(configuration: consumerConfig, client: client) { messages in
            received.record(messages)
            let first = failedOnce.state.withLock { s -> Bool in
                defer { s[messages[0].messageID, default: 0] += 1 }
                return s[messages[0].messageID] == nil
            }
            struct Refused: Error {}
            if first { throw Refused() }  // the first delivery fails: recorded on its span, redelivered
            return .success
        }
        try consumer.subscribe("TR1")
        let consumerRun = Task { try await consumer.run() }  // unstructured: the consumer's run(), cancelled below

        let sent = try await producer.send(Message(topic: "TR1", string: "traced", tags: "TagT", keys: ["k1"]))
        try await eventually(timeout: .seconds(60), "delivered twice (a failure, then the retry)") { received.total >= 2 }
        try await eventually(timeout: .seconds(60), "both process spans finished") {
            tracer.finishedSpans.filter { $0.operationName == "TR1 process" }.count >= 2
        }
        let publish = try #require(tracer.finishedSpans.first { $0.operationName == "TR1 publish" })
        #expect(publish.kind == .producer)
        #expect(publish.attributes["messaging.system"]?.toSpanAttribute() == "rocketmq")
        #expect(publish.attributes["messaging.destination.name"]?.toSpanAttribute() == "TR1")
        #expect(publish.attributes["messaging.message.id"]?.toSpanAttribute() == .string(sent.messageID))
        #expect(publish.attributes["messaging.rocketmq.message.tag"]?.toSpanAttribute() == "TagT")
        let processes = tracer.finishedSpans.filter { $0.operationName == "TR1 process" }
        for span in processes {
            #expect(span.kind == .consumer)
            #expect(span.traceID == publish.traceID, "one trace from the send to its handling")
            #expect(span.parentSpanID == publish.spanID, "the consumer span is the producer span's child")
        }
        // The first handling threw: its span carries the error.
        #expect(processes.contains { !$0.errors.isEmpty })
        #expect(processes.contains { $0.errors.isEmpty })
        consumerRun.cancel()
        _ = try? await consumerRun.value
        producerRun.cancel()
        _ = try? await producerRun.value
        await cluster.shutdown()
    }

    @Test("without a tracer nothing is injected into messages")
    func noTracerInjectsNothing() async throws {
        try await withProducer(brokers: 1) { cluster, producer in
            cluster.createTopic("TR2", queues: 1)
            _ = try await producer.send(Message(topic: "TR2", string: "plain", properties: ["a": "1"]))
            let stored = try #require(storedMessages(cluster, topic: "TR2").first)
            let keys = Set(stored.properties.dictionary.keys)
            #expect(keys.contains("a"))
            #expect(!keys.contains(InMemoryTracer.traceIDKey) && !keys.contains("traceparent"))
        }
    }
}
