import Foundation
import NIOCore
import RocketMQWire

// POP consumption as Java's PopMessageProcessor, AckMessageProcessor, ChangeInvisibleTimeProcessor,
// PeekMessageProcessor, NotificationProcessor, PollingInfoProcessor and PopReviveService behave, simplified where a
// client cannot tell: checkpoints live in memory (and popCheckpoints.json) instead of the revive topic, and a scan
// every 100 ms revives what is due.

extension MockBroker {
    /// Revive queues of non-ordered pops (`reviveQueueNum`).
    static let reviveQueueNum = 8
    /// Java's `popFromRetryProbability` (percent).
    static let popFromRetryProbability = 20

    /// The answer of one pass over the queues of a pop.
    private struct PopPass {
        struct QueuePart {
            var flag: PopRetryFlag
            var queueId: Int32
            var startOffset: Int64
            var offsets: [Int64]
            var counts: [Int64: Int32] = [:]
        }
        var parts: [QueuePart] = []
        var records: [ByteBuffer] = []
        var restNum: Int64 = 0
        var wake: [QueueKey] = []
    }

    struct PopRejection: Error {
        var code: ResponseCode
        var remark: String?
    }

    // MARK: POP_MESSAGE

    func processPop(_ request: RemotingCommand, from connection: MockConnection, allowSuspend: Bool = true) throws -> ProcessResult {
        let now = Self.nowMillis()
        var fields = request.extFields ?? ExtFields()
        if fields["bornTime"] == nil || fields["bornTime"] == "0" { fields["bornTime"] = String(now) }
        let header = try PopMessageRequestHeader(fields: fields)
        let queueId = max(header.queueId, -1)
        let order = header.order ?? false

        let (result, wake) = state.withLock { s -> (ProcessResult, [QueueKey]) in
            guard s.running, let store = s.store else {
                return (.respond(response(to: request, .serviceNotAvailable, "broker is stopping")), [])
            }
            s.registry.compensate(group: header.consumerGroup)
            if now - header.bornTime - header.pollTime > 500 {
                return (.respond(response(to: request, .pollingTimeout, "the broker[\(configuration.host)] pop message is timeout too much")), [])
            }
            if header.maxMsgNums > 32 {
                return (.respond(response(to: request, .invalidParameter, "the broker[\(configuration.host)] pop message's num is greater than 32")), [])
            }
            let topic: TopicConfig
            let filter: PullFilter
            do {
                topic = try popTopic(&s, header.topic, queueId: queueId, connection: connection, illegalQueue: .invalidParameter)
                filter = try popFilter(&s, topic: header.topic, exp: header.exp, expType: header.expType)
            } catch let r as PopRejection {
                return (.respond(response(to: request, r.code, r.remark)), [])
            } catch {
                return (.respond(response(to: request, .systemError, "\(error)")), [])
            }
            let reviveQid: Int32
            if order {
                reviveQid = PopReceipt.orderReviveQueueId
            } else {
                reviveQid = Int32(abs(s.pop.ckCounter % Self.reviveQueueNum))
                s.pop.ckCounter = s.pop.ckCounter == Int.max ? 0 : s.pop.ckCounter + 1
            }
            let randomQ = Int.random(in: 0..<100)
            let retryTopic = PopRetryFlag.retry.realTopic(header.topic, group: header.consumerGroup)
            var pass = PopPass()
            let max = Int(Swift.max(header.maxMsgNums, 1))
            let context = PopContext(
                group: header.consumerGroup, requestTopic: header.topic, initMode: header.initMode, order: order,
                popTime: now, invisibleTime: header.invisibleTime, reviveQid: reviveQid, max: max)
            let needRetry = randomQ < Self.popFromRetryProbability
            if !order && needRetry {
                ensureTopic(&s, name: retryTopic, queues: 1)
                popQueue(&s, store: store, context, topic: retryTopic, queueId: 0, filter: .all, pass: &pass)
            }
            let queues = queueId < 0
                ? (0..<topic.readQueueNums).map { (Int32(randomQ) + $0) % topic.readQueueNums }
                : [queueId]
            for q in queues {
                popQueue(&s, store: store, context, topic: header.topic, queueId: q, filter: filter, pass: &pass)
            }
            if !order && !needRetry {
                ensureTopic(&s, name: retryTopic, queues: 1)
                popQueue(&s, store: store, context, topic: retryTopic, queueId: 0, filter: .all, pass: &pass)
            }
            if !pass.records.isEmpty {
                var body = ByteBuffer()
                for var r in pass.records { body.writeBuffer(&r) }
                var orderCountInfo: String?
                if order {
                    var entries: [String] = []
                    for part in pass.parts {
                        for offset in part.offsets {
                            entries.append("\(part.flag.rawValue) qo\(part.queueId)%\(offset) \(part.counts[offset] ?? 0)")
                        }
                        let minCount = part.offsets.map { part.counts[$0] ?? 0 }.min() ?? 0
                        entries.append("\(part.flag.rawValue) \(part.queueId) \(minCount)")
                    }
                    orderCountInfo = entries.joined(separator: ";")
                }
                let responseHeader = PopMessageResponseHeader(
                    popTime: now, invisibleTime: header.invisibleTime, reviveQid: reviveQid, restNum: pass.restNum,
                    startOffsetInfo: pass.parts.map {
                        PopOffsetInfo.startOffsetEntry($0.flag, queueId: $0.queueId, startOffset: $0.startOffset)
                    }.joined(separator: ";"),
                    msgOffsetInfo: pass.parts.map {
                        PopOffsetInfo.messageOffsetsEntry($0.flag, queueId: $0.queueId, offsets: $0.offsets)
                    }.joined(separator: ";"),
                    orderCountInfo: orderCountInfo)
                return (.respond(response(to: request, .success, "FOUND", fields: responseHeader.fields, body: body)), pass.wake)
            }
            // Nothing: hold (long polling) until bornTime + pollTime.
            let expiry = header.bornTime &+ header.pollTime
            if allowSuspend, header.pollTime > 0, now <= expiry - 50 {
                hold(&s, HeldPop(
                    kind: .pop, connection: connection, request: request, group: header.consumerGroup,
                    topic: header.topic, queueId: queueId, expiry: expiry), now: now)
                return (.none, pass.wake)
            }
            let empty = PopMessageResponseHeader(popTime: now, invisibleTime: header.invisibleTime, reviveQid: reviveQid, restNum: pass.restNum)
            return (.respond(response(to: request, .pollingTimeout, "NO_MESSAGE_IN_QUEUE", fields: empty.fields)), pass.wake)
        }
        if !wake.isEmpty { eventLoop.execute { self.wakeHolds(wake) } }
        return result
    }

