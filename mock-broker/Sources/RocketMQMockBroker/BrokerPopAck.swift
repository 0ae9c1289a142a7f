import Foundation
import NIOCore
import RocketMQWire

// What comes back from POP: acks (single, batch, ordered), invisible-time changes, and the revive scan that hands
// out again what was not acknowledged in time (Java's AckMessageProcessor, ChangeInvisibleTimeProcessor and
// PopReviveService).

extension MockBroker {
    func processAck(_ request: RemotingCommand) throws -> ProcessResult {
        if request.requestCode == .batchAckMessage { return processBatchAck(request) }
        let header = try AckMessageRequestHeader(fields: request.extFields ?? ExtFields())
        let (result, wake) = state.withLock { s -> (ProcessResult, [QueueKey]) in
            guard s.running, let store = s.store else {
                return (.respond(response(to: request, .serviceNotAvailable, "broker is stopping")), [])
            }
            if let rejection = checkAckTarget(s, store: store, header: header, inclusiveMax: true) {
                return (.respond(response(to: request, rejection.code, rejection.remark)), [])
            }
            let receipt: PopReceipt
            do { receipt = try PopReceipt(parsing: header.extraInfo) } catch {
                return (.respond(response(to: request, .systemError, "extraInfo is illegal: \(error)")), [])
            }
            var wake: [QueueKey] = []
            if receipt.isOrdered {
                wake = ackOrderly(&s, group: header.consumerGroup, topic: header.topic, queueId: header.queueId, offset: header.offset, popTime: receipt.popTime)
            } else {
                s.pop.ack(
                    group: header.consumerGroup, topic: header.topic, queueId: header.queueId,
                    startOffset: receipt.ckQueueOffset, popTime: receipt.popTime, offset: header.offset)
            }
            return (.respond(response(to: request, .success, fields: ExtFields())), wake)
        }
        if !wake.isEmpty { eventLoop.execute { self.wakeHolds(wake) } }
        return result
    }

    /// Java's checks of ACK (offset in [min, max]) and CHANGE_MESSAGE_INVISIBLETIME (offset in [min, max)).
    private func checkAckTarget(_ s: State, store: MessageStore, header: AckMessageRequestHeader, inclusiveMax: Bool) -> PopRejection? {
        guard let topic = s.topics[header.topic] else {
            return PopRejection(code: .topicNotExist, remark: "topic[\(header.topic)] not exist, apply first please!")
        }
        guard header.queueId >= 0, header.queueId < topic.readQueueNums else {
            return PopRejection(
                code: .messageIllegal,
                remark: "queueId[\(header.queueId)] is illegal, topic:[\(header.topic)] topicConfig.readQueueNums:[\(topic.readQueueNums)] consumer:[]")
        }
        let key = QueueKey(topic: header.topic, queueId: header.queueId)
        let minOffset = store.minOffset(key)
        let maxOffset = store.maxOffset(key)
        let tooBig = inclusiveMax ? header.offset > maxOffset : header.offset >= maxOffset
        if header.offset < minOffset || tooBig {
            return PopRejection(
                code: .noMessage,
                remark: inclusiveMax ? "offset is illegal, key:\(header.topic)@\(header.queueId), commit:\(header.offset), store:\(minOffset)~\(maxOffset)" : nil)
        }
        return nil
    }

    /// Java's `ackOrderly`: marks the offset, commits the first unacknowledged one; an ack below the committed offset
    /// or of another pop is a silent success. Returns the queue to wake when it is no longer blocked.
    private func ackOrderly(_ s: inout State, group: String, topic: String, queueId: Int32, offset: Int64, popTime: Int64) -> [QueueKey] {
        let key = PopState.orderKey(group: group, topic: topic, queueId: queueId)
        guard var info = s.pop.orders[key], info.popTime == popTime, info.offsets.contains(offset) else { return [] }
        let tableKey = offsetKey(group: group, topic: topic)
        if let committed = s.offsets[tableKey]?[queueId], offset < committed { return [] }
        info.acked.insert(offset)
        let next = info.offsets.first { !info.acked.contains($0) } ?? ((info.offsets.last ?? offset) + 1)
        s.offsets[tableKey, default: [:]][queueId] = next
        s.offsetsDirty = true
        if info.acked.count == info.offsets.count {
            s.pop.orders[key] = nil
            return [QueueKey(topic: topic, queueId: queueId)]
        }
        s.pop.orders[key] = info
        return []
    }

