import RocketMQWire

/// Which queue a send goes to: the topic's publish queues (from its route, or TBW102's while the name server does
/// not know it), round robin per topic, skipping brokers that just failed or are isolated or draining.
extension Producer {
    /// Publish queues of `topic`: from its route, or TBW102's when the name server does not know it yet.
    private func publishQueues(_ topic: String) async throws -> [MessageQueue] {
        do {
            if let info = try await core.routeInfo(topic), !info.publishQueues.isEmpty { return info.publishQueues }
            // Unknown topic: send through TBW102's brokers; they auto-create it (if allowed).
            if let info = try await core.routeInfo("TBW102") {
                var queues: [MessageQueue] = []
                for q in info.route.queueDatas.sorted(by: { JavaStringOrder.compare($0.brokerName, $1.brokerName) < 0 })
                where q.perm & 2 != 0 {
                    let n = min(configuration.defaultTopicQueueNums, q.readQueueNums)
                    for id in 0..<max(0, n) { queues.append(MessageQueue(topic: topic, brokerName: q.brokerName, queueId: id)) }
                }
                if !queues.isEmpty { return queues }
            }
        } catch {
            throw Self.map(error)
        }
        throw RocketMQError(.topicNotFound, "no route for topic \(topic) (and no TBW102 route to auto-create it)")
    }

    func pickQueue(topic: String, avoiding lastBroker: String?, selector: (@Sendable ([MessageQueue]) -> MessageQueue?)?) async throws -> MessageQueue {
        // A cached route needs no suspension point (each async call below would allocate a frame on every send).
        if let cached = core.cachedRoute(topic)?.publishQueues, !cached.isEmpty {
            return try pickQueue(topic: topic, from: cached, avoiding: lastBroker, selector: selector)
        }
        return try pickQueue(topic: topic, from: try await publishQueues(topic), avoiding: lastBroker, selector: selector)
    }

    private func pickQueue(
        topic: String, from queues: [MessageQueue], avoiding lastBroker: String?,
        selector: (@Sendable ([MessageQueue]) -> MessageQueue?)?
    ) throws -> MessageQueue {
        if let selector {
            guard let q = selector(queues) else { throw RocketMQError(.invalidArgument, "the queue selector chose no queue") }
            return q
        }
        func advance(_ index: inout Int) -> Int {
            defer { index &+= 1 }
            return index & Int.max
        }
        // Read and advanced in place: one look-up.
        let start = state.withLock { advance(&$0.topicIndex[topic, default: Int.random(in: 0..<1_000)]) }
        // Round robin, preferring brokers that are available and not the one that just failed.
        var fallback: MessageQueue?
        // Availability asked once per broker (the last two brokers remembered: queues alternate between them).
        var checked: (broker: String, available: Bool)?
        var checkedBefore: (broker: String, available: Bool)?
        for step in 0..<queues.count {
            let q = queues[(start + step) % queues.count]
            if q.brokerName == lastBroker && queues.contains(where: { $0.brokerName != lastBroker }) { continue }
            guard configuration.latencyFaultTolerance else { return q }
            if checked?.broker != q.brokerName {
                if checkedBefore?.broker == q.brokerName {
                    swap(&checked, &checkedBefore)
                } else {
                    checkedBefore = checked
                    checked = (q.brokerName, core.isBrokerAvailable(q.brokerName))
                }
            }
            if checked?.available == true { return q }
            if fallback == nil { fallback = q }
        }
        return fallback ?? queues[start % queues.count]
    }
}
