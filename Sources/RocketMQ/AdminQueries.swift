import NIOCore
import RocketMQRemoting
import RocketMQWire

// The operator's questions — where is my message, how far behind is this group, who is consuming, what topics are
// there — answered the way Java's `MQAdminImpl` / `DefaultMQAdminExt` answer them, on the same requests.

extension Admin {
    /// One queue of a consumer group's progress (Java's `OffsetWrapper`).
    public struct QueueProgress: Sendable, Hashable {
        /// The queue (topic without namespace).
        public var queue: MessageQueue
        /// The next offset the broker will write.
        public var brokerOffset: Int64
        /// The group's committed offset.
        public var consumerOffset: Int64
        /// The offset the group's members last pulled from (brokers that track it; otherwise 0).
        public var pullOffset: Int64
        /// When the last consumed message was stored (ms since 1970; 0 when none was consumed).
        public var lastConsumeTimestamp: Int64
        /// Messages stored but not yet consumed: `brokerOffset - consumerOffset`, as Java computes it.
        public var lag: Int64 { brokerOffset - consumerOffset }
    }

    /// A consumer group's progress over the brokers (Java's `ConsumeStats`, merged over brokers as
    /// `examineConsumeStats` does).
    public struct GroupProgress: Sendable, Hashable {
        /// The group (without namespace).
        public var group: String
        /// Every queue the group has offsets on, sorted by topic, broker and queue id.
        public var queues: [QueueProgress]
        /// Messages consumed per second, as the brokers measure it.
        public var consumeTPS: Double
        /// The sum of every queue's ``QueueProgress/lag``: what `mqadmin consumerProgress` prints as
        /// "Consume Diff Total".
        public var totalLag: Int64 { queues.reduce(0) { $0 + $1.lag } }
    }

    /// A consumer connected to a broker (Java's `Connection`).
    public struct ConsumerClient: Sendable, Hashable {
        /// The client id (`ip@instance`).
        public var clientID: String
        /// The address the broker sees.
        public var address: String
        /// The client's language (`JAVA`, `GO`, `RUST`, …; this library says `JAVA`, as Java's wire would).
        public var language: String
        /// The client's protocol version.
        public var version: MQVersion
    }

    /// Who consumes for a group (Java's `ConsumerConnection`).
    public struct GroupConnections: Sendable, Hashable {
        /// The group (without namespace).
        public var group: String
        /// The connected members.
        public var clients: [ConsumerClient]
        /// Topic (without namespace) → subscription expression (`*`, `TagA || TagB`, or a SQL92 expression).
        public var subscriptions: [String: String]
        /// `CONSUME_ACTIVELY` (pull), `CONSUME_PASSIVELY` (push) or `CONSUME_POP`.
        public var consumeType: String?
        /// `CLUSTERING` or `BROADCASTING`.
        public var messageModel: String?
        /// Where a new member starts (`CONSUME_FROM_LAST_OFFSET`, …).
        public var consumeFromWhere: String?
    }

    /// One queue of a topic (Java's `TopicOffset`).
    public struct QueueStats: Sendable, Hashable {
        /// The queue (topic without namespace).
        public var queue: MessageQueue
        /// The oldest offset still stored.
        public var minOffset: Int64
        /// The next offset to be written.
        public var maxOffset: Int64
        /// When the queue's last message was stored (ms since 1970; 0 when empty).
        public var lastUpdateTimestamp: Int64
    }

    // MARK: - Messages

    /// Messages of `topic` whose keys contain `key`, from every broker's key index (QUERY_MESSAGE, as
    /// `mqadmin queryMsgByKey`): at most `maxCount` per broker, stored between `begin` and `end` (ms since 1970).
    /// Empty when none matches.
    public func queryMessages(
        topic: String, key: String, maxCount: Int32 = 64, begin: Int64 = 0, end: Int64 = Int64.max
    ) async throws -> [ReceivedMessage] {
        try await query(topic: topic, key: key, uniqueKey: false, maxCount: maxCount, begin: begin, end: end)
    }

    /// The messages of `topic` whose message id (`UNIQ_KEY`, what ``SendResult/messageID`` returns) is `id`, from the
    /// brokers' unique-key index: empty when none has it, more than one when it was stored twice (a retried send).
    public func messages(topic: String, messageID id: String) async throws -> [ReceivedMessage] {
        try await query(topic: topic, key: id, uniqueKey: true, maxCount: 32, begin: 0, end: Int64.max)
    }

