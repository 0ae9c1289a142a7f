import Logging
import Metrics
import NIOCore
import RocketMQRemoting
import RocketMQWire
import Synchronization

/// Sends a client's trace records to the trace topic in the background (Java's `AsyncTraceDispatcher`).
///
/// Hooks ``offer(_:)-(MessageTraceRecord)`` records without waiting: one lock, an append to a bounded buffer, and
/// once per batch a wake of ``run()``. ``run()`` (a child of the producer's or consumer's `run()`) sends full batches
/// at once and partial ones every flush interval, at most ``MessageTraceConfiguration/concurrentSends`` trace
/// messages at a time, through the client's core (its routes and connections). ``drain()`` sends what is left at
/// shutdown within ``MessageTraceConfiguration/shutdownFlushTimeout``.
final class MessageTraceDispatcher: Sendable {
    /// Whose records these are: part of the inner producer group's name, as Java names it.
    enum Role: String, Sendable {
        case produce = "PRODUCE"
        case consume = "CONSUME"
    }

    let configuration: MessageTraceConfiguration
    /// The group of the traced client, without namespace (written into records).
    let group: String
    /// The trace topic as sent (a custom one namespaced).
    let traceTopic: String
    /// The producer group trace messages are sent as (Java's `_INNER_TRACE_PRODUCER-<group>-<role>-<n>`).
    let producerGroup: String
    let core: ClientCore
    let logger: Logger
    /// Makes request ids (SubBefore/SubAfter) and the trace messages' UNIQ_KEYs.
    let ids: UniqueIDGenerator
    private let buffer: Mutex<MessageTraceBuffer>
    private let wakes: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    private let metrics: MessageTraceMetrics
    /// Round robin over the trace topic's queues.
    private let nextQueue = Atomic<Int>(Int.random(in: 0..<1_000))
    /// Whether the buffer was full when last changed: lets a hook skip building a record it could not buffer.
    private let full = Atomic<Bool>(false)
    /// Records dropped (and offered) by ``dropIfFull()`` without taking the lock.
    private let fastDrops = Atomic<Int>(0)

    /// Numbers the inner producer groups of this process, as Java's `COUNTER`.
    private static let instances = Atomic<Int>(0)

    init(configuration: MessageTraceConfiguration, group: String, role: Role, core: ClientCore, ids: UniqueIDGenerator, logger: Logger) {
        self.configuration = configuration
        self.group = group
        // The system trace topic stays as it is (wrap leaves system topics alone, as Java's); a custom one is namespaced.
        self.traceTopic = core.wrap(configuration.traceTopic)
        let n = Self.instances.wrappingAdd(1, ordering: .relaxed).newValue
        self.producerGroup = "_INNER_TRACE_PRODUCER-\(group)-\(role.rawValue)-\(n)"
        self.core = core
        self.ids = ids
        var logger = logger
        logger[metadataKey: "rocketmq.trace.topic"] = "\(traceTopic)"
        self.logger = logger
        self.buffer = Mutex(MessageTraceBuffer(
            capacity: configuration.bufferCapacity, batchSize: configuration.effectiveBatchSize,
            maxInFlight: configuration.concurrentSends))
        self.wakes = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.metrics = MessageTraceMetrics(group: group, role: role)
    }

    /// Counters since the client was created.
    var statistics: MessageTraceStatistics {
        var s = buffer.withLock { $0.statistics }
        let fast = fastDrops.load(ordering: .relaxed)
        s.recordsOffered += fast
        s.recordsDropped += fast
        return s
    }

    /// When the buffer is full, counts `count` records as offered and dropped and returns true, without taking the
    /// lock: a hook under overload then builds no record at all.
    func dropIfFull(_ count: Int = 1) -> Bool {
        guard full.load(ordering: .relaxed) else { return false }
        fastDrops.wrappingAdd(count, ordering: .relaxed)
        metrics.dropped.increment(by: count)
        return true
    }

    /// Whether records of messages of `topic` are written (not those of the trace topic itself, as Java's hooks).
    func traces(topic: String) -> Bool { !topic.hasPrefix(configuration.traceTopic) }

    /// A fresh request id (Java's `MessageClientIDSetter.createUniqID()`).
    func makeRequestID() -> String { ids.next(nowMillis: ClientCore.nowMillis()) }

    // MARK: offering (never waits)

    /// Buffers `record` for sending; when the buffer is full it is dropped and counted.
    func offer(_ record: MessageTraceRecord) {
        let offered = buffer.withLock { b in
            defer { full.store(b.isFull, ordering: .relaxed) }
            return b.offer(record)
        }
        react(to: offered)
    }

