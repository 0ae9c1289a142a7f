import Logging
import Metrics
import NIOCore
import NIOPosix
import RocketMQRemoting
import RocketMQWire
import ServiceLifecycle
import Synchronization
import Tracing

/// Sends messages to RocketMQ brokers.
///
/// A `Service`: background work (route refresh, heartbeats to every broker, channel events) runs inside ``run()``;
/// cancel it, or trigger a graceful shutdown of its `ServiceGroup`, to stop. Sends may be issued from any task once
/// the producer exists; many concurrent sends pipeline over one connection per broker.
///
/// Every send either returns a ``SendResult`` or throws a ``RocketMQError`` — never both, never neither. Retryable
/// failures (connect failures, timeouts, SYSTEM_BUSY, GO_AWAY, …) are retried on another broker while the send's
/// deadline has time left; a retry reuses the message's id (`UNIQ_KEY`), so a duplicate after an ambiguous timeout
/// stays identifiable.
public final class Producer: Sendable, Service {
    /// The producer's settings.
    public let configuration: ProducerConfiguration
    let core: ClientCore
    private let ids: UniqueIDGenerator
    let state = Mutex(ProducerState())
    let logger: Logger
    private let metrics: ProducerMetrics
    /// Answers the brokers' transaction checks (nil: this producer sends no transactional messages).
    let transactionChecker: TransactionChecker?
    /// Transaction checks waiting for a worker of ``run()``.
    let checks: (stream: AsyncStream<TransactionCheck>, continuation: AsyncStream<TransactionCheck>.Continuation)
    /// Request-reply calls waiting for their reply, by correlation id.
    let replies: ReplyTable
    /// Sends this producer's trace records (nil: ``ProducerConfiguration/messageTrace`` is off).
    let messageTrace: MessageTraceDispatcher?

    struct ProducerState {
        var topicIndex: [String: Int] = [:]
        var shutDown = false
        var stats = ProducerStatistics()
        /// Topics whose route a request-reply call has fetched (and whose brokers it has heartbeated).
        var requestTopics: Set<String> = []
    }

    /// Broker answers that make a send worth retrying elsewhere (Java's `retryResponseCodes`, 5.3).
    static let retryCodes: Set<Int32> = [17, 14, 1, 2, 16, 204, 205, 1500]