    /// The message at an offset message id (``ReceivedMessage/offsetMessageID``: store host and commit-log offset),
    /// read from that broker with VIEW_MESSAGE_BY_ID.
    ///
    /// `topic`, when known, goes in the request as Java's client sends it (brokers with ACL 2.0 authorize on it).
    ///
    /// - Throws: ``RocketMQError`` `invalidArgument` when `offsetMessageID` is not one; `brokerError` when the broker
    ///   has no message there.
    public func message(offsetMessageID: String, topic: String? = nil) async throws -> ReceivedMessage {
        let (host, offset): (MessageHost, Int64)
        do {
            (host, offset) = try MessageID.decodeOffsetMessageID(offsetMessageID)
        } catch {
            throw RocketMQError(.invalidArgument, "not an offset message id: \(offsetMessageID) (\(error))")
        }
        let address = host.isIPv6 ? "[\(host.ipString)]:\(host.port)" : "\(host.ipString):\(host.port)"
        let header = ViewMessageRequestHeader(offset: offset, topic: topic.map(core.configuration.wrap))
        let response = try await ask(.request(.viewMessageById, extFields: header.fields), address)
        guard response.responseCode == .success, var body = response.body else {
            throw RocketMQError(.brokerError, response.remark ?? "no message at offset \(offset)", responseCode: response.code)
        }
        let record: MessageRecord
        do { record = try MessageRecord.decode(from: &body) } catch {
            throw RocketMQError(.brokerError, "undecodable message from \(address): \(error)")
        }
        return present(record, brokerName: core.brokerName(of: address) ?? address)
    }

    private func query(
        topic: String, key: String, uniqueKey: Bool, maxCount: Int32, begin: Int64, end: Int64
    ) async throws -> [ReceivedMessage] {
        guard !key.isEmpty else { throw RocketMQError(.invalidArgument, "the key is empty") }
        guard maxCount > 0 else { throw RocketMQError(.invalidArgument, "maxCount must be positive") }
        let wrapped = core.wrap(topic)
        let shown = core.unwrap(wrapped)
        var fields = QueryMessageRequestHeader(topic: wrapped, key: key, maxNum: maxCount, beginTimestamp: begin, endTimestamp: end).fields
        if uniqueKey { fields[QueryMessageRequestHeader.uniqueKeyQueryField] = "true" }
        // Every broker at once with three times the request timeout; a broker that fails is skipped unless all do
        // (Java's MQAdminImpl.queryMessage).
        let brokers = try await brokersOf(wrapped)
        let timeout = core.configuration.requestTimeout * 3
        let answers = await withTaskGroup(of: (String, Result<RemotingCommand, any Error>).self) { group in
            for (broker, address) in brokers {
                group.addTask { [fields] in
                    do { return (broker, .success(try await self.ask(.request(.queryMessage, extFields: fields), address, timeout: timeout))) } catch {
                        return (broker, .failure(error))
                    }
                }
            }
            var answers: [(String, Result<RemotingCommand, any Error>)] = []
            for await answer in group { answers.append(answer) }
            return answers
        }
        var found: [ReceivedMessage] = []
        var failures: [any Error] = []
        for (broker, answer) in answers {
            let response: RemotingCommand
            switch answer {
            case .success(let r): response = r
            case .failure(let error):
                failures.append(error)
                continue
            }
            guard response.responseCode == .success else {
                if response.responseCode != .queryNotFound {
                    failures.append(RocketMQError(.brokerError, "\(broker): \(response.remark ?? "query failed")", responseCode: response.code))
                }
                continue
            }
            let (records, _) = MessageRecord.decodeAll(response.body ?? ByteBuffer())
            for record in records {
                let message = present(record, brokerName: broker)
                // The index is a hash: keep only real matches (as Java's client does).
                let matches = uniqueKey ? message.messageID == key : message.keys.contains(key)
                if matches && message.topic == shown { found.append(message) }
            }
        }
        if failures.count == brokers.count, let first = failures.first { throw first }
        return found.sorted { ($0.storeTimestamp, $0.commitLogOffset) < ($1.storeTimestamp, $1.commitLogOffset) }
    }

    private func present(_ record: MessageRecord, brokerName: String) -> ReceivedMessage {
        let body = (try? record.decompressedBody()) ?? record.body
        var message = ReceivedMessage(
            record: record, queue: MessageQueue(topic: record.topic, brokerName: brokerName, queueId: record.queueId), body: body)
        message.topic = core.unwrap(message.topic)
        message.queue.topic = core.unwrap(message.queue.topic)
        return message
    }

