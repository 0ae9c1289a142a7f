import RocketMQWire

/// What a client derives from a topic's route (Java's `topicRouteData2TopicPublishInfo` / `...SubscribeInfo`).
struct TopicRouteInfo: Sendable {
    /// The route as the name server sent it.
    var route: TopicRouteData
    /// Queues producers write: writable queue data whose broker has a master, sorted by broker name.
    var publishQueues: [MessageQueue]
    /// Queues consumers read: every readable queue, sorted (topic, broker name, queue id).
    var subscribeQueues: [MessageQueue]

    init(topic: String, route: TopicRouteData) {
        self.route = route
        let masters = Set(route.brokerDatas.filter { $0.brokerAddrs[0] != nil }.map(\.brokerName))
        var publish: [MessageQueue] = []
        if let conf = route.orderTopicConf, !conf.isEmpty {
            // "brokerA:4;brokerB:4": a fixed queue list for ordered topics.
            for item in conf.split(separator: ";") {
                let parts = item.split(separator: ":")
                guard parts.count == 2, let n = Int32(parts[1]) else { continue }
                for q in 0..<max(0, n) { publish.append(MessageQueue(topic: topic, brokerName: String(parts[0]), queueId: q)) }
            }
        } else {
            for q in route.queueDatas.sorted(by: { JavaStringOrder.compare($0.brokerName, $1.brokerName) < 0 })
            where q.perm & 2 != 0 && masters.contains(q.brokerName) {
                for id in 0..<max(0, q.writeQueueNums) { publish.append(MessageQueue(topic: topic, brokerName: q.brokerName, queueId: id)) }
            }
        }
        publishQueues = publish
        var subscribe: [MessageQueue] = []
        for q in route.queueDatas where q.perm & 4 != 0 {
            for id in 0..<max(0, q.readQueueNums) { subscribe.append(MessageQueue(topic: topic, brokerName: q.brokerName, queueId: id)) }
        }
        subscribeQueues = subscribe.sorted()
    }

    /// The master address of `brokerName`, if the route knows it.
    func masterAddress(of brokerName: String) -> String? {
        route.brokerDatas.first { $0.brokerName == brokerName }?.brokerAddrs[0]
    }
}

extension ClientCore {
    /// Fetches `topic`'s route from the name server; nil when the topic does not exist there.
    func fetchRoute(_ topic: String) async throws -> TopicRouteData? {
        let request = RemotingCommand.request(.getRouteInfoByTopic, extFields: GetRouteInfoRequestHeader(topic: topic).fields)
        let response = try await invokeNameServer(request)
        switch response.responseCode {
        case .success:
            guard let body = response.body else {
                throw RocketMQError(.protocolError, "route response for \(topic) has no body")
            }
            do { return try TopicRouteData(buffer: body) } catch {
                throw RocketMQError(.protocolError, "undecodable route for \(topic): \(error)")
            }
        case .topicNotExist:
            return nil
        default:
            throw RocketMQError(.brokerError, response.remark ?? "route request failed", responseCode: response.code, isRetryable: true)
        }
    }
}