    private func processBatchAck(_ request: RemotingCommand) -> ProcessResult {
        guard let body = request.body, body.readableBytes > 0 else {
            return .respond(response(to: request, .noMessage, "body is empty"))
        }
        let parsed: BatchAckMessageRequestBody
        do { parsed = try BatchAckMessageRequestBody(buffer: body) } catch {
            return .respond(response(to: request, .systemError, "batch ack body is illegal: \(error)"))
        }
        guard !parsed.acks.isEmpty else { return .respond(response(to: request, .noMessage, "acks are empty")) }
        let wake = state.withLock { s -> [QueueKey] in
            guard s.running, let store = s.store else { return [] }
            var wake: [QueueKey] = []
            for ack in parsed.acks {
                let topic = ack.retryFlag.realTopic(ack.topic, group: ack.consumerGroup)
                let key = QueueKey(topic: topic, queueId: ack.queueId)
                for offset in ack.offsets where offset >= store.minOffset(key) && offset <= store.maxOffset(key) {
                    if ack.reviveQueueId == PopReceipt.orderReviveQueueId {
                        wake += ackOrderly(&s, group: ack.consumerGroup, topic: topic, queueId: ack.queueId, offset: offset, popTime: ack.popTime)
                    } else {
                        s.pop.ack(
                            group: ack.consumerGroup, topic: topic, queueId: ack.queueId, startOffset: ack.startOffset,
                            popTime: ack.popTime, offset: offset)
                    }
                }
            }
            return wake
        }
        if !wake.isEmpty { eventLoop.execute { self.wakeHolds(wake) } }
        return .respond(response(to: request, .success, fields: ExtFields()))
    }

    // MARK: CHANGE_MESSAGE_INVISIBLETIME

    func processChangeInvisibleTime(_ request: RemotingCommand) throws -> ProcessResult {
        let header = try AckMessageRequestHeader(fields: request.extFields ?? ExtFields())
        guard let invisibleTime = header.invisibleTime else {
            throw WireError(.invalidHeaderField, "the custom field <invisibleTime> is null")
        }
        let now = Self.nowMillis()
        return state.withLock { s -> ProcessResult in
            guard s.running, let store = s.store else {
                return .respond(response(to: request, .serviceNotAvailable, "broker is stopping"))
            }
            if let rejection = checkAckTarget(s, store: store, header: header, inclusiveMax: false) {
                return .respond(response(to: request, rejection.code, rejection.remark))
            }
            let receipt: PopReceipt
            do { receipt = try PopReceipt(parsing: header.extraInfo) } catch {
                return .respond(response(to: request, .systemError, "extraInfo is illegal: \(error)"))
            }
            if receipt.isOrdered {
                let key = PopState.orderKey(group: header.consumerGroup, topic: header.topic, queueId: header.queueId)
                if let committed = s.offsets[offsetKey(group: header.consumerGroup, topic: header.topic)]?[header.queueId],
                    header.offset < committed
                {
                    return .respond(response(to: request, .success, fields: ExtFields()))
                }
                if var info = s.pop.orders[key], info.popTime == receipt.popTime {
                    info.nextVisible[header.offset] = now &+ invisibleTime
                    s.pop.orders[key] = info
                }
                let answer = ChangeInvisibleTimeResponseHeader(
                    popTime: receipt.popTime, invisibleTime: now &+ invisibleTime &- receipt.popTime, reviveQid: receipt.reviveQueueId)
                return .respond(response(to: request, .success, fields: answer.fields))
            }
            // A new checkpoint for this one offset and the original acknowledged (Java writes the new one first; here
            // both happen at once). The new pop time is later than the old one even within the same millisecond, so
            // the new receipt never reads like the old one (Java's would, and an ack of either would then hit both).
            let popTime = max(now, receipt.popTime &+ 1)
            s.pop.ack(
                group: header.consumerGroup, topic: header.topic, queueId: header.queueId,
                startOffset: receipt.ckQueueOffset, popTime: receipt.popTime, offset: header.offset)
            s.pop.add(PopCheckpoint(
                group: header.consumerGroup, topic: header.topic, queueId: header.queueId, startOffset: header.offset,
                popTime: popTime, invisibleTime: invisibleTime, reviveQid: receipt.reviveQueueId, pending: [header.offset]))
            let answer = ChangeInvisibleTimeResponseHeader(popTime: popTime, invisibleTime: invisibleTime, reviveQid: receipt.reviveQueueId)
            return .respond(response(to: request, .success, fields: answer.fields))
        }
    }