    /// Creates a producer. Nothing connects until the first send or ``run()``.
    ///
    /// - Parameters:
    ///   - transactionChecker: answers the brokers' checks of this group's transactional messages whose outcome is
    ///     not known (``sendInTransaction(_:execute:)`` answered ``TransactionResolution/unknown``, or its process
    ///     died before answering). Required for ``sendInTransaction(_:execute:)``; checks are answered while ``run()``
    ///     runs.
    public init(
        configuration: ProducerConfiguration, client: ClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "rocketmq.producer"),
        transactionChecker: TransactionChecker? = nil
    ) throws {
        guard !configuration.group.isEmpty else { throw RocketMQError(.invalidArgument, "producer group is empty") }
        guard configuration.retries >= 0, configuration.sendTimeout > .zero else {
            throw RocketMQError(.invalidArgument, "retries must be >= 0 and sendTimeout positive")
        }
        guard configuration.transactionCheckConcurrency > 0, configuration.transactionCheckBacklog >= 0 else {
            throw RocketMQError(.invalidArgument, "transactionCheckConcurrency must be positive and transactionCheckBacklog >= 0")
        }
        try configuration.messageTrace?.validate()
        self.configuration = configuration
        self.transactionChecker = transactionChecker
        self.checks = AsyncStream.makeStream(of: TransactionCheck.self, bufferingPolicy: .bufferingOldest(configuration.transactionCheckBacklog))
        self.replies = ReplyTable(eventLoop: eventLoopGroup.next())
        self.core = try ClientCore(configuration: client, eventLoopGroup: eventLoopGroup, logger: logger)
        var logger = logger
        logger[metadataKey: "rocketmq.client"] = "\(core.clientID)"
        logger[metadataKey: "rocketmq.group"] = "\(configuration.group)"
        self.logger = logger
        let ip = MessageHost((client.clientIP ?? ClientConfiguration.localIPv4() ?? "127.0.0.1") + ":0")?.ip ?? [127, 0, 0, 1]
        self.ids = UniqueIDGenerator(ip: ip, pid: Int32(truncatingIfNeeded: getpid()), seed: Int32.random(in: .min ... .max))
        self.metrics = ProducerMetrics(group: configuration.group)
        let ids = self.ids
        self.messageTrace = configuration.messageTrace.map { [core, logger] in
            MessageTraceDispatcher(configuration: $0, group: configuration.group, role: .produce, core: core, ids: ids, logger: logger)
        }
        core.registerProducer(group: client.wrap(configuration.group))
        // As Java's producer (its `createTopicKey` in the publish table): TBW102's route puts the cluster's brokers in
        // the address table, so they get heartbeats from the start and know this group's connection, which their
        // transaction checks and pushed replies need before this producer has sent anything.
        core.addTopic("TBW102")
        registerPushedRequestProcessors()
    }

    /// Counters since this producer was created.
    public var statistics: ProducerStatistics {
        var stats = state.withLock { $0.stats }
        let counters = core.counters
        stats.goAways = counters.goAways
        stats.reconnects = counters.reconnects
        stats.messageTrace = messageTrace?.statistics
        return stats
    }

    /// The client id this producer reports (`ip@pid#nanotime` by default).
    public var clientID: String { core.clientID }

    /// Runs the background work until cancelled or a graceful shutdown; then unregisters and closes connections.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                await withDiscardingTaskGroup { group in
                    group.addTask { await self.core.run() }
                    group.addTask { await self.answerTransactionChecks() }
                    if let messageTrace = self.messageTrace { group.addTask { await messageTrace.run() } }
                }
            }
        } onGracefulShutdown: {}
        // run() is usually cancelled by now; the unregister requests must not be.
        await Task { await self.shutdown() }.value  // unstructured: awaited at once; shields shutdown from run()'s cancellation
    }

    /// Sends the trace records still buffered (within ``MessageTraceConfiguration/shutdownFlushTimeout``), unregisters
    /// from every broker and closes all connections. Later sends fail with `notRunning`.
    public func shutdown() async {
        let first = state.withLock { s -> Bool in
            defer { s.shutDown = true }
            return !s.shutDown
        }
        guard first else { return }
        replies.failAll(RocketMQError(.notRunning, "the producer shut down before the reply arrived"))
        await messageTrace?.drain()
        await core.unregister(producerGroup: core.wrap(configuration.group), consumerGroup: nil)
        await core.shutdown()
    }

    // MARK: sending

    /// Sends `message` and waits for the broker's answer.
    public func send(_ message: Message) async throws -> SendResult {
        try await send(message, queueSelector: nil)
    }

    /// Sends `message` to the queue `selector` picks among the topic's queues (ordered messages: the same key → the
    /// same queue). Not retried on another queue, as Java's `send(msg, selector, arg)`.
    public func send(_ message: Message, selector: @escaping @Sendable ([MessageQueue]) -> MessageQueue?) async throws -> SendResult {
        try await send(message, queueSelector: selector)
    }

    /// Sends `message` to the queue chosen by a stable hash of `shardingKey` (Java's `SelectMessageQueueByHash`).
    public func send(_ message: Message, shardingKey: String) async throws -> SendResult {
        var message = message
        message.properties["__SHARDINGKEY"] = shardingKey
        let hash = JavaCompat.stringHashCode(shardingKey)
        return try await send(message) { queues in
            queues.isEmpty ? nil : queues[Int(abs(Int64(hash)) % Int64(queues.count))]
        }
    }

    /// Sends without waiting for an answer (flag bit 1); returns once written. Not retried.
    public func sendOneway(_ message: Message) async throws {
        try await MessagingTracing.publish(message, group: configuration.group, tracer: core.tracer) { message, _ in
            try await sendOnewayTraced(message)
        }
    }

    private func sendOnewayTraced(_ message: Message) async throws {
        var prepared = try prepare(message)
        let queue = try await pickQueue(topic: prepared.topic, avoiding: nil, selector: nil)
        guard let address = core.masterAddress(queue.brokerName) else {
            throw RocketMQError(.topicNotFound, "no master address for \(queue.brokerName)")
        }
        prepared.header.queueId = queue.queueId
        prepared.header.bname = queue.brokerName
        let request = RemotingCommand.request(.sendMessageV2, extFields: prepared.fields(), body: prepared.body, oneway: true)
        do {
            try await core.invokeOneway(request, address: address, timeout: configuration.sendTimeout)
        } catch {
            throw Self.map(error)
        }
    }

    /// Sends several messages of one topic as one SEND_BATCH_MESSAGE (never compressed).
    public func send(_ messages: [Message]) async throws -> SendResult {
        guard let first = messages.first else { throw RocketMQError(.invalidArgument, "empty batch") }
        guard messages.allSatisfy({ $0.topic == first.topic }) else {
            throw RocketMQError(.invalidArgument, "a batch must have one topic")
        }
        guard messages.allSatisfy({ $0.delayLevel == nil && $0.deliverAtMillis == nil }) else {
            throw RocketMQError(.invalidArgument, "batch messages cannot be delayed")
        }
        guard messages.allSatisfy({ $0.waitStoreMessageOK == first.waitStoreMessageOK }) else {
            throw RocketMQError(.invalidArgument, "batch messages must agree on waitStoreMessageOK")
        }
        var entries: [BatchEntry] = []
        var uniqueKeys: [String] = []
        for m in messages {
            try validate(m)
            let props = properties(of: m)
            uniqueKeys.append(props.uniqueKey.text)
            entries.append(BatchEntry(body: m.body, flag: m.flag, properties: props.all))
        }
        let body: ByteBuffer
        do { body = try MessageBatch.encode(entries) } catch { throw RocketMQError(.invalidArgument, "batch not encodable: \(error)") }
        guard body.readableBytes <= configuration.maxMessageSize else {
            throw RocketMQError(.invalidArgument, "batch of \(body.readableBytes) bytes exceeds \(configuration.maxMessageSize)")
        }
        let batchProps = OutgoingProperties(
            waitStoreMessageOK: first.waitStoreMessageOK, uniqueKey: ids.nextID(nowMillis: ClientCore.nowMillis()))
        let topic = core.wrap(first.topic)
        var prepared = PreparedSend(
            topic: topic, body: body,
            header: makeHeader(topic: topic, sysFlag: 0, flag: 0, batch: true), properties: batchProps,
            uniqueKey: HexIDText(uniqueKeys.joined(separator: ",")), code: .sendBatchMessage)
        prepared.header.batch = true
        if messageTrace?.traces(topic: first.topic) == true {
            prepared.trace = zip(messages, entries).map { m, e in
                PublishTraceInfo(topic: m.topic, tags: e.properties[MessageProperty.tags], keys: e.properties[MessageProperty.keys],
                                 bodyLength: e.body.readableBytes, messageType: .normal)
            }
        }
        return try await deliver(prepared, selector: nil)
    }

    // MARK: internals

    struct PreparedSend: Sendable {
        var topic: String
        var body: ByteBuffer
        /// The header, without its properties string (`properties` is written in its place).
        var header: SendMessageRequestHeader
        /// The message's properties, written into the frame as the header's properties string.
        var properties: OutgoingProperties
        /// The message's UNIQ_KEY (the messages' joined with commas, for a batch).
        var uniqueKey: HexIDText
        var code: RequestCode = .sendMessageV2
        /// The whole budget of the send (``ProducerConfiguration/sendTimeout`` when nil).
        var timeout: Duration?
        /// What its `Pub` trace records need (nil unless message trace is on): one per message.
        var trace: [PublishTraceInfo]?

        func fields() -> ExtFields {
            header.v2Fields(properties: properties)
        }
    }

    func send(_ message: Message, queueSelector: (@Sendable ([MessageQueue]) -> MessageQueue?)?) async throws -> SendResult {
        // No tracer (the usual case): no span, and no wrapper frame per message.
        guard core.isTracing else { return try await deliver(try prepare(message), selector: queueSelector) }
        return try await MessagingTracing.publish(message, group: configuration.group, tracer: core.tracer) { message, span in
            let result = try await deliver(try prepare(message), selector: queueSelector, span: span)
            MessagingTracing.record(result, on: span)
            return result
        }
    }

    private func validate(_ message: Message) throws {
        try Validators.checkTopic(message.topic)
        guard message.body.readableBytes > 0 else { throw RocketMQError(.invalidArgument, "message body is empty") }
        guard message.body.readableBytes <= configuration.maxMessageSize else {
            throw RocketMQError(.invalidArgument, "message body of \(message.body.readableBytes) bytes exceeds \(configuration.maxMessageSize)")
        }
        if let level = message.delayLevel, !(1...18).contains(level) {
            throw RocketMQError(.invalidArgument, "delay level \(level) is outside 1...18")
        }
        for (k, v) in message.properties {
            guard !k.isEmpty, !Validators.hasSeparator(k), !Validators.hasSeparator(v) else {
                throw RocketMQError(.invalidArgument, "property \(k.debugDescription) contains a reserved separator")
            }
            guard !MessageProperty.reserved.contains(k) || k == "__SHARDINGKEY" else {
                throw RocketMQError(.invalidArgument, "property \(k) is reserved by RocketMQ")
            }
        }
        if let tags = message.tags, Validators.hasSeparator(tags) {
            throw RocketMQError(.invalidArgument, "tags contain a reserved separator")
        }
    }

    /// The properties `message` is sent with (with a fresh UNIQ_KEY).
    private func properties(of message: Message) -> OutgoingProperties {
        var props = MessageProperties()
        if !message.properties.isEmpty {
            for (k, v) in message.properties.sorted(by: { $0.key < $1.key }) { props[k] = v }
        }
        if let tags = message.tags, !tags.isEmpty { props[MessageProperty.tags] = tags }
        if !message.keys.isEmpty { props[MessageProperty.keys] = message.keys.joined(separator: " ") }
        if let level = message.delayLevel { props[MessageProperty.delayTimeLevel] = String(level) }
        if message.delayLevel == nil, let at = message.deliverAtMillis { props[MessageProperty.timerDeliverMilliseconds] = String(at) }
        return OutgoingProperties(
            list: props, waitStoreMessageOK: message.waitStoreMessageOK, uniqueKey: ids.nextID(nowMillis: ClientCore.nowMillis()))
    }

    private func makeHeader(topic: String, sysFlag: Int32, flag: Int32, batch: Bool) -> SendMessageRequestHeader {
        SendMessageRequestHeader(
            producerGroup: core.wrap(configuration.group), topic: topic, defaultTopic: "TBW102",
            defaultTopicQueueNums: configuration.defaultTopicQueueNums, queueId: 0, sysFlag: sysFlag,
            bornTimestamp: ClientCore.nowMillis(), flag: flag, properties: nil, reconsumeTimes: 0,
            unitMode: false, batch: batch)
    }

    /// Validates `message` and turns it into a send request: its properties (plus `system`, which RocketMQ reserves
    /// and users may not set), a fresh UNIQ_KEY, the body compressed when large, `sysFlag` or-ed into the header's.
    /// `namespaced: false` sends to the topic as named (system topics such as the reply topic).
    func prepare(
        _ message: Message, system: [(String, String)] = [], sysFlag extraSysFlag: Int32 = 0, namespaced: Bool = true
    ) throws -> PreparedSend {
        if state.withLock({ $0.shutDown }) { throw RocketMQError(.notRunning, "the producer is shut down") }
        try validate(message)
        var props = properties(of: message)
        for (key, value) in system { props.list[key] = value }
        var body = message.body
        var sysFlag: Int32 = extraSysFlag
        if let type = configuration.compression, body.readableBytes >= configuration.compressionThreshold {
            do {
                let compressed = try Compression.compress(body.readableBytesView, type: type, level: configuration.compressionLevel)
                let original = body.readableBytes
                body = ByteBuffer(bytes: compressed)
                sysFlag |= MessageSysFlag.flag(for: type)
                metrics.compressed.increment()
                state.withLock {
                    $0.stats.compressedMessages += 1
                    $0.stats.uncompressedBytes += original
                    $0.stats.compressedBytes += compressed.count
                }
            } catch {
                // Java sends the original body when compression fails.
                logger.warning("compression failed; sending uncompressed", metadata: ["error": "\(error)"])
            }
        }
        let topic = namespaced ? core.wrap(message.topic) : message.topic
        var prepared = PreparedSend(
            topic: topic, body: body,
            header: makeHeader(topic: topic, sysFlag: sysFlag, flag: message.flag, batch: false), properties: props,
            uniqueKey: props.uniqueKey)
        if let messageTrace, messageTrace.traces(topic: message.topic) {
            let type = PublishTraceInfo.messageType(of: message, transactional: props.list[MessageProperty.transactionPrepared] == "true")
            prepared.trace = [PublishTraceInfo(
                topic: message.topic, tags: props.list[MessageProperty.tags], keys: props.list[MessageProperty.keys],
                bodyLength: body.readableBytes, messageType: type)]
        }
        return prepared
    }

    /// Sends `prepared` with retries within its deadline; each retry is an event on `span`.
    func deliver(
        _ prepared: PreparedSend, selector: (@Sendable ([MessageQueue]) -> MessageQueue?)?, span: (any Span)? = nil
    ) async throws -> SendResult {
        let clock = ContinuousClock()
        let start = clock.now
        let startedAt = NIODeadline.now()  // for latencies: integer nanoseconds, no Duration conversions
        let budget = prepared.timeout ?? configuration.sendTimeout
        let deadline = start + budget
        let attempts = selector == nil ? configuration.retries + 1 : 1
        var lastBroker: String?
        var lastError: RocketMQError?
        var attempt = 0
        var gatedInARow = 0
        while attempt < attempts {
            // An iteration is an attempt unless it only met a reconnect backoff (then nothing was sent).
            var sentNothing = false
            defer { if !sentNothing { attempt += 1 } }
            let remaining = deadline - clock.now
            guard remaining > .zero else { break }
            let queue: MessageQueue
            do { queue = try await pickQueue(topic: prepared.topic, avoiding: lastBroker, selector: selector) } catch let e as RocketMQError {
                lastError = e
                if e.isRetryable { continue } else { break }
            }
            guard let address = core.masterAddress(queue.brokerName) else {
                lastError = RocketMQError(.topicNotFound, "no master address for broker \(queue.brokerName)", isRetryable: true)
                lastBroker = queue.brokerName
                continue
            }
            var header = prepared.header
            header.queueId = queue.queueId
            header.bname = queue.brokerName
            let fields = header.v2Fields(properties: prepared.properties)
            let request = RemotingCommand.request(prepared.code, extFields: fields, body: prepared.body)
            let began = NIODeadline.now()
            do {
                let response = try await core.invoke(request, address: address, timeout: deadline - clock.now)
                let latency = Self.millis(since: began)
                core.recordSend(broker: queue.brokerName, latencyMillis: latency, failed: false)
                switch try result(of: response, queue: queue, uniqueKey: prepared.uniqueKey) {
                case .success(let result):
                    if let trace = prepared.trace, let messageTrace {
                        messageTrace.recordPublish(
                            trace, result: result, traceSwitch: response.field(MessageProperty.traceSwitch), storeHost: address,
                            attemptMillis: latency)
                    }
                    metrics.record(success: true, nanoseconds: (NIODeadline.now() - startedAt).nanoseconds, attempts: attempt + 1)
                    state.withLock {
                        $0.stats.sent += 1
                        $0.stats.retries += attempt
                    }
                    return result
                case .failure(let error):
                    lastError = error
                    lastBroker = queue.brokerName
                    if !error.isRetryable { break }
                    logger.debug("send failed; retrying", metadata: ["broker": "\(address)", "error": "\(error)"])
                    span?.addEvent(SpanEvent(name: "retry", attributes: ["messaging.rocketmq.broker": .string(queue.brokerName), "error.type": .string("\(error.code)")]))
                    continue
                }
            } catch let error as RemotingError where error.kind == .reconnectBackoff || error.kind == .connectFailed {
                // The broker's connection broke moments ago and its reconnect backoff fails requests fast, so that
                // the send moves on to another broker at once; or the connect was refused. Nothing was sent, so this
                // is not an attempt: a broker reachable again within the send's deadline still gets the message
                // (a refused connect is a fault, for the broker choice). When every broker is gated, wait a moment
                // for the earliest gate to open (the deadline bounds this).
                if error.kind == .connectFailed {
                    core.recordSend(broker: queue.brokerName, latencyMillis: Self.millis(since: began), failed: true)
                }
                sentNothing = true
                lastError = Self.map(error)
                lastBroker = queue.brokerName
                gatedInARow += 1
                if gatedInARow > 1 {
                    let wait = min(.milliseconds(20), deadline - clock.now)
                    if wait > .zero {
                        do { try await Task.sleep(for: wait) } catch {
                            lastError = RocketMQError(.cancelled, "the send was cancelled")
                            break
                        }
                    }
                }
                continue
            } catch {
                gatedInARow = 0
                let mapped = Self.map(error)
                core.recordSend(broker: queue.brokerName, latencyMillis: Self.millis(since: began), failed: true)
                lastError = mapped
                lastBroker = queue.brokerName
                if !mapped.isRetryable { break }
                logger.debug("send failed; retrying", metadata: ["broker": "\(address)", "error": "\(mapped)"])
                span?.addEvent(SpanEvent(name: "retry", attributes: ["messaging.rocketmq.broker": .string(queue.brokerName), "error.type": .string("\(mapped.code)")]))
            }
            if let lastError, !lastError.isRetryable { break }
        }
        metrics.record(success: false, nanoseconds: (NIODeadline.now() - startedAt).nanoseconds, attempts: attempts)
        state.withLock { $0.stats.failed += 1 }
        if clock.now >= deadline, lastError?.code != .invalidArgument {
            throw RocketMQError(
                .timeout, "send to \(prepared.topic) did not succeed within \(budget)"
                    + (lastError.map { "; last error: \($0)" } ?? ""), isRetryable: true)
        }
        throw lastError ?? RocketMQError(.timeout, "send to \(prepared.topic) timed out", isRetryable: true)
    }

    /// Maps a send response (Java's `processSendResponse`).
    private func result(of response: RemotingCommand, queue: MessageQueue, uniqueKey: HexIDText) throws -> Result<SendResult, RocketMQError> {
        let status: SendStatus
        switch response.responseCode {
        case .success: status = .ok
        case .flushDiskTimeout: status = .flushDiskTimeout
        case .flushSlaveTimeout: status = .flushSlaveTimeout
        case .slaveNotAvailable: status = .slaveNotAvailable
        default:
            return .failure(RocketMQError(
                .brokerError, response.remark ?? "send failed", responseCode: response.code,
                isRetryable: Self.retryCodes.contains(response.code)))
        }
        if status != .ok, configuration.retryAnotherBrokerWhenNotStoreOK {
            return .failure(RocketMQError(.brokerError, "stored with status \(status)", responseCode: response.code, isRetryable: true))
        }
        let header: SendMessageResponseHeader
        let region: String?
        do {
            (header, region, _) = try SendMessageResponseHeader.decodeAnswer(response.extFields ?? ExtFields())
        } catch {
            throw RocketMQError(.protocolError, "undecodable send response: \(error)")
        }
        var resultQueue = queue
        resultQueue.topic = core.unwrap(queue.topic)
        resultQueue.queueId = header.queueId
        return .success(SendResult(
            status: status, messageID: header.batchUniqId.map(HexIDText.init) ?? uniqueKey, offsetMessageID: header.msgIDText,
            queue: resultQueue, queueOffset: header.queueOffset, transactionID: header.transactionIDText,
            regionID: region ?? "DefaultRegion"))
    }

    static func millis(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    /// Milliseconds since `instant`.
    static func millis(since instant: NIODeadline) -> Int64 { (NIODeadline.now() - instant).nanoseconds / 1_000_000 }

    /// Turns any failure into the public error type.
    static func map(_ error: Error) -> RocketMQError {
        if let e = error as? RocketMQError { return e }
        if let e = error as? RemotingError {
            switch e.kind {
            case .connectFailed, .reconnectBackoff, .channelClosed:
                return RocketMQError(.connectionFailed, e.description, isRetryable: true)
            case .timeout: return RocketMQError(.timeout, e.description, isRetryable: true)
            case .goAway, .draining: return RocketMQError(.goAway, e.description, responseCode: 1500, isRetryable: true)
            case .protocolError: return RocketMQError(.protocolError, e.description, isRetryable: true)
            case .invalidRequest, .invalidAddress: return RocketMQError(.invalidArgument, e.description)
            case .shutdown: return RocketMQError(.notRunning, e.description)
            case .cancelled: return RocketMQError(.cancelled, e.description)
            }
        }
        if error is CancellationError { return RocketMQError(.cancelled, "cancelled") }
        return RocketMQError(.protocolError, "\(error)")
    }
}