    private struct PopContext {
        var group: String
        var requestTopic: String
        var initMode: Int32
        var order: Bool
        var popTime: Int64
        var invisibleTime: Int64
        var reviveQid: Int32
        var max: Int
    }

    /// The topic checks shared by POP, PEEK, NOTIFICATION and POLLING_INFO.
    private func popTopic(
        _ s: inout State, _ name: String, queueId: Int32, connection: MockConnection, illegalQueue: ResponseCode
    ) throws -> TopicConfig {
        guard let topic = s.topics[name] else {
            throw PopRejection(code: .topicNotExist, remark: "topic[\(name)] not exist, apply first please!")
        }
        guard topic.perm.contains(.read) else {
            throw PopRejection(code: .noPermission, remark: "the topic[\(name)] peeking message is forbidden")
        }
        guard queueId < topic.readQueueNums else {
            throw PopRejection(
                code: illegalQueue,
                remark: "queueId[\(queueId)] is illegal, topic:[\(name)] topicConfig.readQueueNums:[\(topic.readQueueNums)] consumer:[\(connection.remoteAddress)]")
        }
        return topic
    }

    /// The pop's filter (`FilterAPI.build`; a missing `exp` is `*`), SQL92 compiled as the pull path does.
    private func popFilter(_ s: inout State, topic: String, exp: String?, expType: String?) throws -> PullFilter {
        let subscription: SubscriptionData
        do {
            subscription = try SubscriptionData.build(topic: topic, expression: exp ?? "*", type: expType ?? ExpressionType.tag)
        } catch {
            throw PopRejection(code: .subscriptionParseFailed, remark: "parse the consumer's subscription failed")
        }
        if ExpressionType.isTagType(subscription.expressionType) {
            return subscription.subString == SubscriptionData.subAll ? .all : .tags(Set(subscription.codeSet))
        }
        guard configuration.enablePropertyFilter else {
            throw PopRejection(code: .systemError, remark: "The broker does not support consumer to filter message by \(subscription.expressionType)")
        }
        switch Self.compile(subscription, cache: &s.sqlCache) {
        case .success(let expression): return .sql(expression)
        case .failure: throw PopRejection(code: .subscriptionParseFailed, remark: "parse the consumer's subscription failed")
        }
    }

