import Logging
import NIOCore
import RocketMQRemoting
import RocketMQWire

extension PushConsumer {
    /// Pulls one owned queue with long polling until it is dropped, obeying flow control.
    func pullLoop(_ pq: ProcessQueue) async {
        let queue = pq.queue
        var suggestedBroker: Int64 = 0
        while !Task.isCancelled && !pq.isDropped {
            // Flow control (Java's thresholds): pause 50 ms while too much is cached.
            let (count, bytes, span, next, committable, locked) = pq.state.withLock {
                ($0.cachedCount, $0.cachedBytes, $0.span, $0.nextOffset, $0.committableOffset, $0.lockedUntil)
            }
            if count > configuration.pullThresholdForQueue || bytes > configuration.pullThresholdSizeForQueue
                || (!configuration.orderly && span > configuration.consumeConcurrentlyMaxSpan)
            {
                if await pause(.milliseconds(50)) { return }
                continue
            }
            if configuration.orderly && locked < ClientCore.nowMillis() {
                if await pause(.seconds(1)) { return }
                continue
            }
            guard let subscription = state.withLock({ $0.subscriptions[queue.topic] }) else {
                if await pause(.seconds(1)) { return }
                continue
            }
            guard let address = core.address(of: queue.brokerName, preferring: suggestedBroker) else {
                if await pause(configuration.pullRetryDelay) { return }
                continue
            }
            let clustering = configuration.messageModel == .clustering
            let commitOffset = clustering ? committable : 0
            let flags = PullSysFlag.build(commitOffset: clustering && commitOffset > 0, suspend: true, subscription: false, classFilter: false)
            let header = PullMessageRequestHeader(
                consumerGroup: group, topic: queue.topic, queueId: queue.queueId, queueOffset: next,
                maxMsgNums: configuration.pullBatchSize, sysFlag: flags.rawValue, commitOffset: commitOffset,
                suspendTimeoutMillis: Producer.millis(configuration.longPollingTimeout), subVersion: subscription.subVersion,
                expressionType: subscription.expressionType, maxMsgBytes: 256 * 1024, bname: queue.brokerName)
            let response: RemotingCommand
            do {
                response = try await core.invoke(
                    .request(.pullMessage, extFields: header.fields), address: address, timeout: configuration.pullTimeout)
            } catch {
                if pq.isDropped || Task.isCancelled { return }
                logger.debug("pull failed", metadata: ["queue": "\(queue)", "broker": "\(address)", "error": "\(error)"])
                if await pause(configuration.pullRetryDelay) { return }
                continue
            }
            if pq.isDropped { return }
            let responseHeader = try? PullMessageResponseHeader(fields: response.extFields ?? ExtFields())
            suggestedBroker = responseHeader?.suggestWhichBrokerId ?? 0
            let nextBegin = responseHeader?.nextBeginOffset ?? next
            switch response.responseCode {
            case .success:
                let records = MessageRecord.decodeAll(response.body ?? ByteBuffer())
                if let error = records.error {
                    logger.warning("undecodable record in pull body; keeping the decoded ones", metadata: ["queue": "\(queue)", "error": "\(error)"])
                }
                deliver(records.records, to: pq, subscription: subscription, nextBegin: nextBegin)
            case .pullNotFound, .pullRetryImmediately:
                pq.state.withLock { $0.nextOffset = nextBegin }
                // Nothing cached: the committable offset follows the pull position (Java's correctTagsOffset).
                let empty = pq.state.withLock { $0.cachedCount == 0 }
                if empty { offsets.update(queue, offset: nextBegin) }
            case .pullOffsetMoved:
                logger.warning("pull offset moved", metadata: ["queue": "\(queue)", "from": "\(next)", "to": "\(nextBegin)"])
                pq.state.withLock { $0.nextOffset = nextBegin }
                offsets.update(queue, offset: nextBegin, increaseOnly: false)
                await offsets.persist([queue])
            case .flowControl:
                if await pause(.milliseconds(20)) { return }
            case .subscriptionNotExist, .subscriptionNotLatest:
                // The broker lost (or has an older) registration: heartbeat it, then pull again.
                await core.heartbeat(address: address)
                if await pause(.milliseconds(200)) { return }
            default:
                logger.debug("pull refused", metadata: ["queue": "\(queue)", "code": "\(response.responseCode)", "remark": "\(response.remark ?? "")"])
                if await pause(configuration.pullRetryDelay) { return }
            }
        }
    }

    /// Sleeps; true when the loop should end (cancelled).
    private func pause(_ duration: Duration) async -> Bool {
        do {
            try await Task.sleep(for: duration)
            return false
        } catch {
            return true
        }
    }

    /// Decodes, filters and hands pulled records on.
    private func deliver(_ records: [MessageRecord], to pq: ProcessQueue, subscription: SubscriptionData, nextBegin: Int64) {
        let queue = pq.queue
        let messages = ReceivedMessage.fromPull(records, queue: queue, subscription: subscription, logger: logger)
        let cached = messages.map { (offset: $0.queueOffset, bytes: $0.body.readableBytes) }
        let empty = pq.state.withLock { s -> Bool in
            s.add(offsets: cached, nextOffset: nextBegin)
            return s.cachedCount == 0
        }
        if messages.isEmpty {
            if empty { offsets.update(queue, offset: nextBegin) }
            return
        }
        metrics.received.increment(by: messages.count)
        dispatch(messages, from: pq)
    }
}

extension ReceivedMessage {
    /// Pulled records as messages: filtered by tag string (brokers filter by hash, which can collide) and
    /// decompressed; a record that cannot be decompressed is logged and skipped, never handed on.
    static func fromPull(
        _ records: [MessageRecord], queue: MessageQueue, subscription: SubscriptionData, logger: Logger
    ) -> [ReceivedMessage] {
        // Tag subscriptions are re-checked by tag string (brokers filter by hash, which can collide); SQL92 is the
        // broker's alone.
        let tags = subscription.subString == "*" || subscription.expressionType != ExpressionType.tag
            ? nil : Set(subscription.tagsSet)
        var messages: [ReceivedMessage] = []
        messages.reserveCapacity(records.count)
        // The records of one pull share their store host and mostly their born hosts: each text is made once.
        var hostTexts: [(host: MessageHost, text: String)] = []
        func text(of host: MessageHost) -> String {
            if let known = hostTexts.first(where: { $0.host == host }) { return known.text }
            let text = host.description
            if hostTexts.count < 8 { hostTexts.append((host, text)) }
            return text
        }
        for var record in records {
            if let tags, !tags.contains(record.properties[MessageProperty.tags] ?? "") { continue }
            let body: ByteBuffer
            do { body = try record.decompressedBody() } catch {
                // Never hand compressed or corrupt bytes to the user: log it and skip the message.
                logger.error("cannot decompress message; skipping it", metadata: ["queue": "\(queue)", "offset": "\(record.queueOffset)", "error": "\(error)"])
                continue
            }
            // (Only when present: removing copies the record's property list.)
            if record.properties[MessageProperty.minOffset] != nil { record.properties[MessageProperty.minOffset] = nil }
            messages.append(ReceivedMessage(
                record: record, queue: queue, body: body, bornHost: text(of: record.bornHost),
                storeHost: text(of: record.storeHost)))
        }
        return messages
    }
}
