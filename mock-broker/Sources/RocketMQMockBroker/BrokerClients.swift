import NIOCore
import RocketMQWire

extension MockBroker {
    /// HEART_BEAT (34): registers producer and consumer groups of the connection; notifies changed groups first.
    func heartbeat(_ request: RemotingCommand, from connection: MockConnection) throws -> ProcessResult {
        let data = try HeartbeatData(buffer: request.body ?? ByteBuffer())
        let now = Self.nowMillis()
        let notify = state.withLock { s -> [(String, [MockConnection])] in
            for consumer in data.consumerDataSet where consumer.messageModel?.rawValue != "BROADCASTING" {
                ensureTopic(&s, name: TopicConfig.retryPrefix + consumer.groupName, queues: 1)
            }
            return s.registry.heartbeat(data, connection: connection, now: now, language: request.language, version: request.version)
                .map { ($0, s.registry.members($0)) }
        }
        // Java pushes NOTIFY_CONSUMER_IDS_CHANGED before answering the heartbeat, the joining connection included.
        self.notify(notify)
        var fields = ExtFields()
        fields.javaInitialCapacity = 256
        fields["IS_SUPPORT_HEART_BEAT_V2"] = "true"
        fields["IS_SUB_CHANGE"] = "true"
        return .respond(response(to: request, .success, fields: fields))
    }

    /// UNREGISTER_CLIENT (35).
    func unregister(_ request: RemotingCommand, from connection: MockConnection) throws -> ProcessResult {
        let header = try UnregisterClientRequestHeader(fields: request.extFields ?? ExtFields())
        let notify = state.withLock { s -> [(String, [MockConnection])] in
            s.registry.unregister(connection: connection, producerGroup: header.producerGroup, consumerGroup: header.consumerGroup)
                .map { ($0, s.registry.members($0)) }
        }
        self.notify(notify)
        return .respond(response(to: request, .success, fields: ExtFields()))
    }

    /// GET_CONSUMER_LIST_BY_GROUP (38): one id per registered connection; SYSTEM_ERROR when there is none.
    func consumerList(_ request: RemotingCommand) throws -> ProcessResult {
        let header = try GetConsumerListByGroupRequestHeader(fields: request.extFields ?? ExtFields())
        let ids = state.withLock { $0.registry.consumerIDs(header.consumerGroup) }
        guard !ids.isEmpty else {
            return .respond(response(to: request, .systemError, "no consumer for this group, \(header.consumerGroup)"))
        }
        let body = ConsumerListBody(consumerIdList: ids).encodedBuffer()
        return .respond(response(to: request, .success, fields: ExtFields(), body: body))
    }

    /// QUERY_CONSUMER_OFFSET (14).
    func queryOffset(_ request: RemotingCommand) throws -> ProcessResult {
        let header = try QueryConsumerOffsetRequestHeader(fields: request.extFields ?? ExtFields())
        let offset = state.withLock { s -> Int64? in
            if let o = s.offsets[offsetKey(group: header.consumerGroup, topic: header.topic)]?[header.queueId] {
                return o
            }
            // No committed offset: Java answers 0 while the queue still starts at 0 in memory (unless told not to).
            if header.setZeroIfNotFound != false, let store = s.store {
                let key = QueueKey(topic: header.topic, queueId: header.queueId)
                if store.minOffset(key) <= 0 && store.maxOffset(key) > 0 { return 0 }
            }
            return nil
        }
        guard let offset else {
            return .respond(response(to: request, .queryNotFound, "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first", fields: ExtFields()))
        }
        return .respond(response(to: request, .success, fields: QueryConsumerOffsetResponseHeader(offset: offset).fields))
    }

    /// UPDATE_CONSUMER_OFFSET (15), oneway or not.
    func updateOffset(_ request: RemotingCommand) throws -> ProcessResult {
        let header = try UpdateConsumerOffsetRequestHeader(fields: request.extFields ?? ExtFields())
        state.withLock { s in
            s.offsets[offsetKey(group: header.consumerGroup, topic: header.topic), default: [:]][header.queueId] = header.commitOffset
            s.offsetsDirty = true
        }
        return .respond(response(to: request, .success, fields: ExtFields()))
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), GET_EARLIEST_MSG_STORETIME (32).
    func offsetQuery(_ request: RemotingCommand) throws -> ProcessResult {
        let fields = request.extFields ?? ExtFields()
        return try state.withLock { s -> ProcessResult in
            guard let store = s.store else { return .respond(response(to: request, .serviceNotAvailable, "broker is stopping")) }
            switch request.requestCode {
            case .getMaxOffset:
                let h = try GetMaxOffsetRequestHeader(fields: fields)
                let offset = store.maxOffset(QueueKey(topic: h.topic, queueId: h.queueId))
                return .respond(response(to: request, .success, fields: OffsetResponseHeader(offset: offset).fields))
            case .getMinOffset:
                let h = try GetMinOffsetRequestHeader(fields: fields)
                let offset = store.minOffset(QueueKey(topic: h.topic, queueId: h.queueId))
                return .respond(response(to: request, .success, fields: OffsetResponseHeader(offset: offset).fields))
            case .searchOffsetByTimestamp:
                let h = try SearchOffsetRequestHeader(fields: fields)
                let upper = h.boundaryType == .upper
                let offset = store.searchOffset(QueueKey(topic: h.topic, queueId: h.queueId), timestamp: h.timestamp, upper: upper)
                return .respond(response(to: request, .success, fields: OffsetResponseHeader(offset: offset).fields))
            default:
                let h = try GetEarliestMsgStoreTimeRequestHeader(fields: fields)
                let time = store.earliestStoreTime(QueueKey(topic: h.topic, queueId: h.queueId))
                return .respond(response(to: request, .success, fields: GetEarliestMsgStoreTimeResponseHeader(timestamp: time).fields))
            }
        }
    }

    /// LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42).
    func lock(_ request: RemotingCommand) throws -> ProcessResult {
        let now = Self.nowMillis()
        if request.requestCode == .lockBatchMQ {
            let body = try LockBatchRequestBody(buffer: request.body ?? ByteBuffer())
            let granted = state.withLock {
                $0.locks.lock(group: body.consumerGroup, clientID: body.clientId, queues: body.mqSet, now: now)
            }
            let reply = LockBatchResponseBody(lockOKMQSet: granted).encodedBuffer()
            return .respond(response(to: request, .success, fields: ExtFields(), body: reply))
        }
        let body = try UnlockBatchRequestBody(buffer: request.body ?? ByteBuffer())
        state.withLock { $0.locks.unlock(group: body.consumerGroup, clientID: body.clientId, queues: body.mqSet) }
        return .respond(response(to: request, .success, fields: ExtFields()))
    }

    /// UPDATE_AND_CREATE_TOPIC (17): the admin call that creates a topic on this broker.
    func createTopic(_ request: RemotingCommand) throws -> ProcessResult {
        let fields = request.extFields ?? ExtFields()
        guard let name = fields["topic"], !name.isEmpty else {
            throw WireError(.invalidHeaderField, "topic is missing")
        }
        let read = Int32(fields["readQueueNums"] ?? "") ?? configuration.defaultQueueNums
        let write = Int32(fields["writeQueueNums"] ?? "") ?? read
        var topic = TopicConfig(name: name, queues: write)
        topic.readQueueNums = read
        if let perm = Int32(fields["perm"] ?? "") { topic.perm = TopicConfig.Permission(rawValue: perm) }
        createTopic(topic)
        return .respond(response(to: request, .success, fields: ExtFields()))
    }
}
