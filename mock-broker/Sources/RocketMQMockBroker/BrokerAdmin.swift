import NIOCore
import RocketMQWire

/// The operator queries, answered as Java's `QueryMessageProcessor` and `AdminBrokerProcessor` answer them.
extension MockBroker {
    /// QUERY_MESSAGE (12): the stored messages of a topic with a key (or, with `_UNIQUE_KEY_QUERY=true`, a unique
    /// key; `maxNum` is then the broker's 32), concatenated in store format; QUERY_NOT_FOUND when none matches.
    func queryMessage(_ request: RemotingCommand) throws -> ProcessResult {
        let fields = request.extFields ?? ExtFields()
        var header = try QueryMessageRequestHeader(fields: fields)
        if QueryMessageRequestHeader.isUniqueKeyQuery(fields) { header.maxNum = MessageIndex.defaultQueryMaxNum }
        guard header.maxNum >= 0 else {
            // Java sizes an ArrayList with maxNum before looking, and answers the exception.
            return .respond(response(to: request, .systemError, "java.lang.IllegalArgumentException: Illegal Capacity: \(header.maxNum)"))
        }
        return state.withLock { s -> ProcessResult in
            guard let store = s.store else { return .respond(response(to: request, .serviceNotAvailable, "broker is stopping")) }
            let offsets = store.messageIndex.query(
                topic: header.topic, key: header.key, maxNum: Int(header.maxNum), begin: header.beginTimestamp,
                end: header.endTimestamp)
            let records = offsets.compactMap { store.encodedRecord(atCommitLogOffset: $0) }
            guard !records.isEmpty else {
                // The index position is only reported when the index had entries to look at.
                let position = QueryMessageResponseHeader(indexLastUpdateTimestamp: 0, indexLastUpdatePhyoffset: 0)
                return .respond(response(
                    to: request, .queryNotFound, "can not find message, maybe time range not correct", fields: position.fields))
            }
            let position = QueryMessageResponseHeader(
                indexLastUpdateTimestamp: store.messageIndex.lastUpdateTimestamp,
                indexLastUpdatePhyoffset: store.messageIndex.lastUpdatePhyOffset)
            var body = ByteBuffer()
            body.reserveCapacity(records.reduce(0) { $0 + $1.readableBytes })
            for var record in records { body.writeBuffer(&record) }
            return .respond(response(to: request, .success, fields: position.fields, body: body))
        }
    }

    /// VIEW_MESSAGE_BY_ID (33): the message stored at a commit-log offset; SYSTEM_ERROR when no message starts there.
    func viewMessage(_ request: RemotingCommand) throws -> ProcessResult {
        let header = try ViewMessageRequestHeader(fields: request.extFields ?? ExtFields())
        return state.withLock { s -> ProcessResult in
            guard let store = s.store else { return .respond(response(to: request, .serviceNotAvailable, "broker is stopping")) }
            guard let record = store.encodedRecord(atCommitLogOffset: header.offset) else {
                return .respond(response(to: request, .systemError, "can not find message by the offset, \(header.offset)"))
            }
            return .respond(response(to: request, .success, body: record))
        }
    }

    /// GET_CONSUME_STATS (208): per queue of the group's topics, the broker's max offset, the committed offset (0 for
    /// none), the pull offset and the store time of the last consumed message. A group with nothing to report (an
    /// unknown group included) gets SUCCESS with an empty table, as from Java; the admin tools turn that into
    /// CONSUMER_NOT_ONLINE on their side.
    func consumeStats(_ request: RemotingCommand) throws -> ProcessResult {
        let header = try GetConsumeStatsRequestHeader(fields: request.extFields ?? ExtFields())
        let group = header.consumerGroup
        let now = Self.nowMillis()
        return state.withLock { s -> ProcessResult in
            guard let store = s.store else { return .respond(response(to: request, .serviceNotAvailable, "broker is stopping")) }
            var stats = ConsumeStats()
            for topic in Self.topicsForConsumeStats(header, s) {
                guard let config = s.topics[topic] else { continue }
                let key = offsetKey(group: group, topic: topic)
                for queueId in 0..<max(0, config.readQueueNums) {
                    let queue = QueueKey(topic: topic, queueId: queueId)
                    let committed = s.offsets[key]?[queueId]
                    let consumerOffset = max(0, committed ?? -1)
                    let pullOffset = s.pullOffsets[key]?[queueId] ?? committed ?? -1
                    var wrapper = OffsetWrapper(
                        brokerOffset: max(0, store.maxOffset(queue)), consumerOffset: consumerOffset,
                        pullOffset: max(consumerOffset, pullOffset))
                    if consumerOffset > 0, let time = store.storeTimestamp(queue, offset: consumerOffset - 1), time > 0 {
                        wrapper.lastTimestamp = time
                    }
                    stats.offsetTable[MessageQueueData(topic: topic, brokerName: configuration.name, queueId: queueId)] = wrapper
                }
                stats.consumeTps += s.getRates[key]?.perSecond(nowMillis: now) ?? 0
            }
            return .respond(response(to: request, .success, body: stats.encodedBuffer()))
        }
    }

