import RocketMQWire

// What the traced clients record, and when: Java 5.3.3's SendMessageTraceHookImpl, EndTransactionTraceHookImpl and
// ConsumeMessageTraceHookImpl, as functions the send, transaction and dispatch paths call only when tracing is on.

/// What a `Pub` record needs to know of a message, captured when its send is prepared (only when tracing).
struct PublishTraceInfo: Sendable {
    /// The topic without namespace.
    var topic: String
    var tags: String?
    /// The `KEYS` property (space-separated).
    var keys: String?
    /// The body's length as sent (compressed when it was).
    var bodyLength: Int
    var messageType: MessageTraceMessageType

    /// Java's `SendMessageContext.msgType`: a half message when `TRAN_MSG=true`, delayed when it has a delay
    /// level; else normal (also for ordered sends, as Java). A timed message (`deliverAtMillis`) counts as delayed.
    static func messageType(of message: Message, transactional: Bool) -> MessageTraceMessageType {
        if message.delayLevel != nil || message.deliverAtMillis != nil { return .delay }
        return transactional ? .transactionHalf : .normal
    }
}

/// The `SubBefore` records of one handler call, kept for its `SubAfter` records.
struct ConsumeTraceContext: Sendable {
    var records: [MessageTraceRecord]
    /// Wall-clock time of the `SubBefore` records (ms).
    var timestamp: Int64
}

/// The region a trace record names when the broker gives none (Java's `MixAll.DEFAULT_TRACE_REGION_ID`).
let defaultTraceRegion = "DefaultRegion"

/// How long a handler may run before its outcome counts as a timeout (Java's `consumeTimeout`, 15 minutes).
let consumeTraceTimeoutMillis: Int64 = 15 * 60 * 1000

extension MessageTraceDispatcher {
    /// `Pub` records of a send the broker answered (Java's `sendMessageAfter`): one per message (a batch writes one per
    /// message of the batch, each with its own id, so each is found by its id). `attemptMillis` is how long the
    /// answered attempt took; `storeHost` the broker address it went to.
    func recordPublish(
        _ infos: [PublishTraceInfo], result: SendResult, traceSwitch: String?, storeHost: String, attemptMillis: Int64
    ) {
        // The broker turned tracing off (`TRACE_ON=false` in its answer): skip, as Java.
        guard traceSwitch != "false", !dropIfFull(infos.count) else { return }
        let now = ClientCore.nowMillis()
        func record(_ info: PublishTraceInfo, id: String, offsetID: String) -> MessageTraceRecord {
            var r = MessageTraceRecord(type: .pub, timestamp: now - attemptMillis)
            r.regionID = result.regionID.isEmpty ? defaultTraceRegion : result.regionID
            r.groupName = group
            r.topic = info.topic
            r.messageID = id
            r.offsetMessageID = offsetID
            r.tags = info.tags
            r.keys = info.keys
            r.storeHost = storeHost
            r.bodyLength = Int32(clamping: info.bodyLength)
            r.costTime = Int32(clamping: attemptMillis)
            r.messageType = info.messageType
            r.success = result.status == .ok
            return r
        }
        if infos.count == 1, let info = infos.first {
            offer(record(info, id: result.messageID, offsetID: result.offsetMessageID))
            return
        }
        // A batch: the result's ids are comma-joined, in the batch's order.
        let ids = result.messageID.split(separator: ",").map(String.init)
        let offsetIDs = result.offsetMessageID.split(separator: ",").map(String.init)
        offer(infos.enumerated().map { i, info in
            record(info, id: i < ids.count ? ids[i] : "", offsetID: i < offsetIDs.count ? offsetIDs[i] : "")
        })
    }

