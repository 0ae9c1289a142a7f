import Foundation
import NIOCore
import RocketMQWire

extension MockBroker {
    /// What storing one message produced.
    struct Stored {
        var record: MessageRecord
        var offsetMessageID: String
    }

    static let scheduleTopic = TopicConfig.scheduleTopic
    static let timerTopic = "rmq_sys_wheel_timer"

    /// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320).
    func processSend(_ request: RemotingCommand, from connection: MockConnection) throws -> ProcessResult {
        let fields = request.extFields ?? ExtFields()
        let header = request.requestCode == .sendMessage
            ? try SendMessageRequestHeader(fields: fields) : try SendMessageRequestHeader(v2Fields: fields)
        let body = request.body ?? ByteBuffer()
        guard body.readableBytes <= configuration.maxMessageSize else {
            return .respond(response(to: request, .messageIllegal, "the message body size over max value, MAX: \(configuration.maxMessageSize)"))
        }
        if let properties = header.properties, properties.utf8.count > Int(Int16.max) {
            return .respond(response(to: request, .messageIllegal, "the message properties are longer than 32767 bytes"))
        }
        let isBatch = request.requestCode == .sendBatchMessage || header.batch == true
        guard !TopicConfig.notAllowedSendTopics.contains(header.topic) else {
            return .respond(response(to: request, .noPermission, "Sending message to topic[\(header.topic)] is forbidden."))
        }
        let bornHost = connection.remoteHost ?? MessageHost(ip: [127, 0, 0, 1], port: 0)
        let storeHost = self.storeHost
        let now = Self.nowMillis()

        var wake: [QueueKey] = []
        let result: Result<RemotingCommand, SendRejection> = state.withLock { s in
            guard s.running, s.store != nil else { return .failure(.init(.serviceNotAvailable, "broker is stopping")) }
            // Topic: existing, auto-created through TBW102, or a retry topic created on demand.
            var topicName = header.topic
            var topic: TopicConfig
            switch resolveTopic(&s, name: topicName, defaultTopic: header.defaultTopic, queueNums: header.defaultTopicQueueNums) {
            case .success(let t): topic = t
            case .failure(let rejection): return .failure(rejection)
            }
            guard topic.perm.contains(.write) else {
                return .failure(.init(.noPermission, "the topic[\(topicName)] sending message is forbidden"))
            }
            var queueId = header.queueId
            if queueId < 0 { queueId = Int32.random(in: 0..<max(1, topic.writeQueueNums)) }
            guard queueId < max(topic.writeQueueNums, topic.readQueueNums) else {
                return .failure(.init(.systemError, "queueId[\(queueId)] is illegal, topic:[\(topicName)] topicConfig.writeQueueNums:[\(topic.writeQueueNums)]"))
            }
            var sysFlag = header.sysFlag
            var properties = MessageProperties(parsing: header.properties ?? "")
            var reconsumeTimes = header.reconsumeTimes ?? 0
            // A retry topic past its limit goes to the group's dead-letter queue.
            if topicName.hasPrefix(TopicConfig.retryPrefix) {
                let maxTimes = header.maxReconsumeTimes ?? 16
                if reconsumeTimes > maxTimes {
                    let group = String(topicName.dropFirst(TopicConfig.retryPrefix.count))
                    topicName = TopicConfig.dlqPrefix + group
                    topic = ensureTopic(&s, name: topicName, queues: 1)
                    queueId = 0
                }
            }
            _ = topic
            properties[MessageProperty.cluster] = configuration.clusterName
            if properties[MessageProperty.uniqueKey] == nil {
                properties[MessageProperty.uniqueKey] = s.uniqueIDs(storeHost: storeHost).next(nowMillis: now)
            }

            if isBatch {
                // Java's store refuses a batch of prepared (or committed/rolled back) messages.
                guard sysFlag & MessageSysFlag.transactionMask == MessageSysFlag.transactionNotType else {
                    return .failure(.init(.messageIllegal, "the message is illegal, maybe msg body or properties length not matched. msg body length limit \(configuration.maxMessageSize)B, msg properties length limit 32KB."))
                }
                let entries: [BatchEntry]
                do { entries = try MessageBatch.decode(body) } catch {
                    return .failure(.init(.messageIllegal, "bad batch body: \(error)"))
                }
                guard !entries.isEmpty else { return .failure(.init(.messageIllegal, "empty batch")) }
                var ids: [String] = []
                var firstOffset: Int64 = -1
                for entry in entries {
                    var props = entry.properties
                    for (k, v) in properties where props[k] == nil { props[k] = v }
                    var record = makeRecord(
                        topic: topicName, queueId: queueId, flag: entry.flag, sysFlag: sysFlag, body: entry.body,
                        properties: props, bornTimestamp: header.bornTimestamp, bornHost: bornHost, storeHost: storeHost,
                        reconsumeTimes: reconsumeTimes)
                    do {
                        _ = try s.store?.append(&record, storeTimestamp: now)
                    } catch {
                        return .failure(.init(.systemError, "store failed: \(error)"))
                    }
                    if firstOffset < 0 { firstOffset = record.queueOffset }
                    ids.append(record.offsetMessageID)
                }
                if s.anyHolds { wake.append(QueueKey(topic: topicName, queueId: queueId)) }
                return .success(sendResponse(
                    to: request, msgId: HexIDText(ids.joined(separator: ",")), queueId: queueId, queueOffset: firstOffset,
                    transactionId: properties[MessageProperty.uniqueKey].map(HexIDText.init)))
            }

            // Delayed (level or timer) and transactional messages are parked first.
            var realTopic: String?
            var deliverAfter: TimeAmount?
            let delayLevel = Int32(properties[MessageProperty.delayTimeLevel] ?? "") ?? 0
            // Java takes the half path on the TRAN_MSG property (not on sysFlag), except for the retry of a delayed
            // message by clients before 4.6.1.
            let isHalf = properties[MessageProperty.transactionPrepared]?.lowercased() == "true"
                && !(reconsumeTimes > 0 && delayLevel > 0)
            // The response names the queue the producer asked for; the half itself waits in the half queue 0.
            let requestedQueueId = queueId
            if isHalf {
                if let uniqueKey = properties[MessageProperty.uniqueKey], !uniqueKey.isEmpty {
                    properties[MessageProperty.transactionId] = uniqueKey
                }
                properties[MessageProperty.realTopic] = topicName
                properties[MessageProperty.realQueueId] = String(queueId)
                properties[MessageProperty.delayTimeLevel] = nil
                sysFlag &= ~MessageSysFlag.transactionMask
                _ = ensureTopic(&s, name: TopicConfig.halfTopic, queues: 1)
                topicName = TopicConfig.halfTopic
                queueId = 0
            } else if delayLevel > 0 {
                properties[MessageProperty.realTopic] = topicName
                properties[MessageProperty.realQueueId] = String(queueId)
                realTopic = topicName
                deliverAfter = configuration.delay(level: delayLevel)
                let level = min(delayLevel, Int32(MockBrokerConfiguration.delayLevels.count))
                _ = ensureTopic(&s, name: Self.scheduleTopic, queues: Int32(MockBrokerConfiguration.delayLevels.count))
                topicName = Self.scheduleTopic
                queueId = level - 1
            } else if let deliverAt = timerDeliverTime(properties, now: now) {
                guard deliverAt - now <= 3 * 24 * 3600 * 1000 else {
                    return .failure(.init(.messageIllegal, "timer message delay exceeds 3 days"))
                }
                if deliverAt > now {
                    properties[MessageProperty.realTopic] = topicName
                    properties[MessageProperty.realQueueId] = String(queueId)
                    realTopic = topicName
                    deliverAfter = .milliseconds(deliverAt - now)
                    _ = ensureTopic(&s, name: Self.timerTopic, queues: 1)
                    topicName = Self.timerTopic
                    queueId = 0
                }
            }
            var record = makeRecord(
                topic: topicName, queueId: queueId, flag: header.flag, sysFlag: sysFlag, body: body,
                properties: properties, bornTimestamp: header.bornTimestamp, bornHost: bornHost, storeHost: storeHost,
                reconsumeTimes: reconsumeTimes)
            reconsumeTimes = 0
            do {
                _ = try s.store?.append(&record, storeTimestamp: now)
            } catch {
                return .failure(.init(.systemError, "store failed: \(error)"))
            }
            if isHalf {
                s.transactions.halfStored(record)
            } else if let realTopic, let deliverAfter {
                scheduleDelivery(&s, of: record, to: realTopic, after: deliverAfter)
            } else {
                if s.anyHolds { wake.append(QueueKey(topic: topicName, queueId: queueId)) }
            }
            return .success(sendResponse(
                to: request, msgId: record.offsetMessageIDText, queueId: isHalf ? requestedQueueId : queueId,
                queueOffset: record.queueOffset, transactionId: properties[MessageProperty.uniqueKey].map(HexIDText.init)))
        }
        wakeHolds(wake)
        switch result {
        case .success(let r): return .respond(r)
        case .failure(let rejection): return .respond(response(to: request, rejection.code, rejection.remark))
        }
    }