    // MARK: - Groups

    /// A consumer group's offsets, lag and last consume time on every queue (GET_CONSUME_STATS on each broker, as
    /// `mqadmin consumerProgress`), optionally for one topic.
    ///
    /// - Throws: ``RocketMQError`` `brokerError` when a broker refuses; with response code CONSUMER_NOT_ONLINE when no
    ///   broker has offsets of the group and none of its members is connected, BROADCAST_CONSUMPTION for a
    ///   broadcasting group (as Java's admin).
    public func progress(group: String, topic: String? = nil) async throws -> GroupProgress {
        let wrappedGroup = core.wrap(group)
        let header = GetConsumeStatsRequestHeader(consumerGroup: wrappedGroup, topic: topic.map(core.configuration.wrap))
        var queues: [QueueProgress] = []
        var tps = 0.0
        // Any broker's refusal fails the whole answer (Java's examineConsumeStats): a partial total would understate
        // the lag without saying so.
        for (broker, address) in try await groupBrokers(wrappedGroup) {
            let response = try await ask(.request(.getConsumeStats, extFields: header.fields), address, timeout: core.configuration.requestTimeout * 3)
            guard response.responseCode == .success, let body = response.body else {
                throw RocketMQError(.brokerError, "\(broker): \(response.remark ?? "no consume stats")", responseCode: response.code)
            }
            let stats: ConsumeStats
            do { stats = try ConsumeStats(buffer: body) } catch {
                throw RocketMQError(.brokerError, "\(broker): undecodable consume stats: \(error)")
            }
            tps += stats.consumeTps
            for (queue, offsets) in stats.offsetTable {
                queues.append(QueueProgress(
                    queue: MessageQueue(topic: core.unwrap(queue.topic), brokerName: queue.brokerName, queueId: queue.queueId),
                    brokerOffset: offsets.brokerOffset, consumerOffset: offsets.consumerOffset, pullOffset: offsets.pullOffset,
                    lastConsumeTimestamp: offsets.lastTimestamp))
            }
        }
        // Brokers answer an unknown group with an empty table. Java's admin then asks who is connected: nobody →
        // CONSUMER_NOT_ONLINE; a broadcasting group → BROADCAST_CONSUMPTION (its offsets live in the clients);
        // otherwise the group is online and simply has no offsets yet.
        if queues.isEmpty {
            let online: GroupConnections
            do { online = try await connections(group: group) } catch {
                throw RocketMQError(
                    .brokerError, "no consume stats for group \(group): it is not online and has not consumed anything",
                    responseCode: ResponseCode.consumerNotOnline.rawValue)
            }
            if online.messageModel == "BROADCASTING" {
                throw RocketMQError(
                    .brokerError, "group \(group) consumes by broadcasting: its offsets are kept by each client, not the brokers",
                    responseCode: ResponseCode.broadcastConsumption.rawValue)
            }
        }
        queues.sort { ($0.queue.topic, $0.queue.brokerName, $0.queue.queueId) < ($1.queue.topic, $1.queue.brokerName, $1.queue.queueId) }
        return GroupProgress(group: group, queues: queues, consumeTPS: tps)
    }

    /// The group's connected consumers and their subscriptions (GET_CONSUMER_CONNECTION_LIST, as
    /// `mqadmin consumerConnection`): the first broker that has the group online answers.
    ///
    /// - Throws: ``RocketMQError`` `brokerError` (the broker's "the consumer group not online") when none has it.
    public func connections(group: String) async throws -> GroupConnections {
        let wrappedGroup = core.wrap(group)
        let header = GetConsumerConnectionListRequestHeader(consumerGroup: wrappedGroup)
        var firstRefusal: RocketMQError?
        for (broker, address) in try await groupBrokers(wrappedGroup) {
            let response = try await ask(.request(.getConsumerConnectionList, extFields: header.fields), address)
            guard response.responseCode == .success, let body = response.body else {
                firstRefusal = firstRefusal ?? RocketMQError(.brokerError, "\(broker): \(response.remark ?? "no connections")", responseCode: response.code)
                continue
            }
            let connection: ConsumerConnection
            do { connection = try ConsumerConnection(buffer: body) } catch {
                throw RocketMQError(.brokerError, "\(broker): undecodable connection list: \(error)")
            }
            var subscriptions: [String: String] = [:]
            for (topic, data) in connection.subscriptionTable { subscriptions[core.unwrap(topic)] = data.subString }
            return GroupConnections(
                group: group,
                clients: connection.connectionSet.map {
                    ConsumerClient(
                        clientID: $0.clientId ?? "", address: $0.clientAddr ?? "", language: $0.language?.name ?? "UNKNOWN",
                        version: MQVersion(rawValue: $0.version))
                }.sorted { $0.clientID < $1.clientID },
                subscriptions: subscriptions, consumeType: connection.consumeType?.rawValue,
                messageModel: connection.messageModel?.rawValue, consumeFromWhere: connection.consumeFromWhere?.rawValue)
        }
        throw firstRefusal ?? RocketMQError(.brokerError, "no broker knows the consumer group \(group)")
    }