    /// An `EndTransaction` record (Java's `EndTransactionTraceHookImpl`), written as END_TRANSACTION is sent.
    func recordEndTransaction(
        topic: String, tags: String?, keys: String?, messageID: String, transactionID: String?,
        resolution: TransactionResolution, fromCheck: Bool, storeHost: String, region: String?
    ) {
        guard traces(topic: topic) else { return }
        var r = MessageTraceRecord(type: .endTransaction, timestamp: ClientCore.nowMillis())
        r.regionID = region.flatMap { $0.isEmpty ? nil : $0 } ?? defaultTraceRegion
        r.groupName = group
        r.topic = topic
        r.messageID = messageID
        r.tags = tags
        r.keys = keys
        r.storeHost = storeHost
        r.messageType = .transactionCommit
        r.transactionID = transactionID
        r.transactionState = resolution
        r.fromTransactionCheck = fromCheck
        offer(r)
    }

    /// `SubBefore` records for the messages a handler is about to get (Java's `consumeMessageBefore`): one per
    /// message whose `TRACE_ON` is not `false`, sharing a fresh request id. Nil when none is traced.
    func consumeBefore(_ messages: [ReceivedMessage], unwrap: (String) -> String) -> ConsumeTraceContext? {
        let requestID = makeRequestID()
        let now = ClientCore.nowMillis()
        var records: [MessageTraceRecord] = []
        records.reserveCapacity(messages.count)
        for m in messages {
            let topic = unwrap(m.topic)
            guard m.properties[MessageProperty.traceSwitch] != "false", traces(topic: topic) else { continue }
            var r = MessageTraceRecord(type: .subBefore, timestamp: now)
            // Java leaves a message without MSG_REGION untraced; the default region keeps its trace.
            r.regionID = m.properties[MessageProperty.messageRegion].flatMap { $0.isEmpty ? nil : $0 } ?? defaultTraceRegion
            r.groupName = group
            r.requestID = requestID
            r.topic = topic
            r.messageID = m.messageID
            r.tags = m.tags
            r.keys = m.properties[MessageProperty.keys]
            r.storeHost = m.storeHost
            r.bodyLength = Int32(clamping: m.body.readableBytes)
            r.retryTimes = m.reconsumeTimes
            records.append(r)
        }
        guard !records.isEmpty else { return nil }
        offer(records)
        return ConsumeTraceContext(records: records, timestamp: now)
    }

    /// `SubAfter` records once the handler ended (Java's `consumeMessageAfter`): the same messages and request id,
    /// the handler's time divided by the batch's size, success, and the outcome as Java's `ConsumeReturnType` ordinal.
    func consumeAfter(_ context: ConsumeTraceContext, batchSize: Int, result: ConsumeResult, threw: Bool) {
        let now = ClientCore.nowMillis()
        let elapsed = now - context.timestamp
        let outcome: MessageTraceConsumeOutcome =
            threw ? .exception
            : elapsed >= consumeTraceTimeoutMillis ? .timeout
            : result == .success ? .success : .failed
        let cost = Int32(clamping: elapsed / Int64(max(batchSize, 1)))
        var records = context.records
        for i in records.indices {
            records[i].type = .subAfter
            records[i].timestamp = now
            records[i].costTime = cost
            records[i].success = !threw && result == .success
            records[i].contextCode = outcome.rawValue
        }
        offer(records)
    }
}

extension PushConsumer {
    /// Runs `handler` on `messages` in its tracing span, between `SubBefore` and `SubAfter` trace records when
    /// message trace is on (with it off, exactly ``MessagingTracing/process(_:group:tracer:_:)``). A thrown error
    /// answers `.retryLater`.
    func consume(
        _ messages: [ReceivedMessage], _ handler: ([ReceivedMessage]) async throws -> ConsumeResult
    ) async -> ConsumeResult {
        guard let messageTrace else {
            return await MessagingTracing.process(messages, group: configuration.group, tracer: core.tracer, handler)
        }
        let context = messageTrace.consumeBefore(messages, unwrap: core.configuration.unwrap)
        var threw = false
        let result = await MessagingTracing.process(messages, group: configuration.group, tracer: core.tracer) { batch in
            do { return try await handler(batch) } catch {
                threw = true
                throw error
            }
        }
        if let context { messageTrace.consumeAfter(context, batchSize: messages.count, result: result, threw: threw) }
        return result
    }
}