    struct SendRejection: Error {
        var code: ResponseCode
        var remark: String
        init(_ code: ResponseCode, _ remark: String) {
            self.code = code
            self.remark = remark
        }
    }

    func sendResponse(
        to request: RemotingCommand, msgId: HexIDText, queueId: Int32, queueOffset: Int64, transactionId: HexIDText?
    ) -> RemotingCommand {
        let header = SendMessageResponseHeader(msgID: msgId, queueId: queueId, queueOffset: queueOffset, transactionID: transactionId)
        return response(to: request, .success, fields: header.brokerResponseFields(region: "DefaultRegion", traceOn: true))
    }

    /// The absolute delivery time of a 5.x timer message, if it is one.
    func timerDeliverTime(_ properties: MessageProperties, now: Int64) -> Int64? {
        if let at = properties[MessageProperty.timerDeliverMilliseconds].flatMap({ Int64($0) }) { return at }
        if let sec = properties[MessageProperty.timerDelaySeconds].flatMap({ Int64($0) }) { return now + sec * 1000 }
        if let ms = properties[MessageProperty.timerDelayMilliseconds].flatMap({ Int64($0) }) { return now + ms }
        return nil
    }

    func makeRecord(
        topic: String, queueId: Int32, flag: Int32, sysFlag: Int32, body: ByteBuffer, properties: MessageProperties,
        bornTimestamp: Int64, bornHost: MessageHost, storeHost: MessageHost, reconsumeTimes: Int32
    ) -> MessageRecord {
        var properties = properties
        properties[MessageProperty.messageRegion] = properties[MessageProperty.messageRegion] ?? "DefaultRegion"
        properties[MessageProperty.traceSwitch] = properties[MessageProperty.traceSwitch] ?? "true"
        return MessageRecord(
            topic: topic, body: body, properties: properties, queueId: queueId, flag: flag, sysFlag: sysFlag,
            bornTimestamp: bornTimestamp, bornHost: bornHost, storeHost: storeHost, reconsumeTimes: reconsumeTimes)
    }