/// What a producer has done so far.
public struct ProducerStatistics: Sendable, Hashable {
    /// Sends that returned a result.
    public var sent = 0
    /// Sends that threw.
    public var failed = 0
    /// Extra attempts made by sends that eventually succeeded.
    public var retries = 0
    /// Messages whose body was compressed.
    public var compressedMessages = 0
    /// Bytes of those bodies before compression.
    public var uncompressedBytes = 0
    /// Bytes of those bodies after compression.
    public var compressedBytes = 0
    /// GO_AWAY answers handled (each swap or draining mark).
    public var goAways = 0
    /// Connections re-established to an address connected before.
    public var reconnects = 0
    /// Transactional messages sent (half messages stored).
    public var transactionsSent = 0
    /// Transaction checks from brokers answered by the ``TransactionChecker``.
    public var transactionChecksAnswered = 0
    /// Transaction checks dropped because the check backlog was full (the broker asks again later).
    public var transactionChecksDropped = 0
    /// Request-reply calls answered by their reply.
    public var repliesReceived = 0
    /// Replies that arrived for no waiting call (it had timed out or was cancelled): dropped.
    public var lateReplies = 0
    /// What message trace did: records sent, dropped (buffer full) and failed (nil when it is off).
    public var messageTrace: MessageTraceStatistics?
}