    // MARK: - Topics

    /// Every topic the name server knows (GET_ALL_TOPIC_LIST_FROM_NAMESERVER), sorted; with a namespace, only that
    /// namespace's topics, without it.
    public func topics() async throws -> [String] {
        let response = try await core.invokeNameServer(.request(.getAllTopicListFromNameServer, extFields: nil))
        guard response.responseCode == .success, let body = response.body else {
            throw RocketMQError(.brokerError, response.remark ?? "topic list failed", responseCode: response.code)
        }
        let list: TopicList
        do { list = try TopicList(buffer: body) } catch {
            throw RocketMQError(.brokerError, "undecodable topic list: \(error)")
        }
        let names = list.topicList.filter { core.configuration.namespace == nil || core.wrap(core.unwrap($0)) == $0 }
        return names.map(core.configuration.unwrap).sorted()
    }

    /// Min and max offsets and last update time of every queue of `topic` (GET_TOPIC_STATS_INFO on each of its
    /// brokers, as `mqadmin topicStatus`).
    public func stats(topic: String) async throws -> [QueueStats] {
        let wrapped = core.wrap(topic)
        var result: [QueueStats] = []
        for (broker, address) in try await brokersOf(wrapped) {
            let response = try await ask(.request(.getTopicStatsInfo, extFields: GetTopicStatsInfoRequestHeader(topic: wrapped).fields), address)
            guard response.responseCode == .success, let body = response.body else {
                throw RocketMQError(.brokerError, "\(broker): \(response.remark ?? "no topic stats")", responseCode: response.code)
            }
            let table: TopicStatsTable
            do { table = try TopicStatsTable(buffer: body) } catch {
                throw RocketMQError(.brokerError, "\(broker): undecodable topic stats: \(error)")
            }
            for (queue, offsets) in table.offsetTable {
                result.append(QueueStats(
                    queue: MessageQueue(topic: topic, brokerName: queue.brokerName, queueId: queue.queueId),
                    minOffset: offsets.minOffset, maxOffset: offsets.maxOffset, lastUpdateTimestamp: offsets.lastUpdateTimestamp))
            }
        }
        return result.sorted { ($0.queue.brokerName, $0.queue.queueId) < ($1.queue.brokerName, $1.queue.queueId) }
    }

    // MARK: - Helpers

    /// Broker name and master address of every broker serving `topic` (namespaced), sorted by name.
    private func brokersOf(_ topic: String) async throws -> [(String, String)] {
        let route: TopicRouteData?
        do { route = try await core.fetchRoute(topic) } catch { throw Producer.map(error) }
        guard let route else { throw RocketMQError(.topicNotFound, "no route for topic \(core.unwrap(topic))") }
        // The master, else any slave (Java's BrokerData.selectBrokerAddr).
        return route.brokerDatas.compactMap { b in
            (b.brokerAddrs[0] ?? b.brokerAddrs.sorted { $0.key < $1.key }.first?.value).map { (b.brokerName, $0) }
        }.sorted { $0.0 < $1.0 }
    }

    /// The brokers that may know `group` (namespaced): those of its retry topic's route, as Java asks; every broker
    /// of the cluster when that topic has no route yet.
    private func groupBrokers(_ group: String) async throws -> [(String, String)] {
        if let retry = try? await brokersOf("%RETRY%" + group), !retry.isEmpty { return retry }
        return try await brokerAddresses().sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    private func ask(_ request: RemotingCommand, _ address: String, timeout: Duration? = nil) async throws -> RemotingCommand {
        do {
            return try await core.invoke(request, address: address, timeout: timeout ?? core.configuration.requestTimeout)
        } catch {
            throw Producer.map(error)
        }
    }
}
