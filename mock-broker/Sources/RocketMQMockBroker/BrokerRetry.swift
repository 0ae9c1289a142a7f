import NIOCore
import RocketMQWire

extension MockBroker {
    /// CONSUMER_SEND_MSG_BACK (36): a failed message goes to `%RETRY%group` after a delay, or to `%DLQ%group`.
    func sendBack(_ request: RemotingCommand) throws -> ProcessResult {
        let header = try ConsumerSendMsgBackRequestHeader(fields: request.extFields ?? ExtFields())
        let now = Self.nowMillis()
        let outcome = state.withLock { s -> Result<(MessageRecord, String, TimeAmount?), SendRejection> in
            guard let original = s.store?.record(atCommitLogOffset: header.offset) else {
                return .failure(.init(.systemError, "look message by offset failed, \(header.offset)"))
            }
            let maxTimes = header.maxReconsumeTimes ?? 16
            var record = original
            var properties = original.properties
            if properties[MessageProperty.retryTopic] == nil {
                properties[MessageProperty.retryTopic] = original.topic
            }
            if properties[MessageProperty.originMessageId] == nil {
                properties[MessageProperty.originMessageId] = header.originMsgId ?? original.offsetMessageID
            }
            properties[MessageProperty.waitStoreMessageOK] = "false"
            record.reconsumeTimes = original.reconsumeTimes + 1
            let toDLQ = original.reconsumeTimes >= maxTimes || header.delayLevel < 0
            let target: String
            var delay: TimeAmount?
            if toDLQ {
                target = TopicConfig.dlqPrefix + header.group
                ensureTopic(&s, name: target, queues: 1)
                record.queueId = 0
                properties[MessageProperty.delayTimeLevel] = nil
            } else {
                target = TopicConfig.retryPrefix + header.group
                ensureTopic(&s, name: target, queues: 1)
                record.queueId = 0
                let level = header.delayLevel == 0 ? 3 + original.reconsumeTimes : header.delayLevel
                let clamped = min(max(level, 1), Int32(MockBrokerConfiguration.delayLevels.count))
                properties[MessageProperty.delayTimeLevel] = String(clamped)
                delay = configuration.delay(level: clamped)
            }
            record.properties = properties
            record.bornTimestamp = original.bornTimestamp
            if let delay {
                // Park it like the real broker does (SCHEDULE_TOPIC_XXXX), then deliver after the delay.
                var parked = record
                parked.properties[MessageProperty.realTopic] = target
                parked.properties[MessageProperty.realQueueId] = "0"
                let level = Int32(parked.properties[MessageProperty.delayTimeLevel] ?? "") ?? 1
                ensureTopic(&s, name: Self.scheduleTopic, queues: Int32(MockBrokerConfiguration.delayLevels.count))
                parked.topic = Self.scheduleTopic
                parked.queueId = level - 1
                do { _ = try s.store?.append(&parked, storeTimestamp: now) } catch {
                    return .failure(.init(.systemError, "store failed: \(error)"))
                }
                return .success((parked, target, delay))
            }
            record.topic = target
            do { _ = try s.store?.append(&record, storeTimestamp: now) } catch {
                return .failure(.init(.systemError, "store failed: \(error)"))
            }
            return .success((record, target, nil))
        }
        switch outcome {
        case .failure(let r):
            return .respond(response(to: request, r.code, r.remark))
        case .success(let (record, target, delay)):
            if let delay {
                state.withLock { scheduleDelivery(&$0, of: record, to: target, after: delay) }
            } else {
                wakeHolds([QueueKey(topic: record.topic, queueId: record.queueId)])
            }
            return .respond(response(to: request, .success, fields: ExtFields()))
        }
    }
}
