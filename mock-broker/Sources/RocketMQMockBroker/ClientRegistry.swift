import RocketMQWire

/// Producer and consumer groups a broker knows from heartbeats, per connection (Java's `ProducerManager` and
/// `ConsumerManager`). Not thread-safe: the broker serialises access.
struct ClientRegistry {
    struct Member {
        var connection: MockConnection
        var clientID: String
        var lastHeartbeat: Int64
        /// The language and version of the member's last heartbeat command (Java's `ClientChannelInfo`).
        var language: LanguageCode = .java
        var version: Int32 = 0
    }

    struct ConsumerGroup {
        var members: [Member] = []
        var subscriptions: [String: SubscriptionData] = [:]
        var broadcasting = false
        /// `CONSUME_ACTIVELY`, `CONSUME_PASSIVELY` or `CONSUME_POP`.
        var consumeType: String?
        /// As the last heartbeat gave them (GET_CONSUMER_CONNECTION_LIST).
        var messageModel: MessageModel?
        var consumeFromWhere: ConsumeFromWhere?

        var topics: Set<String> { Set(subscriptions.keys) }
    }

    private(set) var consumers: [String: ConsumerGroup] = [:]
    private(set) var producers: [String: [Member]] = [:]

    /// A heartbeat from `connection`, sent in a command of `language` and `version`. Returns the consumer groups whose
    /// membership or topic set changed (to notify).
    mutating func heartbeat(
        _ data: HeartbeatData, connection: MockConnection, now: Int64, language: LanguageCode = .java, version: Int32 = 0
    ) -> [String] {
        var changed: [String] = []
        for producer in data.producerDataSet {
            var members = producers[producer.groupName, default: []]
            if let i = members.firstIndex(where: { $0.connection == connection }) {
                members[i].lastHeartbeat = now
                members[i].clientID = data.clientID
                members[i].language = language
                members[i].version = version
            } else {
                members.append(Member(
                    connection: connection, clientID: data.clientID, lastHeartbeat: now, language: language, version: version))
            }
            producers[producer.groupName] = members
        }
        for consumer in data.consumerDataSet {
            var group = consumers[consumer.groupName, default: ConsumerGroup()]
            group.broadcasting = consumer.messageModel?.rawValue == "BROADCASTING"
            if let type = consumer.consumeType?.rawValue { group.consumeType = type }
            group.messageModel = consumer.messageModel
            group.consumeFromWhere = consumer.consumeFromWhere
            var groupChanged = false
            if let i = group.members.firstIndex(where: { $0.connection == connection }) {
                group.members[i].lastHeartbeat = now
                group.members[i].clientID = data.clientID
                group.members[i].language = language
                group.members[i].version = version
            } else {
                group.members.append(Member(
                    connection: connection, clientID: data.clientID, lastHeartbeat: now, language: language, version: version))
                groupChanged = true
            }
            if !data.withoutSub {
                let before = group.topics
                var updated: [String: SubscriptionData] = [:]
                for sub in consumer.subscriptionDataSet {
                    if let old = group.subscriptions[sub.topic], old.subVersion > sub.subVersion {
                        updated[sub.topic] = old  // a newer stored subscription wins
                    } else {
                        updated[sub.topic] = sub
                    }
                }
                // Java only removes topics no member subscribes to any more; with one heartbeat per member we keep
                // the union of what live members sent, approximated by replacing with the latest full set.
                group.subscriptions = updated
                if group.topics != before { groupChanged = true }
            }
            consumers[consumer.groupName] = group
            if groupChanged && !group.broadcasting { changed.append(consumer.groupName) }
        }
        return changed
    }

    /// UNREGISTER_CLIENT for one connection. Returns consumer groups to notify.
    mutating func unregister(connection: MockConnection, producerGroup: String?, consumerGroup: String?) -> [String] {
        if let producerGroup {
            producers[producerGroup]?.removeAll { $0.connection == connection }
            if producers[producerGroup]?.isEmpty == true { producers[producerGroup] = nil }
        }
        guard let consumerGroup else { return [] }
        return removeConsumer(connection, from: consumerGroup) ? [consumerGroup] : []
    }

    /// Removes every registration of a closed connection. Returns consumer groups to notify.
    mutating func connectionClosed(_ connection: MockConnection) -> [String] {
        for name in Array(producers.keys) {
            producers[name]?.removeAll { $0.connection == connection }
            if producers[name]?.isEmpty == true { producers[name] = nil }
        }
        return Array(consumers.keys).filter { removeConsumer(connection, from: $0) }
    }