    // MARK: PEEK_MESSAGE, NOTIFICATION, POLLING_INFO

    /// Revives every checkpoint whose invisible time passed: each unacknowledged message goes to the pop retry
    /// topic with reconsumeTimes + 1 (to `%DLQ%{group}` past `popMaxReconsumeTimes`), available at once. Ordered pops
    /// need nothing: their queue unblocks by itself.
    func revivePops() {
        let now = Self.nowMillis()
        let wake = state.withLock { s -> [QueueKey] in
            guard s.running, let store = s.store else { return [] }
            let due = s.pop.checkpoints.filter { $0.value.reviveTime <= now }
            guard !due.isEmpty else { return [] }
            var wake: [QueueKey] = []
            for (id, ck) in due.sorted(by: { $0.key < $1.key }) {
                s.pop.checkpoints[id] = nil
                s.pop.dirty = true
                for offset in ck.pending.sorted() {
                    let key = QueueKey(topic: ck.topic, queueId: ck.queueId)
                    guard var buffer = store.get(key, offset: offset, maxCount: 1, maxBytes: .max, filter: .all).records.first,
                        let original = try? MessageRecord.decode(from: &buffer), original.queueOffset == offset
                    else { continue }
                    var record = original
                    record.reconsumeTimes = original.reconsumeTimes + 1
                    if original.reconsumeTimes == 0 || original.properties[MessageProperty.firstPopTime] == nil {
                        record.properties[MessageProperty.firstPopTime] = String(ck.popTime)
                    }
                    let target: String
                    if record.reconsumeTimes > Int32(configuration.popMaxReconsumeTimes) {
                        target = TopicConfig.dlqPrefix + ck.group
                    } else if ck.topic.hasPrefix(TopicConfig.retryPrefix) {
                        target = ck.topic
                    } else {
                        target = PopRetryFlag.retry.realTopic(ck.topic, group: ck.group)
                    }
                    ensureTopic(&s, name: target, queues: 1)
                    record.topic = target
                    record.queueId = 0
                    do { _ = try store.append(&record, storeTimestamp: now) } catch {
                        logger.error("pop revive failed", metadata: ["error": "\(error)"])
                        continue
                    }
                    wake.append(QueueKey(topic: target, queueId: 0))
                }
            }
            return wake
        }
        if !wake.isEmpty { wakeHolds(wake) }
    }

    /// Writes `popCheckpoints.json` when the checkpoints changed.
    func persistPopCheckpoints() {
        guard let dir = dataDirectory else {
            state.withLock { $0.pop.dirty = false }
            return
        }
        let json = state.withLock { s -> JSONValue? in
            guard s.pop.dirty else { return nil }
            s.pop.dirty = false
            return s.pop.json
        }
        guard let json else { return }
        PersistedState.writeAtomically(JSONWriter.encode(json), to: dir.appendingPathComponent("popCheckpoints.json"))
    }
}