    /// The group's pop offset of a queue (its consumer offset), or the initial one (Java `getInitOffset`: MIN and
    /// retry topics start at the min offset; MAX starts at 0 while message 0 is in memory (always, in the mock:
    /// `initPopOffsetByCheckMsgInMem`), else at max - 1 floored at 0).
    func popOffset(_ s: inout State, store: MessageStore, group: String, topic: String, queueId: Int32, initMode: Int32, commit: Bool) -> Int64 {
        let key = offsetKey(group: group, topic: topic)
        if let offset = s.offsets[key]?[queueId], offset >= 0 { return offset }
        let queue = QueueKey(topic: topic, queueId: queueId)
        let initial: Int64
        if initMode == PopInitMode.min.rawValue || topic.hasPrefix(TopicConfig.retryPrefix) {
            initial = store.minOffset(queue)
        } else if store.minOffset(queue) <= 0 && store.maxOffset(queue) > 0 {
            initial = 0
        } else {
            initial = max(store.maxOffset(queue) - 1, 0)
        }
        if commit {
            s.offsets[key, default: [:]][queueId] = initial
            s.offsetsDirty = true
        }
        return initial
    }

    /// Java's `popMsgFromQueue` for one queue: reads what is left of the batch, records the checkpoint (or the
    /// ordered pop), advances the offset.
    private func popQueue(
        _ s: inout State, store: MessageStore, _ c: PopContext, topic: String, queueId: Int32, filter: PullFilter,
        pass: inout PopPass
    ) {
        let key = QueueKey(topic: topic, queueId: queueId)
        let isRetry = topic.hasPrefix(TopicConfig.retryPrefix)
        let flag = PopRetryFlag(topic: topic)
        let offsetTableKey = offsetKey(group: c.group, topic: topic)
        var offset = popOffset(&s, store: store, group: c.group, topic: topic, queueId: queueId, initMode: c.initMode, commit: true)
        let orderKey = PopState.orderKey(group: c.group, topic: topic, queueId: queueId)
        if pass.records.count >= c.max || (c.order && s.pop.orders[orderKey]?.blocks(now: c.popTime) == true) {
            pass.restNum += max(0, store.maxOffset(key) - offset)
            return
        }
        var result = store.get(key, offset: offset, maxCount: c.max - pass.records.count, maxBytes: .max, filter: filter)
        if result.status == .offsetTooSmall || result.status == .offsetOverflowBadly {
            offset = result.nextBeginOffset
            s.offsets[offsetTableKey, default: [:]][queueId] = offset
            s.offsetsDirty = true
            result = store.get(key, offset: offset, maxCount: c.max - pass.records.count, maxBytes: .max, filter: filter)
        }
        pass.restNum += max(0, result.maxOffset - result.nextBeginOffset)
        guard result.status == .found || result.status == .noMatchedMessage else { return }
        var records: [MessageRecord] = []
        for var buffer in result.records {
            if let record = try? MessageRecord.decode(from: &buffer) { records.append(record) }
        }
        let offsets = records.map(\.queueOffset)
        if c.order {
            guard !offsets.isEmpty else {
                // Nothing matched: only the filtered-out messages are passed.
                if s.pop.orders[orderKey] == nil {
                    s.offsets[offsetTableKey, default: [:]][queueId] = result.nextBeginOffset
                    s.offsetsDirty = true
                }
                return
            }
            let previous = s.pop.orders[orderKey]
            var info = PopOrderInfo(popTime: c.popTime, invisibleTime: c.invisibleTime, offsets: offsets)
            for o in offsets {
                if let previous, previous.offsets.contains(o) {
                    info.counts[o] = (previous.counts[o] ?? 0) + 1
                } else {
                    info.counts[o] = 0
                }
            }
            s.pop.orders[orderKey] = info
            pass.parts.append(.init(flag: flag, queueId: queueId, startOffset: offset, offsets: offsets, counts: info.counts))
            pass.records.append(contentsOf: result.records)
            return
        }
        s.offsets[offsetTableKey, default: [:]][queueId] = result.nextBeginOffset
        s.offsetsDirty = true
        guard !offsets.isEmpty else { return }
        s.pop.add(PopCheckpoint(
            group: c.group, topic: topic, queueId: queueId, startOffset: offset, popTime: c.popTime,
            invisibleTime: c.invisibleTime, reviveQid: c.reviveQid, pending: Set(offsets)))
        pass.parts.append(.init(flag: flag, queueId: queueId, startOffset: offset, offsets: offsets))
        if result.maxOffset > result.nextBeginOffset { pass.wake.append(key) }
        guard isRetry else {
            pass.records.append(contentsOf: result.records)
            return
        }
        // From the retry topic: the broker writes the receipt and the requested topic into each record.
        for var record in records {
            if record.properties[MessageProperty.popCheckpoint] == nil {
                record.properties[MessageProperty.popCheckpoint] = PopReceipt(
                    ckQueueOffset: offset, popTime: c.popTime, invisibleTime: c.invisibleTime, reviveQueueId: c.reviveQid,
                    retryFlag: flag, brokerName: configuration.name, queueId: queueId, queueOffset: record.queueOffset
                ).text
            }
            record.topic = c.requestTopic
            record.storeSize = 0
            var buffer = ByteBuffer()
            if (try? record.encode(into: &buffer)) != nil { pass.records.append(buffer) }
        }
    }

