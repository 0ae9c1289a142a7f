import Foundation
import Logging
import NIOCore
import NIOPosix
import RocketMQRemoting
import RocketMQWire
import ServiceLifecycle
import Synchronization
import Tracing

/// Settings of a ``SimpleConsumer``.
public struct SimpleConsumerConfiguration: Sendable {
    /// The consumer group.
    public var group: String
    /// How long received messages stay invisible to the rest of the group unless acknowledged (30 s, the gRPC
    /// SimpleConsumer's; at least 1 s).
    public var invisibleDuration: Duration = .seconds(30)
    /// How long a ``SimpleConsumer/receive(maxMessages:invisibleDuration:)`` may wait for messages (long polling; 15 s).
    public var awaitDuration: Duration = .seconds(15)
    /// Where the group starts on a queue it never consumed: the last message (`.lastOffset`, the default) or the first
    /// (`.firstOffset`); a timestamp is not supported by POP.
    public var startPoint: ConsumeStartPoint = .lastOffset
    /// FIFO: messages of one queue are handed out in order, and a queue's next messages only once the previous ones
    /// were acknowledged (or their invisible time ended).
    public var orderly = false

    /// Creates a configuration for consumer group `group`.
    public init(group: String) {
        self.group = group
    }

    func validate() throws {
        guard !group.isEmpty else { throw RocketMQError(.invalidArgument, "consumer group is empty") }
        guard invisibleDuration >= .seconds(1) else { throw RocketMQError(.invalidArgument, "invisibleDuration must be at least 1 s") }
        guard awaitDuration >= .zero else { throw RocketMQError(.invalidArgument, "awaitDuration must not be negative") }
        if case .timestamp = startPoint { throw RocketMQError(.invalidArgument, "POP consumption cannot start at a timestamp") }
    }
}

/// A message handed out by POP: the message, and the receipt that acknowledges it or changes its invisible time.
/// Reads like the ``ReceivedMessage`` it wraps (`message.body`, `message.topic`, …).
@dynamicMemberLookup
public struct PoppedMessage: Sendable, Hashable {
    /// The message.
    public var message: ReceivedMessage
    /// Its receipt (`POP_CK`): valid until ``invisibleUntil``.
    public var receipt: PopReceipt
    /// The topic subscribed to (without namespace).
    var subscribedTopic: String

    /// The message's fields.
    public subscript<T>(dynamicMember path: KeyPath<ReceivedMessage, T>) -> T { message[keyPath: path] }

    /// When the message becomes visible to the group again unless acknowledged (ms since 1970).
    public var invisibleUntil: Int64 { receipt.nextVisibleTime }
}

/// Consumes with RocketMQ 5's POP: the brokers hand out messages and take back those not acknowledged within their
/// invisible time, so any number of consumers share any number of queues, with no client-side rebalancing and no
/// pause when members come and go (the gRPC SimpleConsumer's model, over the remoting protocol).
///
/// ```swift
/// let consumer = try SimpleConsumer(configuration: .init(group: "Billing"), client: .init(nameServer: "127.0.0.1:9876"))
/// try consumer.subscribe("Orders")
/// // run `consumer` (a Service) in a ServiceGroup or a task, then:
/// for try await message in consumer.messages {
///     try await handle(message.body)
///     try await consumer.ack(message)
/// }
/// ```
///
/// A message not acknowledged in time comes back (to this or another member) with ``ReceivedMessage/reconsumeTimes``
/// one higher; after 16 times it goes to the group's dead-letter queue. ``changeInvisibleDuration(_:to:)`` buys more
/// time. Needs ``run()`` for heartbeats and routes.
public final class SimpleConsumer: Sendable, Service {
    /// The consumer's settings.
    public let configuration: SimpleConsumerConfiguration
    let core: ClientCore
    let logger: Logger
    /// The group on the wire (namespace applied).
    let group: String
    private let state = Mutex(State())

    struct State {
        var subscriptions: [String: SubscriptionData] = [:]
        /// Rotates over the topics and brokers a receive tries first.
        var cursor = Int.random(in: 0..<1_000)
        var stopped = false
        var stats = SimpleConsumerStatistics()
    }