    /// Buffers `records` (one handler call's) for sending; what does not fit is dropped and counted.
    func offer(_ records: [MessageTraceRecord]) {
        guard !records.isEmpty else { return }
        let offered = buffer.withLock { b in
            defer { full.store(b.isFull, ordering: .relaxed) }
            return b.offer(records)
        }
        react(to: offered)
    }

    private func react(to offered: MessageTraceBuffer.Offered) {
        if offered.wake { wakes.continuation.yield() }
        if offered.dropped > 0 { metrics.dropped.increment(by: offered.dropped) }
    }

    // MARK: background work

    /// Sends batches as they fill and every flush interval, until cancelled. Sends cancelled on the way put their
    /// records back for ``drain()``.
    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await ClientCore.tick(every: self.configuration.flushInterval) {
                    if self.buffer.withLock({ $0.requestFlush() }) { self.wakes.continuation.yield() }
                }
            }
            for await _ in wakes.stream {
                while let batch = buffer.withLock({ b in
                    defer { full.store(b.isFull, ordering: .relaxed) }
                    return b.nextBatch()
                }) {
                    group.addTask { await self.send(batch, deadline: nil) }
                }
            }
            // Cancelled: the tick ends, and so do the sends (their records go back to the buffer).
        }
    }

    /// Sends the records still buffered, within ``MessageTraceConfiguration/shutdownFlushTimeout``; what is left
    /// then is counted as failed. Later offers are dropped.
    func drain() async {
        let batches = buffer.withLock { b in
            defer { full.store(true, ordering: .relaxed) }
            return b.close()
        }
        guard !batches.isEmpty else { return }
        let deadline = ContinuousClock.now + configuration.shutdownFlushTimeout
        for batch in batches { await send(batch, deadline: deadline) }
        let s = statistics
        logger.debug("message trace drained", metadata: [
            "sent": "\(s.recordsSent)", "failed": "\(s.recordsFailed)", "dropped": "\(s.recordsDropped)",
        ])
    }

    /// One trace message's records and body.
    struct Chunk {
        var records: [MessageTraceRecord] = []
        var body = ""
    }

    /// Sends `batch` as trace messages, one per traced topic (as Java), each split to stay within
    /// ``MessageTraceConfiguration/maxMessageSize``; a send gets the smaller of its own timeout and what is left
    /// before `deadline`.
    private func send(_ batch: [MessageTraceRecord], deadline: ContinuousClock.Instant?) async {
        let chunks = Self.chunks(of: batch, maxBytes: configuration.maxMessageSize)
        var sent = 0, messages = 0, failed = 0, failedMessages = 0
        for (index, chunk) in chunks.enumerated() {
            var timeout = configuration.sendTimeout
            if let deadline { timeout = min(timeout, deadline - ContinuousClock.now) }
            do {
                if timeout > .zero, try await send(body: chunk.body, keys: MessageTraceCodec.keys(of: chunk.records), timeout: timeout) {
                    sent += chunk.records.count
                    messages += 1
                } else {
                    failed += chunk.records.count
                    failedMessages += 1
                }
            } catch {
                // Cancelled. In run() (the client is stopping): the unsent records wait for drain(). In drain():
                // they are lost.
                let rest = chunks[index...].flatMap(\.records)
                buffer.withLock {
                    if deadline == nil {
                        _ = $0.finished(sent: sent, messages: messages, failed: failed, failedMessages: failedMessages)
                        $0.requeue(rest)
                        full.store($0.isFull, ordering: .relaxed)
                    } else {
                        $0.count(sent: sent, messages: messages, failed: failed + rest.count, failedMessages: failedMessages + 1)
                    }
                }
                record(sent: sent, failed: deadline == nil ? failed : failed + rest.count)
                return
            }
        }
        let wake = buffer.withLock {
            if deadline == nil {
                return $0.finished(sent: sent, messages: messages, failed: failed, failedMessages: failedMessages)
            }
            $0.count(sent: sent, messages: messages, failed: failed, failedMessages: failedMessages)
            return false
        }
        record(sent: sent, failed: failed)
        if wake { wakes.continuation.yield() }
    }

    private func record(sent: Int, failed: Int) {
        if sent > 0 { metrics.sent.increment(by: sent) }
        if failed > 0 { metrics.failed.increment(by: failed) }
    }

    /// Groups `batch` by traced topic (in first-seen order) and splits each group so that no body exceeds
    /// `maxBytes` (a single larger record goes alone).
    static func chunks(of batch: [MessageTraceRecord], maxBytes: Int) -> [Chunk] {
        var topics: [String] = []
        var byTopic: [String: [MessageTraceRecord]] = [:]
        for record in batch {
            if byTopic[record.topic] == nil { topics.append(record.topic) }
            byTopic[record.topic, default: []].append(record)
        }
        var chunks: [Chunk] = []
        for topic in topics {
            var current = Chunk()
            for record in byTopic[topic] ?? [] {
                let text = MessageTraceCodec.encode(record)
                if !current.records.isEmpty, current.body.utf8.count + text.utf8.count > maxBytes {
                    chunks.append(current)
                    current = Chunk()
                }
                current.records.append(record)
                current.body += text
            }
            if !current.records.isEmpty { chunks.append(current) }
        }
        return chunks
    }

    // MARK: sending one trace message

    /// Sends one trace message (as Java's trace producer: `KEYS` the traced ids and keys, retried twice on another
    /// broker); true when a broker stored it. Throws only when the task is cancelled.
    private func send(body: String, keys: [String], timeout: Duration) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var properties = MessageProperties()
        if !keys.isEmpty { properties[MessageProperty.keys] = keys.joined(separator: " ") }
        properties[MessageProperty.waitStoreMessageOK] = "true"
        properties[MessageProperty.uniqueKey] = ids.next(nowMillis: ClientCore.nowMillis())
        let encodedProperties = properties.encoded
        let payload = ByteBuffer(string: body)
        var lastBroker: String?
        var lastError = "no time left"
        attempts: for _ in 0..<3 {
            guard deadline - clock.now > .zero else { break }
            try Task.checkCancellation()
            do {
                let queue = try await pickQueue(avoiding: lastBroker)
                lastBroker = queue.brokerName
                guard let address = core.masterAddress(queue.brokerName) else {
                    lastError = "no master address for broker \(queue.brokerName)"
                    continue
                }
                let header = SendMessageRequestHeader(
                    producerGroup: producerGroup, topic: traceTopic, queueId: queue.queueId,
                    bornTimestamp: ClientCore.nowMillis(), properties: encodedProperties, reconsumeTimes: 0,
                    unitMode: false, batch: false, bname: queue.brokerName)
                let fields = header.v2Fields
                let request = RemotingCommand.request(.sendMessageV2, extFields: fields, body: payload)
                let response = try await core.invoke(request, address: address, timeout: deadline - clock.now)
                switch response.responseCode {
                case .success, .flushDiskTimeout, .flushSlaveTimeout, .slaveNotAvailable:
                    return true
                default:
                    lastError = "response \(response.code): \(response.remark ?? "")"
                    if !Producer.retryCodes.contains(response.code) { break attempts }
                }
            } catch {
                if Task.isCancelled { throw CancellationError() }
                let mapped = Producer.map(error)
                lastError = "\(mapped)"
                if !mapped.isRetryable { break attempts }
            }
        }
        logger.debug("message trace not sent", metadata: ["error": "\(lastError)", "bytes": "\(payload.readableBytes)"])
        return false
    }

    /// A queue of the trace topic, round robin, avoiding the broker that just failed; through TBW102's brokers while
    /// the name server does not know the topic (they create it, as for any topic).
    private func pickQueue(avoiding lastBroker: String?) async throws -> MessageQueue {
        var queues: [MessageQueue] = []
        if let info = try await core.routeInfo(traceTopic), !info.publishQueues.isEmpty {
            queues = info.publishQueues
        } else if let info = try await core.routeInfo("TBW102") {
            for q in info.route.queueDatas.sorted(by: { JavaStringOrder.compare($0.brokerName, $1.brokerName) < 0 })
            where q.perm & 2 != 0 {
                for id in 0..<max(0, min(4, q.readQueueNums)) {
                    queues.append(MessageQueue(topic: traceTopic, brokerName: q.brokerName, queueId: id))
                }
            }
        }
        guard !queues.isEmpty else {
            throw RocketMQError(.topicNotFound, "no route for the trace topic \(traceTopic)", isRetryable: true)
        }
        let start = nextQueue.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        for step in 0..<queues.count {
            let queue = queues[(start + step) % queues.count]
            if queue.brokerName != lastBroker || queues.allSatisfy({ $0.brokerName == lastBroker }) { return queue }
        }
        return queues[start % queues.count]
    }
}

/// swift-metrics instruments of a message trace dispatcher: records sent, dropped (buffer full) and failed (their
/// trace message could not be sent).
struct MessageTraceMetrics: Sendable {
    let sent: Counter
    let dropped: Counter
    let failed: Counter

    init(group: String, role: MessageTraceDispatcher.Role) {
        let dims = [("group", group), ("role", role == .produce ? "producer" : "consumer")]
        sent = Counter(label: "rocketmq.trace.records_sent", dimensions: dims)
        dropped = Counter(label: "rocketmq.trace.records_dropped", dimensions: dims)
        failed = Counter(label: "rocketmq.trace.records_failed", dimensions: dims)
    }
}