    // MARK: holds

    private func hold(_ s: inout State, _ held: HeldPop, now: Int64) {
        s.pop.nextHoldID += 1
        let id = s.pop.nextHoldID
        var held = held
        held.timeout = held.connection.channel.eventLoop.scheduleTask(in: .milliseconds(max(0, held.expiry - now))) { [self] in
            let h = state.withLock { $0.pop.holds.removeValue(forKey: id) }
            if let h { answerHeldPop(h, expired: true) }
        }
        s.pop.holds[id] = held
    }

    /// New messages in `keys` (or a queue an ordered pop unblocked): re-runs the pops and notifications held on them.
    func wakePopHolds(_ keys: [QueueKey]) {
        let woken = state.withLock { s -> [HeldPop] in
            var out: [HeldPop] = []
            for (id, h) in s.pop.holds where keys.contains(where: h.interested(in:)) {
                out.append(h)
                s.pop.holds[id] = nil
            }
            return out
        }
        for h in woken {
            h.timeout?.cancel()
            answerHeldPop(h, expired: false)
        }
    }

    func answerHeldPop(_ h: HeldPop, expired: Bool) {
        let result: ProcessResult
        switch h.kind {
        case .pop:
            result = (try? processPop(h.request, from: h.connection, allowSuspend: !expired))
                ?? .respond(response(to: h.request, .systemError, "pop failed"))
        case .notification:
            result = (try? processNotification(h.request, from: h.connection, allowSuspend: !expired))
                ?? .respond(response(to: h.request, .systemError, "notification failed"))
        }
        if case .respond(let r) = result { h.connection.send(r) }
    }

    func popHoldsClosed(_ s: inout State, connection: MockConnection) {
        for (id, h) in s.pop.holds where h.connection == connection {
            h.timeout?.cancel()
            s.pop.holds[id] = nil
        }
    }

    /// Drops every held pop (the broker stops; the connections close).
    func dropPopHolds(_ s: inout State) -> [Scheduled<Void>] {
        defer { s.pop.holds = [:] }
        return s.pop.holds.values.compactMap(\.timeout)
    }

    // MARK: ACK_MESSAGE, BATCH_ACK_MESSAGE