    /// Creates a consumer; nothing connects before ``run()`` or the first receive.
    public convenience init(
        configuration: SimpleConsumerConfiguration, client: ClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "rocketmq.simple-consumer")
    ) throws {
        try configuration.validate()
        let core = try ClientCore(configuration: client, eventLoopGroup: eventLoopGroup, logger: logger)
        var logger = logger
        logger[metadataKey: "rocketmq.client"] = "\(core.clientID)"
        logger[metadataKey: "rocketmq.group"] = "\(configuration.group)"
        self.init(configuration: configuration, core: core, logger: logger)
    }

    /// A POP engine on another client's core (a ``PushConsumer`` in POP mode), which runs the core itself.
    init(configuration: SimpleConsumerConfiguration, core: ClientCore, logger: Logger) {
        self.configuration = configuration
        self.core = core
        group = core.wrap(configuration.group)
        self.logger = logger
    }

    /// Replaces the subscriptions (a POP-mode ``PushConsumer``'s, already namespaced).
    func setSubscriptions(_ subscriptions: [SubscriptionData]) {
        state.withLock { $0.subscriptions = Dictionary(subscriptions.map { ($0.topic, $0) }) { _, last in last } }
    }

    /// The client id this consumer reports.
    public var clientID: String { core.clientID }

    /// Counters since this consumer was created.
    public var statistics: SimpleConsumerStatistics { state.withLock { $0.stats } }

    // MARK: subscriptions

    /// Subscribes to `topic` with a tag expression (`*`, `TagA || TagB`), filtered by the broker.
    public func subscribe(_ topic: String, expression: String = "*") throws {
        try Validators.checkTopic(topic)
        let wrapped = core.wrap(topic)
        do {
            try add(try SubscriptionData.build(topic: wrapped, expression: expression, type: ExpressionType.tag))
        } catch let error as WireError {
            throw RocketMQError(.invalidArgument, "bad subscription expression \(expression.debugDescription): \(error)")
        }
    }

    /// Subscribes to `topic` with an SQL92 filter on message properties, evaluated by the broker.
    public func subscribe(_ topic: String, sql: String) throws {
        try Validators.checkTopic(topic)
        let wrapped = core.wrap(topic)
        try add(try SubscriptionData.sql92(topic: wrapped, sql))
    }

    /// Stops receiving from `topic`.
    public func unsubscribe(_ topic: String) {
        _ = state.withLock { $0.subscriptions.removeValue(forKey: core.wrap(topic)) }
    }

    private func add(_ data: SubscriptionData) throws {
        state.withLock { $0.subscriptions[data.topic] = data }
        core.addTopic(data.topic)
    }

    // MARK: receive

    /// Up to `maxMessages` messages of the subscribed topics, waiting up to
    /// ``SimpleConsumerConfiguration/awaitDuration`` when there are none (then it returns an empty array).
    ///
    /// It asks every broker of the subscribed topics at once without waiting, and when none has anything, long-polls
    /// one of them (the next one each time). Each message stays invisible to the group for `invisibleDuration`
    /// (default ``SimpleConsumerConfiguration/invisibleDuration``) unless acknowledged.
    public func receive(maxMessages: Int = 16, invisibleDuration: Duration? = nil) async throws -> [PoppedMessage] {
        guard (1...32).contains(maxMessages) else { throw RocketMQError(.invalidArgument, "maxMessages must be between 1 and 32") }
        let invisible = invisibleDuration ?? configuration.invisibleDuration
        guard invisible >= .seconds(1) else { throw RocketMQError(.invalidArgument, "invisibleDuration must be at least 1 s") }
        let (subscriptions, cursor, stopped) = state.withLock { s in
            defer { s.cursor &+= 1 }
            return (Array(s.subscriptions.values).sorted { $0.topic < $1.topic }, s.cursor, s.stopped)
        }
        guard !stopped else { throw RocketMQError(.notRunning, "the consumer is shut down") }
        guard !subscriptions.isEmpty else { throw RocketMQError(.invalidArgument, "subscribe to a topic before receive()") }
        let started = DefaultTracerClock.now
        var targets: [(SubscriptionData, String)] = []
        for subscription in subscriptions {
            let info: TopicRouteInfo?
            do { info = try await core.routeInfo(subscription.topic) } catch { throw Producer.map(error) }
            let brokers = Set((info?.subscribeQueues ?? []).map(\.brokerName)).sorted()
            for broker in brokers where core.isBrokerAvailable(broker) { targets.append((subscription, broker)) }
        }
        guard !targets.isEmpty else {
            // No broker to ask (no route yet, or all draining): wait like an empty long poll, briefly.
            try await Task.sleep(for: min(configuration.awaitDuration, .milliseconds(500)))
            return []
        }
        let start = cursor % targets.count
        let ordered = Array(targets[start...] + targets[..<start])
        // A sweep without waiting, in parallel; the first non-empty answers win, in rotation order.
        let swept = await withTaskGroup(of: (Int, [PoppedMessage]).self) { group in
            for (i, (subscription, broker)) in ordered.enumerated() {
                group.addTask {
                    let found = try? await self.pop(subscription, broker: broker, max: maxMessages, invisible: invisible, poll: .zero)
                    return (i, found ?? [])
                }
            }
            var results: [(Int, [PoppedMessage])] = []
            for await r in group { results.append(r) }
            return results.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
        if !swept.isEmpty { return record(swept, since: started) }
        guard configuration.awaitDuration > .zero, let (subscription, broker) = ordered.first else { return [] }
        return record(try await pop(subscription, broker: broker, max: maxMessages, invisible: invisible, poll: configuration.awaitDuration), since: started)
    }

    private func record(_ messages: [PoppedMessage], since start: DefaultTracerClock.Instant) -> [PoppedMessage] {
        state.withLock { $0.stats.received += messages.count }
        MessagingTracing.received(messages.map(\.message), group: group, tracer: core.tracer, since: start)
        return messages
    }

    /// Runs `body` in a `"<topic> process"` consumer span, a child of the span that sent `message` (its trace context
    /// travels in the message's properties): wrap the handling of each received message in it to connect the
    /// producer's trace to this consumer's work. Without a tracer it just runs `body`.
    public func withProcessingSpan<T>(
        for message: PoppedMessage, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async rethrows -> T {
        try await MessagingTracing.processing(message.message, group: group, tracer: core.tracer, isolation: isolation, body)
    }

    /// One POP_MESSAGE to `broker`'s master for every queue of `subscription.topic` there.
    func pop(
        _ subscription: SubscriptionData, broker: String, max: Int, invisible: Duration, poll: Duration
    ) async throws -> [PoppedMessage] {
        guard let address = core.masterAddress(broker) else { return [] }
        let now = ClientCore.nowMillis()
        let header = PopMessageRequestHeader(
            consumerGroup: group, topic: subscription.topic, queueId: -1, maxMsgNums: Int32(max),
            invisibleTime: Producer.millis(invisible), pollTime: Producer.millis(poll), bornTime: now,
            initMode: configuration.startPoint == .firstOffset ? PopInitMode.min.rawValue : PopInitMode.max.rawValue,
            expType: subscription.expressionType, exp: subscription.subString, order: configuration.orderly, bname: broker)
        let request = RemotingCommand.request(.popMessage, extFields: header.fields)
        let response: RemotingCommand
        do {
            response = try await core.invoke(request, address: address, timeout: poll + core.configuration.requestTimeout)
        } catch {
            throw Producer.map(error)
        }
        switch response.responseCode {
        case .success:
            let (messages, collisions) = try popped(response, subscription: subscription, broker: broker)
            // Brokers filter by tag hash: a message whose tag only collides is acknowledged here, never handed on.
            for m in collisions { try? await ack(m) }
            return messages
        case .pollingTimeout, .pollingFull, .pullNotFound, .noMessage:
            return []
        default:
            throw RocketMQError(.brokerError, response.remark ?? "pop failed", responseCode: response.code, isRetryable: true)
        }
    }

    /// The messages of a POP response with their receipts (Java `processPopResponse`), and those whose tag only
    /// collided with the subscription's by hash.
    func popped(
        _ response: RemotingCommand, subscription: SubscriptionData, broker: String
    ) throws -> (messages: [PoppedMessage], collisions: [PoppedMessage]) {
        let header: PopMessageResponseHeader
        let starts: [String: Int64]
        let counts: [String: Int32]
        do {
            header = try PopMessageResponseHeader(command: response)
            starts = try PopOffsetInfo.startOffsets(header.startOffsetInfo)
            counts = try PopOffsetInfo.orderCounts(header.orderCountInfo)
        } catch {
            throw RocketMQError(.protocolError, "undecodable POP response: \(error)")
        }
        let (records, error) = MessageRecord.decodeAll(response.body ?? ByteBuffer())
        if let error { logger.warning("POP response body cut short; using the complete records", metadata: ["error": "\(error)"]) }
        let topic = core.unwrap(subscription.topic)
        var out: [PoppedMessage] = []
        var collisions: [PoppedMessage] = []
        for var record in records {
            let receipt: PopReceipt
            if let text = record.properties[MessageProperty.popCheckpoint] {
                guard let parsed = try? PopReceipt(parsing: text) else {
                    logger.warning("popped message with a malformed receipt skipped", metadata: ["receipt": "\(text)"])
                    continue
                }
                receipt = parsed
            } else {
                let flag = PopRetryFlag(topic: record.topic)
                let start = starts[PopOffsetInfo.queueKey(flag, queueId: record.queueId)] ?? record.queueOffset
                receipt = PopReceipt(
                    ckQueueOffset: start, popTime: header.popTime, invisibleTime: header.invisibleTime,
                    reviveQueueId: header.reviveQid, retryFlag: flag, brokerName: broker, queueId: record.queueId,
                    queueOffset: record.queueOffset)
            }
            if receipt.isOrdered {
                let count = counts[PopOffsetInfo.orderKey(receipt.retryFlag, queueId: receipt.queueId, offset: receipt.queueOffset)]
                    ?? counts[PopOffsetInfo.queueKey(receipt.retryFlag, queueId: receipt.queueId)] ?? 0
                if count > 0 { record.reconsumeTimes = count }
            }
            if record.properties[MessageProperty.firstPopTime] == nil {
                record.properties[MessageProperty.firstPopTime] = String(header.popTime)
            }
            let body: ByteBuffer
            do { body = try record.decompressedBody() } catch {
                logger.error("cannot decompress a popped message; skipping it (it comes back after its invisible time)", metadata: ["error": "\(error)"])
                continue
            }
            record.topic = subscription.topic
            let queue = MessageQueue(topic: topic, brokerName: broker, queueId: receipt.queueId)
            var message = ReceivedMessage(record: record, queue: queue, body: body)
            message.topic = topic
            let popped = PoppedMessage(message: message, receipt: receipt, subscribedTopic: topic)
            if subscription.expressionType == ExpressionType.tag, subscription.subString != "*",
                !Set(subscription.tagsSet).contains(message.tags ?? "")
            {
                collisions.append(popped)
            } else {
                out.append(popped)
            }
        }
        return (out, collisions)
    }

    // MARK: ack and invisible time

    /// Acknowledges `message`: it is consumed and never comes back.
    ///
    /// - Throws: ``RocketMQError`` `receiptExpired` when its invisible time has ended (it is, or will be, handed out
    ///   again; acknowledge that delivery instead); the broker's error otherwise.
    public func ack(_ message: PoppedMessage) async throws {
        try checkNotExpired(message)
        let header = AckMessageRequestHeader(consumerGroup: group, topic: ackTopic(message), receipt: message.receipt)
        try await send(RemotingCommand.request(.ackMessage, extFields: header.fields), broker: message.receipt.brokerName, what: "ack")
        state.withLock { $0.stats.acknowledged += 1 }
    }

    /// Acknowledges several messages, one BATCH_ACK_MESSAGE per broker where the broker supports it (single acks
    /// otherwise).
    ///
    /// - Throws: ``RocketMQError`` `receiptExpired` when any of them expired (the others are still acknowledged).
    public func ack(_ messages: [PoppedMessage]) async throws {
        let live = messages.filter { ClientCore.nowMillis() < $0.invisibleUntil }
        let byBroker = Dictionary(grouping: live) { $0.receipt.brokerName }
        for (broker, batch) in byBroker {
            var acks: [String: BatchAck] = [:]
            for m in batch {
                let r = m.receipt
                let key = "\(r.retryFlag.rawValue)@\(r.queueId)@\(r.ckQueueOffset)@\(r.popTime)@\(m.subscribedTopic)"
                var entry = acks[key] ?? BatchAck(
                    consumerGroup: group, topic: core.wrap(m.subscribedTopic), retryFlag: r.retryFlag,
                    startOffset: r.ckQueueOffset, queueId: r.queueId, reviveQueueId: r.reviveQueueId, popTime: r.popTime,
                    invisibleTime: r.invisibleTime, bits: [])
                entry.bits.insert(Int(r.queueOffset - r.ckQueueOffset))
                acks[key] = entry
            }
            let body = BatchAckMessageRequestBody(brokerName: broker, acks: Array(acks.values))
            var request = RemotingCommand.request(.batchAckMessage, extFields: ExtFields())
            request.body = ByteBuffer(bytes: body.encoded())
            do {
                try await send(request, broker: broker, what: "batch ack")
                state.withLock { $0.stats.acknowledged += batch.count }
            } catch let error as RocketMQError where error.responseCode == ResponseCode.requestCodeNotSupported.rawValue {
                for m in batch { try await ack(m) }
            }
        }
        if live.count < messages.count {
            throw RocketMQError(.receiptExpired, "\(messages.count - live.count) of \(messages.count) receipts expired before the ack; those messages will be redelivered")
        }
    }

    /// Keeps `message` invisible for `duration` from now (CHANGE_MESSAGE_INVISIBLETIME) and returns it with its new
    /// receipt; the old receipt no longer acknowledges it.
    ///
    /// - Throws: ``RocketMQError`` `receiptExpired` when its invisible time already ended.
    public func changeInvisibleDuration(_ message: PoppedMessage, to duration: Duration) async throws -> PoppedMessage {
        guard duration >= .zero else { throw RocketMQError(.invalidArgument, "the invisible duration must not be negative") }
        try checkNotExpired(message)
        let r = message.receipt
        let header = AckMessageRequestHeader(
            consumerGroup: group, topic: ackTopic(message), receipt: r, invisibleTime: Producer.millis(duration))
        let response = try await send(
            RemotingCommand.request(.changeMessageInvisibleTime, extFields: header.fields), broker: r.brokerName,
            what: "change invisible time")
        let answer: ChangeInvisibleTimeResponseHeader
        do { answer = try ChangeInvisibleTimeResponseHeader(command: response) } catch {
            throw RocketMQError(.protocolError, "undecodable change-invisible-time response: \(error)")
        }
        var changed = message
        changed.receipt = PopReceipt(
            ckQueueOffset: r.isOrdered ? r.ckQueueOffset : r.queueOffset, popTime: answer.popTime,
            invisibleTime: answer.invisibleTime, reviveQueueId: answer.reviveQid, retryFlag: r.retryFlag,
            brokerName: r.brokerName, queueId: r.queueId, queueOffset: r.queueOffset)
        changed.message.properties[MessageProperty.popCheckpoint] = changed.receipt.text
        return changed
    }

    private func checkNotExpired(_ message: PoppedMessage) throws {
        guard ClientCore.nowMillis() < message.invisibleUntil else {
            state.withLock { $0.stats.expiredReceipts += 1 }
            throw RocketMQError(
                .receiptExpired,
                "the receipt of \(message.message.messageID) expired (its invisible time ended); the message will be redelivered")
        }
    }

    /// The topic the message was popped from, as the broker names it (the pop retry topic for a retried message).
    private func ackTopic(_ message: PoppedMessage) -> String {
        message.receipt.retryFlag.realTopic(core.wrap(message.subscribedTopic), group: group)
    }

    @discardableResult
    private func send(_ request: RemotingCommand, broker: String, what: String) async throws -> RemotingCommand {
        guard let address = core.masterAddress(broker) else {
            throw RocketMQError(.topicNotFound, "no address for broker \(broker)")
        }
        let response: RemotingCommand
        do { response = try await core.invoke(request, address: address, timeout: core.configuration.requestTimeout) } catch {
            throw Producer.map(error)
        }
        guard response.responseCode == .success else {
            throw RocketMQError(.brokerError, response.remark ?? "\(what) failed", responseCode: response.code)
        }
        return response
    }

    // MARK: AsyncSequence

    /// The subscribed topics' messages, received as the loop asks for them (back-pressure: nothing is received while
    /// the loop body runs, so no message waits out its invisible time in a buffer). Acknowledge each one. Ends when the
    /// task is cancelled or the consumer shuts down; receive errors other than those end it with the error.
    public var messages: Messages { Messages(consumer: self) }

    /// See ``SimpleConsumer/messages``.
    public struct Messages: AsyncSequence, Sendable {
        public typealias Element = PoppedMessage
        let consumer: SimpleConsumer

        public func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer) }

        /// Hands out one message at a time, receiving a small batch when it has none.
        public struct Iterator: AsyncIteratorProtocol {
            let consumer: SimpleConsumer
            var buffer: [PoppedMessage] = []

            public mutating func next() async throws -> PoppedMessage? {
                while buffer.isEmpty {
                    if Task.isCancelled || consumer.isStopped { return nil }
                    do {
                        buffer = try await consumer.receive(maxMessages: 4)
                    } catch let error as RocketMQError where error.code == .cancelled || error.code == .notRunning {
                        return nil
                    } catch is CancellationError {
                        return nil
                    } catch let error as RocketMQError where error.isRetryable {
                        consumer.logger.debug("receive failed; retrying", metadata: ["error": "\(error)"])
                        do { try await Task.sleep(for: .milliseconds(200)) } catch { return nil }
                    }
                }
                return buffer.removeFirst()
            }
        }
    }

    // MARK: lifecycle

    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Runs heartbeats (the group as `CONSUME_POP`), route refresh and channel events until cancelled or a graceful
    /// shutdown; then unregisters and closes. Receives need it running.
    public func run() async throws {
        core.registerConsumer(group: group, ConsumerRegistration(
            data: { [weak self] in self?.heartbeatEntry() ?? ConsumerData(groupName: "", consumeType: .consumePop, messageModel: .clustering, consumeFromWhere: .consumeFromLastOffset, subscriptionDataSet: [], unitMode: false) },
            rebalanceNow: {}))
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown { await self.core.run() }
        } onGracefulShutdown: {}
        await Task { await self.stop() }.value  // unstructured: awaited at once; shields shutdown from run()'s cancellation
    }

    private func stop() async {
        state.withLock { $0.stopped = true }
        await core.unregister(producerGroup: nil, consumerGroup: group)
        core.unregisterConsumer(group: group)
        await core.shutdown()
    }

    /// The group's heartbeat entry: POP consumption.
    func heartbeatEntry() -> ConsumerData {
        let subs = state.withLock { Array($0.subscriptions.values) }.sorted { $0.topic < $1.topic }
        return ConsumerData(
            groupName: group, consumeType: .consumePop, messageModel: .clustering,
            consumeFromWhere: configuration.startPoint == .firstOffset ? .consumeFromFirstOffset : .consumeFromLastOffset,
            subscriptionDataSet: subs, unitMode: false)
    }
}

/// What a ``SimpleConsumer`` has done so far.
public struct SimpleConsumerStatistics: Sendable, Hashable {
    /// Messages received.
    public var received = 0
    /// Messages acknowledged.
    public var acknowledged = 0
    /// Acks and invisible-time changes refused because the receipt had expired.
    public var expiredReceipts = 0
}
