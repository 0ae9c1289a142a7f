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

    @Test("lite pull and simple consumers: a receive span linked to the send, a processing span its child")
    func tracePullBasedConsumers() async throws {
        let tracer = InMemoryTracer()
        try await withProducer(brokers: 1, queues: 1, configure: { _, client in client.tracer = tracer }) { cluster, producer in
            cluster.createTopic("TR3", queues: 1)
            cluster.createTopic("TR4", queues: 1)
            let sentLite = try await producer.send(Message(topic: "TR3", string: "lite"))
            let sentSimple = try await producer.send(Message(topic: "TR4", string: "simple"))
            var client = ClientConfiguration(nameServer: cluster.nameServerAddress)
            client.tracer = tracer

            var liteConfig = LitePullConsumerConfiguration(group: "TracingLite")
            liteConfig.startPoint = .firstOffset
            let lite = try LitePullConsumer(configuration: liteConfig, client: client)
            try lite.subscribe("TR3")
            let simple = try SimpleConsumer(configuration: .init(group: "TracingSimple"), client: client)
            try simple.subscribe("TR4")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await lite.run() }
                group.addTask { try await simple.run() }
                let clock = ContinuousClock()
                let deadline = clock.now + .seconds(60)
                var polled: [ReceivedMessage] = []
                while polled.isEmpty && clock.now < deadline { polled = try await lite.poll(timeout: .seconds(1)) }
                let liteMessage = try #require(polled.first)
                #expect(liteMessage.messageID == sentLite.messageID)
                await lite.withProcessingSpan(for: liteMessage) {}

                var received: [PoppedMessage] = []
                while received.isEmpty && clock.now < deadline { received = try await simple.receive() }
                let simpleMessage = try #require(received.first)
                #expect(simpleMessage.messageID == sentSimple.messageID)
                await simple.withProcessingSpan(for: simpleMessage) {}
                try await simple.ack(simpleMessage)
                group.cancelAll()
            }

            for topic in ["TR3", "TR4"] {
                let publish = try #require(tracer.finishedSpans.first { $0.operationName == "\(topic) publish" })
                let receive = try #require(tracer.finishedSpans.first { $0.operationName == "\(topic) receive" })
                #expect(receive.kind == .consumer)
                #expect(receive.attributes["messaging.operation.type"]?.toSpanAttribute() == "receive")
                #expect(receive.links.contains { $0.context.inMemorySpanContext?.spanID == publish.spanID })
                let process = try #require(tracer.finishedSpans.first { $0.operationName == "\(topic) process" })
                #expect(process.kind == .consumer)
                #expect(process.traceID == publish.traceID)
                #expect(process.parentSpanID == publish.spanID, "the processing span is the sending span's child")
            }
        }
    }
}