    func processPeek(_ request: RemotingCommand, from connection: MockConnection) throws -> ProcessResult {
        let header = try PeekMessageRequestHeader(fields: request.extFields ?? ExtFields())
        return state.withLock { s -> ProcessResult in
            guard s.running, let store = s.store else {
                return .respond(response(to: request, .serviceNotAvailable, "broker is stopping"))
            }
            let topic: TopicConfig
            do {
                topic = try popTopic(&s, header.topic, queueId: max(header.queueId, -1), connection: connection, illegalQueue: .systemError)
            } catch let r as PopRejection {
                return .respond(response(to: request, r.code, r.remark))
            } catch {
                return .respond(response(to: request, .systemError, "\(error)"))
            }
            let max = Int(Swift.max(header.maxMsgNums, 1))
            let queues = header.queueId < 0 ? Array(0..<topic.readQueueNums) : [header.queueId]
            var records: [ByteBuffer] = []
            var restNum: Int64 = 0
            for q in queues {
                let key = QueueKey(topic: header.topic, queueId: q)
                let offset = popOffset(&s, store: store, group: header.consumerGroup, topic: header.topic, queueId: q, initMode: PopInitMode.max.rawValue, commit: false)
                guard records.count < max else {
                    restNum += Swift.max(0, store.maxOffset(key) - offset)
                    continue
                }
                let result = store.get(key, offset: offset, maxCount: max - records.count, maxBytes: .max, filter: .all)
                records += result.records
                restNum += Swift.max(0, result.maxOffset - result.nextBeginOffset)
            }
            guard !records.isEmpty else {
                return .respond(response(to: request, .pullNotFound, "NO_MESSAGE_IN_QUEUE"))
            }
            var body = ByteBuffer()
            for var r in records { body.writeBuffer(&r) }
            let answer = PopMessageResponseHeader(popTime: 0, invisibleTime: 0, reviveQid: 0, restNum: restNum)
            return .respond(response(to: request, .success, "FOUND", fields: answer.fields, body: body))
        }
    }

    func processNotification(_ request: RemotingCommand, from connection: MockConnection, allowSuspend: Bool = true) throws -> ProcessResult {
        let now = Self.nowMillis()
        var fields = request.extFields ?? ExtFields()
        if fields["bornTime"] == nil || fields["bornTime"] == "0" { fields["bornTime"] = String(now) }
        let header = try NotificationRequestHeader(fields: fields)
        let queueId = max(header.queueId, -1)
        return state.withLock { s -> ProcessResult in
            guard s.running, let store = s.store else {
                return .respond(response(to: request, .serviceNotAvailable, "broker is stopping"))
            }
            let topic: TopicConfig
            do {
                topic = try popTopic(&s, header.topic, queueId: queueId, connection: connection, illegalQueue: .systemError)
            } catch let r as PopRejection {
                return .respond(response(to: request, r.code, r.remark))
            } catch {
                return .respond(response(to: request, .systemError, "\(error)"))
            }
            let order = header.order ?? false
            func has(_ topicName: String, _ q: Int32) -> Bool {
                let key = QueueKey(topic: topicName, queueId: q)
                if order, s.pop.orders[PopState.orderKey(group: header.consumerGroup, topic: topicName, queueId: q)]?.blocks(now: now) == true {
                    return false
                }
                let offset = popOffset(&s, store: store, group: header.consumerGroup, topic: topicName, queueId: q, initMode: PopInitMode.max.rawValue, commit: false)
                return store.maxOffset(key) > offset
            }
            var hasMsg = (queueId < 0 ? Array(0..<topic.readQueueNums) : [queueId]).contains { has(header.topic, $0) }
            if !hasMsg && !order {
                hasMsg = has(PopRetryFlag.retry.realTopic(header.topic, group: header.consumerGroup), 0)
            }
            let expiry = header.bornTime &+ header.pollTime
            if !hasMsg, allowSuspend, header.pollTime > 0, now <= expiry - 50 {
                hold(&s, HeldPop(
                    kind: .notification, connection: connection, request: request, group: header.consumerGroup,
                    topic: header.topic, queueId: queueId, expiry: expiry), now: now)
                return .none
            }
            return .respond(response(to: request, .success, fields: NotificationResponseHeader(hasMsg: hasMsg).fields))
        }
    }

    func processPollingInfo(_ request: RemotingCommand) throws -> ProcessResult {
        let fields = request.extFields ?? ExtFields()
        let group: String = try fields.required("consumerGroup")
        let topic: String = try fields.required("topic")
        let queueId: Int32 = try fields.required("queueId")
        let count = state.withLock { s in
            s.pop.holds.values.filter { $0.group == group && $0.topic == topic && $0.queueId == queueId }.count
        }
        var answer = ExtFields()
        answer["pollingNum"] = String(count)
        return .respond(response(to: request, .success, fields: answer))
    }

    // MARK: revive

}