    /// An existing topic, or one created for this send (auto-create through TBW102, or a retry topic).
    func resolveTopic(_ s: inout State, name: String, defaultTopic: String?, queueNums: Int32?) -> Result<TopicConfig, SendRejection> {
        if let t = s.topics[name] { return .success(t) }
        if name.hasPrefix(TopicConfig.retryPrefix) || name.hasPrefix(TopicConfig.dlqPrefix) {
            return .success(ensureTopic(&s, name: name, queues: 1))
        }
        if configuration.autoCreateTopics, let key = defaultTopic, let template = s.topics[key],
            template.perm.contains(.inherit)
        {
            let queues = min(queueNums ?? configuration.defaultQueueNums, template.writeQueueNums)
            return .success(ensureTopic(&s, name: name, queues: max(1, queues)))
        }
        return .failure(.init(.topicNotExist, "topic[\(name)] not exist, apply first please!"))
    }

    /// Creates `name` with `queues` queues if it does not exist; routes and the topic file follow.
    @discardableResult
    func ensureTopic(_ s: inout State, name: String, queues: Int32) -> TopicConfig {
        if let t = s.topics[name] { return t }
        let t = TopicConfig(name: name, queues: queues)
        s.topics[name] = t
        let snapshot = s.topics
        eventLoop.execute { [self] in
            persistTopics(snapshot)
            directory.routesChanged()
        }
        return t
    }

    /// Delivers a parked (delayed, retried or timer) message to `realTopic` after `delay`. The parked copy stays in the
    /// store, as in Java, so a restart can deliver what a stopped broker still owed (``rescheduleParked()``); a message
    /// whose copy was already delivered is never delivered twice. Called with the state locked; the delivery is
    /// cancelled if the broker stops first.
    func scheduleDelivery(_ s: inout State, of parked: MessageRecord, to realTopic: String, after delay: TimeAmount) {
        guard s.running else { return }  // stopped: the next start reschedules it from the store
        let parkedKey = Self.parkedKey(parked)
        let id = s.nextDeliveryID
        s.nextDeliveryID += 1
        s.pendingDeliveries[id] = eventLoop.scheduleTask(in: delay) { [self] in
            let key = state.withLock { s -> QueueKey? in
                guard s.pendingDeliveries.removeValue(forKey: id) != nil, s.running else { return nil }
                if let parkedKey, s.deliveredParked.contains(parkedKey) { return nil }
                let queueId = Int32(parked.properties[MessageProperty.realQueueId] ?? "") ?? 0
                let topic = ensureTopic(&s, name: realTopic, queues: max(queueId + 1, 1))
                var record = parked
                record.topic = realTopic
                record.queueId = min(queueId, max(0, topic.writeQueueNums - 1))
                do { _ = try s.store?.append(&record, storeTimestamp: Self.nowMillis()) } catch {
                    logger.error("delayed delivery failed", metadata: ["error": "\(error)"])
                    return nil
                }
                if let parkedKey { s.deliveredParked.insert(parkedKey) }
                return QueueKey(topic: record.topic, queueId: record.queueId)
            }
            if let key { wakeHolds([key]) }
        }
    }