    /// Java's `getTopicsForCollectingConsumeStats`: the header's topic list as given; else its topic, or every
    /// topic the group has committed offsets for, less the topics an online group does not subscribe to.
    private static func topicsForConsumeStats(_ header: GetConsumeStatsRequestHeader, _ s: State) -> Set<String> {
        let listed = header.topics
        if !listed.isEmpty { return Set(listed) }
        var topics: Set<String>
        if let topic = header.topic, !JavaCompat.isBlank(topic) {
            topics = [topic]
        } else {
            // whichTopicByConsumer: keys "topic@group" that Java's split("@") cuts into exactly two parts.
            topics = []
            for key in s.offsets.keys {
                var parts = key.split(separator: "@", omittingEmptySubsequences: false)
                while parts.last?.isEmpty == true { parts.removeLast() }
                if parts.count == 2, parts[1] == header.consumerGroup { topics.insert(String(parts[0])) }
            }
        }
        let subscribed = s.registry.consumers[header.consumerGroup]?.subscriptions ?? [:]
        if !subscribed.isEmpty { topics = topics.filter { subscribed[$0] != nil } }
        return topics
    }

    /// GET_CONSUMER_CONNECTION_LIST (203): the group's connected clients and what it registered; CONSUMER_NOT_ONLINE
    /// when no client of the group is connected.
    func consumerConnectionList(_ request: RemotingCommand) throws -> ProcessResult {
        let header = try GetConsumerConnectionListRequestHeader(fields: request.extFields ?? ExtFields())
        let body = state.withLock { s -> ConsumerConnection? in
            // A group only known from POP requests (Java's compensation table) has no connection: not online.
            guard let group = s.registry.consumers[header.consumerGroup], !group.members.isEmpty else { return nil }
            return ConsumerConnection(
                connectionSet: group.members.map {
                    Connection(clientId: $0.clientID, clientAddr: $0.connection.remoteAddress, language: $0.language, version: $0.version)
                },
                subscriptionTable: group.subscriptions, consumeType: group.consumeType.map(ConsumeType.init(rawValue:)),
                messageModel: group.messageModel, consumeFromWhere: group.consumeFromWhere)
        }
        guard let body else {
            return .respond(response(to: request, .consumerNotOnline, "the consumer group[\(header.consumerGroup)] not online"))
        }
        return .respond(response(to: request, .success, body: body.encodedBuffer()))
    }

    /// GET_TOPIC_STATS_INFO (202): per queue of the topic, min and max offsets and the store time of the last
    /// message; TOPIC_NOT_EXIST for a topic this broker does not hold.
    func topicStats(_ request: RemotingCommand) throws -> ProcessResult {
        let header = try GetTopicStatsInfoRequestHeader(fields: request.extFields ?? ExtFields())
        let now = Self.nowMillis()
        return state.withLock { s -> ProcessResult in
            guard let store = s.store else { return .respond(response(to: request, .serviceNotAvailable, "broker is stopping")) }
            guard let config = s.topics[header.topic] else {
                return .respond(response(to: request, .topicNotExist, "topic[\(header.topic)] not exist"))
            }
            var table = TopicStatsTable()
            for queueId in 0..<max(0, config.writeQueueNums, config.readQueueNums) {
                let queue = QueueKey(topic: header.topic, queueId: queueId)
                let maxOffset = max(0, store.maxOffset(queue))
                let last = maxOffset > 0 ? store.storeTimestamp(queue, offset: maxOffset - 1) ?? -1 : 0
                table.offsetTable[MessageQueueData(topic: header.topic, brokerName: configuration.name, queueId: queueId)] =
                    TopicOffset(minOffset: max(0, store.minOffset(queue)), maxOffset: maxOffset, lastUpdateTimestamp: last)
            }
            table.topicPutTps = store.putRates[header.topic]?.perSecond(nowMillis: now) ?? 0
            return .respond(response(to: request, .success, body: table.encodedBuffer()))
        }
    }
}