    private mutating func removeConsumer(_ connection: MockConnection, from name: String) -> Bool {
        guard var group = consumers[name], group.members.contains(where: { $0.connection == connection }) else {
            return false
        }
        group.members.removeAll { $0.connection == connection }
        if group.members.isEmpty {
            consumers[name] = nil
            return false
        }
        consumers[name] = group
        return !group.broadcasting
    }

    /// Connections whose last heartbeat is older than `now - timeout`.
    func expired(now: Int64, timeoutMillis: Int64) -> [MockConnection] {
        var result = Set<MockConnection>()
        for group in consumers.values {
            for m in group.members where now - m.lastHeartbeat > timeoutMillis { result.insert(m.connection) }
        }
        for members in producers.values {
            for m in members where now - m.lastHeartbeat > timeoutMillis { result.insert(m.connection) }
        }
        return Array(result)
    }

    /// The client ids of a group, one per registered connection (Java does not de-duplicate).
    func consumerIDs(_ group: String) -> [String] {
        consumers[group]?.members.map(\.clientID) ?? []
    }

    func members(_ group: String) -> [MockConnection] {
        consumers[group]?.members.map(\.connection) ?? []
    }

    func subscription(group: String, topic: String) -> SubscriptionData? {
        consumers[group]?.subscriptions[topic]
    }

    func hasConsumerGroup(_ group: String) -> Bool { consumers[group] != nil }

    /// The consume type a group registered with (heartbeat or POP request).
    func consumeType(_ group: String) -> String? { consumers[group]?.consumeType }

    /// A POP request registers its group as CONSUME_POP / CLUSTERING if unknown (Java's
    /// `compensateBasicConsumerInfo`).
    mutating func compensate(group: String) {
        guard consumers[group] == nil else { return }
        var info = ConsumerGroup()
        info.consumeType = ConsumeType.consumePop.rawValue
        info.messageModel = .clustering
        consumers[group] = info
    }

    /// Rotates ``producerConnection(_:)`` over a group's connections.
    private var producerRoundRobin = 0

    /// A live connection of a producer group (for CHECK_TRANSACTION_STATE), round robin over the group's connections
    /// as Java's `ProducerManager.getAvailableChannel`: the next one that is open and writable, else the last open
    /// one met, else nil.
    mutating func producerConnection(_ group: String) -> MockConnection? {
        guard let members = producers[group], !members.isEmpty else { return nil }
        producerRoundRobin = producerRoundRobin == Int.max ? 0 : producerRoundRobin + 1
        var lastActive: MockConnection?
        for step in 0..<members.count {
            let connection = members[(producerRoundRobin + step) % members.count].connection
            if connection.isWritable { return connection }
            if connection.isActive { lastActive = connection }
        }
        return lastActive
    }

    /// The connection of the client `clientID` registered as a producer (Java's `ProducerManager.findChannel`: every
    /// Java client lists `CLIENT_INNER_PRODUCER`, so this finds consumers' clients too); the most recent heartbeat wins.
    func connection(clientID: String) -> MockConnection? {
        var best: Member?
        for members in producers.values {
            for m in members where m.clientID == clientID && m.connection.isActive {
                if best.map({ m.lastHeartbeat >= $0.lastHeartbeat }) ?? true { best = m }
            }
        }
        return best?.connection
    }
}

/// Queue locks for orderly consumers (Java's `RebalanceLockManager`): a lease per queue, 60 s by default.
struct LockTable {
    struct Lease {
        var clientID: String
        var lastUpdate: Int64
    }

    private var locks: [String: [MessageQueueData: Lease]] = [:]
    var leaseMillis: Int64

    init(leaseMillis: Int64) { self.leaseMillis = leaseMillis }

    /// Locks what is free, expired or already ours; returns the queues now held by `clientID`.
    mutating func lock(group: String, clientID: String, queues: [MessageQueueData], now: Int64) -> [MessageQueueData] {
        var table = locks[group, default: [:]]
        var granted: [MessageQueueData] = []
        for mq in queues {
            if let lease = table[mq], lease.clientID != clientID, now - lease.lastUpdate <= leaseMillis {
                continue
            }
            table[mq] = Lease(clientID: clientID, lastUpdate: now)
            granted.append(mq)
        }
        locks[group] = table
        return granted
    }

    /// Releases the queues held by `clientID`.
    mutating func unlock(group: String, clientID: String, queues: [MessageQueueData]) {
        for mq in queues where locks[group]?[mq]?.clientID == clientID {
            locks[group]?[mq] = nil
        }
    }
}