    /// What identifies a parked message and its delivered copy: its message id, retry count and target topic.
    struct ParkedKey: Hashable, Sendable {
        var uniqueKey: String
        var reconsumeTimes: Int32
        var realTopic: String
    }

    static func parkedKey(_ record: MessageRecord) -> ParkedKey? {
        guard let topic = record.properties[MessageProperty.realTopic],
            let id = record.properties[MessageProperty.uniqueKey]
        else { return nil }
        return ParkedKey(uniqueKey: id, reconsumeTimes: record.reconsumeTimes, realTopic: topic)
    }

    /// At start: schedules every parked message of the store whose delivered copy is not in it yet, at its original
    /// due time (at once when that has passed), so delayed and timer messages survive a restart (with `--data-dir`, a
    /// crash too) like Java's `ScheduleMessageService` offsets make them. Owed messages are delivered in due-time order
    /// (store order for equal due times), whichever parking queue (delay level, timer) holds them.
    func rescheduleParked() {
        let count = state.withLock { s -> Int in
            guard s.running, let store = s.store else { return 0 }
            var parked: [(record: MessageRecord, key: ParkedKey, due: Int64)] = []
            for (queue, entries) in store.queues where queue.topic == Self.scheduleTopic || queue.topic == Self.timerTopic {
                for entry in entries {
                    var bytes = entry.record
                    guard let record = try? MessageRecord.decode(from: &bytes), let key = Self.parkedKey(record) else { continue }
                    let due = queue.topic == Self.timerTopic
                        ? timerDeliverTime(record.properties, now: entry.storeTimestamp) ?? entry.storeTimestamp
                        : entry.storeTimestamp + configuration.delay(level: queue.queueId + 1).nanoseconds / 1_000_000
                    parked.append((record, key, due))
                }
            }
            guard !parked.isEmpty else { return 0 }
            // The delivered copies: messages outside the parking topics that carry REAL_TOPIC.
            for (queue, entries) in store.queues
            where queue.topic != Self.scheduleTopic && queue.topic != Self.timerTopic && queue.topic != TopicConfig.halfTopic {
                for entry in entries where Self.hasRealTopic(entry.record) {
                    var bytes = entry.record
                    if let record = try? MessageRecord.decode(from: &bytes), let key = Self.parkedKey(record) {
                        s.deliveredParked.insert(key)
                    }
                }
            }
            // Sorted: the store's queues are a dictionary, so without it two overdue messages would be delivered in
            // an order that changes from run to run.
            let owed = parked.filter { !s.deliveredParked.contains($0.key) }
                .sorted { ($0.due, $0.record.commitLogOffset) < ($1.due, $1.record.commitLogOffset) }
            let now = Self.nowMillis()
            for item in owed {
                scheduleDelivery(&s, of: item.record, to: item.key.realTopic, after: .milliseconds(max(0, item.due - now)))
            }
            return owed.count
        }
        if count > 0 { logger.info("delayed messages rescheduled after start", metadata: ["count": "\(count)"]) }
    }

    /// Whether a stored record's properties name a REAL_TOPIC (read from the bytes, without decoding the record).
    private static func hasRealTopic(_ record: ByteBuffer) -> Bool {
        guard let range = try? MessageRecord.propertiesRange(ofEncoded: record) else { return false }
        let base = record.readerIndex
        return record.withUnsafeReadableBytes { raw in
            let properties = UnsafeRawBufferPointer(rebasing: raw[(range.lowerBound - base)..<(range.upperBound - base)])
            return MessageProperties.value(forKey: MessageProperty.realTopic, inUTF8: properties) != nil
        }
    }
}

extension MockBroker.State {
    /// The broker's UNIQ_KEY generator (for messages that arrive without one).
    mutating func uniqueIDs(storeHost: MessageHost) -> UniqueIDGenerator {
        if let g = uniqueIDGenerator { return g }
        let g = UniqueIDGenerator(ip: storeHost.ip, pid: Int32(getpid()), seed: Int32.random(in: Int32.min...Int32.max))
        uniqueIDGenerator = g
        return g
    }
}
