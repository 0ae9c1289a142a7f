import NIOCore
import Tracing

// swift-distributed-tracing: a producer span per send (its context travels in the message's user properties, W3C
// `traceparent` / `tracestate` through the bootstrapped instrument), a consumer span per handled batch, child of (one
// message) or linked to (several) the producers' spans. Attribute names follow OpenTelemetry's messaging semantic
// conventions. With no tracer bootstrapped (the no-op tracer) nothing is injected and the spans cost next to nothing.

/// Writes trace context into a message's user properties.
struct MessagePropertiesInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}

/// Reads trace context from a received message's properties.
struct MessagePropertiesExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key]
    }
}

enum MessagingTracing {
    /// The service context carried by `message` (the producer span's), on top of the current one.
    static func context(of message: ReceivedMessage, tracer: some Tracer) -> ServiceContext {
        var context = ServiceContext.current ?? .topLevel
        tracer.extract(message.properties, into: &context, using: MessagePropertiesExtractor())
        return context
    }

    /// Runs `body` in a `"<topic> publish"` producer span, with the span's context injected into `message`'s
    /// properties.
    static func publish<T>(
        _ message: Message, group: String, tracer: some Tracer, operation: String = "publish",
        _ body: (Message, (any Span)?) async throws -> T
    ) async throws -> T {
        // No tracer bootstrapped: no span, no task-local context, nothing injected.
        if tracer is NoOpTracer { return try await body(message, nil) }
        return try await tracer.withSpan("\(message.topic) \(operation)", ofKind: .producer) { span in
            var message = message
            tracer.inject(span.context, into: &message.properties, using: MessagePropertiesInjector())
            span.attributes["messaging.system"] = "rocketmq"
            span.attributes["messaging.operation.type"] = "send"
            span.attributes["messaging.operation.name"] = operation
            span.attributes["messaging.destination.name"] = message.topic
            span.attributes["messaging.rocketmq.client_group"] = group
            span.attributes["messaging.message.body.size"] = message.body.readableBytes
            if let tags = message.tags { span.attributes["messaging.rocketmq.message.tag"] = tags }
            if !message.keys.isEmpty { span.attributes["messaging.rocketmq.message.keys"] = message.keys }
            return try await body(message, span)
        }
    }

    /// Records how the broker stored a published message.
    static func record(_ result: SendResult, on span: (any Span)?) {
        guard let span else { return }
        span.attributes["messaging.message.id"] = result.messageID
        span.attributes["messaging.rocketmq.broker"] = result.queue.brokerName
        span.attributes["messaging.destination.partition.id"] = String(result.queue.queueId)
        span.attributes["messaging.rocketmq.send_status"] = "\(result.status)"
    }

    /// Records a `"<topic> receive"` consumer span from `start` to now over what a pull-based consumer (lite pull,
    /// simple) returned, linked to each message's producer span. Nothing when no message came back.
    static func received(
        _ messages: [ReceivedMessage], group: String, tracer: some Tracer, since start: DefaultTracerClock.Instant
    ) {
        guard let first = messages.first, !(tracer is NoOpTracer) else { return }
        let topics = Set(messages.map(\.topic))
        let name = topics.count == 1 ? "\(first.topic) receive" : "receive"
        let span = tracer.startSpan(name, context: ServiceContext.current ?? .topLevel, ofKind: .consumer, at: start)
        for m in messages { span.addLink(SpanLink(context: context(of: m, tracer: tracer), attributes: [:])) }
        span.attributes["messaging.system"] = "rocketmq"
        span.attributes["messaging.operation.type"] = "receive"
        if topics.count == 1 { span.attributes["messaging.destination.name"] = first.topic }
        span.attributes["messaging.consumer.group.name"] = group
        span.attributes["messaging.batch.message_count"] = messages.count
        span.end()
    }

    /// Runs `body` in a `"<topic> process"` consumer span, child of the producer's span of `message`: the pull-based
    /// consumers' counterpart of the span the push consumer makes around its handler.
    static func processing<T>(
        _ message: ReceivedMessage, group: String, tracer: some Tracer, isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> T
    ) async rethrows -> T {
        if tracer is NoOpTracer { return try await body() }
        return try await tracer.withSpan(
            "\(message.topic) process", context: context(of: message, tracer: tracer), ofKind: .consumer, isolation: isolation
        ) { span in
            span.attributes["messaging.system"] = "rocketmq"
            span.attributes["messaging.operation.type"] = "process"
            span.attributes["messaging.destination.name"] = message.topic
            span.attributes["messaging.consumer.group.name"] = group
            span.attributes["messaging.message.id"] = message.messageID
            span.attributes["messaging.rocketmq.message.reconsume_times"] = Int(message.reconsumeTimes)
            return try await body()
        }
    }

    /// Runs a handler on `messages` in a `"<topic> process"` consumer span: a child of the producer's span for one
    /// message, linked to each producer's span for several. A thrown error is recorded and answers `.retryLater`.
    static func process(
        _ messages: [ReceivedMessage], group: String, tracer: some Tracer,
        _ handler: ([ReceivedMessage]) async throws -> ConsumeResult
    ) async -> ConsumeResult {
        guard let first = messages.first else { return .success }
        if tracer is NoOpTracer {
            do { return try await handler(messages) } catch { return .retryLater }
        }
        let parent = messages.count == 1 ? context(of: first, tracer: tracer) : (ServiceContext.current ?? .topLevel)
        return await tracer.withSpan("\(first.topic) process", context: parent, ofKind: .consumer) { span in
            if messages.count > 1 {
                for m in messages { span.addLink(SpanLink(context: context(of: m, tracer: tracer), attributes: [:])) }
            }
            span.attributes["messaging.system"] = "rocketmq"
            span.attributes["messaging.operation.type"] = "process"
            span.attributes["messaging.destination.name"] = first.topic
            span.attributes["messaging.consumer.group.name"] = group
            span.attributes["messaging.batch.message_count"] = messages.count
            if messages.count == 1 {
                span.attributes["messaging.message.id"] = first.messageID
                span.attributes["messaging.rocketmq.message.reconsume_times"] = Int(first.reconsumeTimes)
            }
            do {
                let result = try await handler(messages)
                if result == .retryLater { span.setStatus(SpanStatus(code: .error, message: "retry later")) }
                return result
            } catch {
                span.recordError(error)
                span.setStatus(SpanStatus(code: .error, message: "\(error)"))
                return .retryLater
            }
        }
    }
}
