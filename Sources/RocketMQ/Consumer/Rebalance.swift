import Logging
import RocketMQRemoting
import RocketMQWire

extension PushConsumer {
    /// One serial rebalance loop: at once on start, then on every signal (coalesced) and every `rebalanceInterval`.
    func rebalanceLoop() async {
        await core.rebalanceLoop(
            every: configuration.rebalanceInterval, signals: rebalanceSignals, request: { self.rebalanceNow() },
            isStopping: { self.isStopping }
        ) {
            let began = ContinuousClock.now
            self.state.withLock { $0.roundIncomplete = false }
            await self.rebalanceAll()
            let took = ContinuousClock.now - began
            let incomplete = self.state.withLock { s in
                s.rebalanceRounds += 1
                s.longestRebalanceRound = max(s.longestRebalanceRound, took)
                return s.roundIncomplete
            }
            // A route, member list or start offset that could not be had leaves queues unowned: try again soon rather
            // than at the next signal or tick.
            return incomplete ? .milliseconds(300) : nil
        }
    }

    /// Rebalances every subscribed topic; returns whether this member's queues changed.
    @discardableResult
    func rebalanceAll() async -> Bool {
        let subscriptions = state.withLock { $0.subscriptions }
        var changed = false
        for (topic, _) in subscriptions.sorted(by: { $0.key < $1.key }) {
            if await rebalance(topic: topic) { changed = true }
        }
        // Release queues of topics no longer subscribed.
        let stale = state.withLock { s in s.processQueues.keys.filter { s.subscriptions[$0.topic] == nil } }
        if !stale.isEmpty {
            await release(stale)
            changed = true
        }
        if changed {
            state.withLock { $0.rebalances += 1 }
            metrics.rebalances.increment()
            logger.info("rebalanced", metadata: ["queues": "\(ownedQueues.map { "\($0.topic)@\($0.brokerName):\($0.queueId)" })"])
        }
        return changed
    }

    private func rebalance(topic: String) async -> Bool {
        let info: TopicRouteInfo?
        do { info = try await core.updateRoute(topic) } catch {
            logger.debug("rebalance: no route", metadata: ["topic": "\(topic)", "error": "\(error)"])
            state.withLock { $0.roundIncomplete = true }
            return false
        }
        let all = info?.subscribeQueues ?? []
        guard let mine = await allocation(topic: topic, queues: all) else {
            state.withLock { $0.roundIncomplete = true }
            return false
        }
        return await apply(topic: topic, allocated: mine, queues: all)
    }

    /// This member's share of `queues` now; nil when the group's members could not be learned or allocation failed.
    private func allocation(topic: String, queues all: [MessageQueue]) async -> Set<MessageQueue>? {
        switch configuration.messageModel {
        case .broadcasting:
            return Set(all)
        case .clustering:
            guard !all.isEmpty else { return [] }
            guard let members = await core.consumerIDs(group: group, queues: all) else { return nil }
            do {
                return Set(try configuration.allocationStrategy.allocate(
                    consumerGroup: group, currentClientID: core.clientID, queues: all,
                    clientIDs: JavaStringOrder.sorted(members)))
            } catch {
                logger.warning("allocation failed", metadata: ["topic": "\(topic)", "error": "\(error)"])
                return nil
            }
        }
    }

    /// Drops queues no longer allocated, adds new ones; returns whether anything changed.
    private func apply(topic: String, allocated: Set<MessageQueue>, queues all: [MessageQueue]) async -> Bool {
        let (current, routeBefore) = state.withLock { s in
            defer { s.routeQueues[topic] = Set(all) }
            return (Set(s.processQueues.keys.filter { $0.topic == topic }), s.routeQueues[topic])
        }
        let removed = Array(current.subtracting(allocated))
        let added = Array(allocated.subtracting(current)).sorted()
        let clock = ContinuousClock()
        let takeoverWaitEnds = clock.now + .milliseconds(200)
        if !removed.isEmpty { await release(removed) }
        // Queues that were not in the route this member last saw (a broker that came back) had no owner to wait for
        // (a member that took one meanwhile acted on the same route and group, so it holds its own share): start them
        // at once. Queues taken over from another member wait for it below.
        let fresh = routeBefore.map { before in added.filter { !before.contains($0) } } ?? []
        var takenOver = added.filter { !fresh.contains($0) }
        var started = await start(fresh)
        if !takenOver.isEmpty && !current.isEmpty && configuration.messageModel == .clustering {
            // Queues taken over from another member: give it a moment to finish and commit them (it releases them
            // in the same round), so this member starts from its final offset instead of redelivering. Then ask
            // again: a member that only lost its connection for a moment (and so vanished from the group) has
            // re-registered by now, and keeps its queues. This member's own releases above count toward the wait.
            try? await Task.sleep(until: takeoverWaitEnds, clock: clock)
            if let again = await allocation(topic: topic, queues: all), again != allocated {
                takenOver = takenOver.filter { again.contains($0) }
                rebalanceNow()  // the group changed while waiting: one more round settles the rest
            }
        }
        started += await start(takenOver)
        return !removed.isEmpty || started > 0
    }

    /// Starts pulling (and, orderly, consuming once locked) newly allocated `queues`; returns how many started.
    private func start(_ queues: [MessageQueue]) async -> Int {
        guard !queues.isEmpty else { return 0 }
        var queues = queues
        var lockedAt: Int64 = 0
        if configuration.orderly {
            lockedAt = ClientCore.nowMillis()
            let locked = await lock(queues)
            if locked.count < queues.count {
                // The previous owner still holds some (it unlocks them in its own rebalance): try again shortly
                // rather than at the next periodic rebalance (Java's `rebalanceLater(500)`).
                core.tasks.spawn { [weak self] in
                    try? await Task.sleep(for: .milliseconds(500))
                    self?.rebalanceNow()
                }
            }
            queues = locked
        }
        var started = 0
        // Where each new queue starts, asked of the brokers at once rather than one queue after another.
        let starts = await core.startOffsets(queues, offsets: offsets, startPoint: configuration.startPoint, logger: logger)
        for queue in queues {
            guard let offset = starts[queue] else {
                state.withLock { $0.roundIncomplete = true }
                continue
            }
            let pq = ProcessQueue(queue: queue, nextOffset: offset)
            if configuration.orderly {
                // Locked just now (the queue was not owned yet, so `lock` had no process queue to mark): pull and
                // consume at once instead of waiting for the periodic re-lock.
                pq.state.withLock { $0.lockedUntil = lockedAt + ProcessQueue.lockLifetimeMillis }
            }
            let begun = state.withLock { s -> Bool in
                guard !s.stopping, s.processQueues[queue] == nil else { return false }
                s.processQueues[queue] = pq
                if configuration.orderly {
                    let (stream, continuation) = AsyncStream.makeStream(of: [ReceivedMessage].self)
                    s.orderlyStreams[queue] = continuation
                    s.tasks[queue] = core.tasks.spawnStoppable { [weak self] in
                        await withDiscardingTaskGroup { g in
                            g.addTask { await self?.pullLoop(pq) }
                            g.addTask { await self?.orderlyLoop(pq, stream) }
                        }
                    }
                } else {
                    s.tasks[queue] = core.tasks.spawnStoppable { [weak self] in await self?.pullLoop(pq) }
                }
                return true
            }
            if begun { started += 1 }
        }
        return started
    }

    /// Stops pulling `queues`, lets handlers already running on them finish (bounded), commits their offsets
    /// synchronously and forgets them (orderly: also unlocks). Finishing and committing before letting go keeps the
    /// new owner from redelivering what this member already handled.
    func release(_ queues: [MessageQueue]) async {
        let dropped = state.withLock { s -> [ProcessQueue] in
            queues.compactMap { q in
                s.tasks.removeValue(forKey: q)?.cancel()
                s.orderlyStreams.removeValue(forKey: q)?.finish()
                return s.processQueues[q]
            }
        }
        for pq in dropped { pq.drop() }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(1)
        while dropped.contains(where: { pq in pq.state.withLock { $0.handling } > 0 }) && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        for pq in dropped { offsets.update(pq.queue, offset: pq.state.withLock { $0.committableOffset }) }
        await offsets.persist(queues, sync: true)
        state.withLock { s in
            for q in queues { s.processQueues.removeValue(forKey: q) }
        }
        for q in queues { offsets.remove(q) }
        if configuration.orderly { await unlock(queues) }
    }

    // MARK: orderly locks

    /// LOCK_BATCH_MQ per broker; returns the queues now held.
    func lock(_ queues: [MessageQueue]) async -> [MessageQueue] {
        var granted: [MessageQueue] = []
        let now = ClientCore.nowMillis()
        for (broker, qs) in Dictionary(grouping: queues, by: \.brokerName) {
            guard let address = core.masterAddress(broker) else { continue }
            let body = LockBatchRequestBody(
                consumerGroup: group, clientId: core.clientID,
                mqSet: qs.map { MessageQueueData(topic: $0.topic, brokerName: $0.brokerName, queueId: $0.queueId) })
            guard let response = try? await core.invoke(
                .request(.lockBatchMQ, extFields: ExtFields(), body: body.encodedBuffer()), address: address, timeout: .seconds(1)),
                response.responseCode == .success, let reply = response.body,
                let locked = try? LockBatchResponseBody(buffer: reply)
            else { continue }
            let ok = Set(locked.lockOKMQSet.map { MessageQueue(topic: $0.topic, brokerName: $0.brokerName, queueId: $0.queueId) })
            granted.append(contentsOf: qs.filter { ok.contains($0) })
        }
        state.withLock { s in
            for q in queues {
                s.processQueues[q]?.state.withLock { $0.lockedUntil = granted.contains(q) ? now + ProcessQueue.lockLifetimeMillis : 0 }
            }
        }
        return granted
    }

    /// UNLOCK_BATCH_MQ (oneway) for `queues`.
    func unlock(_ queues: [MessageQueue]) async {
        for (broker, qs) in Dictionary(grouping: queues, by: \.brokerName) {
            guard let address = core.masterAddress(broker) else { continue }
            let body = UnlockBatchRequestBody(
                consumerGroup: group, clientId: core.clientID,
                mqSet: qs.map { MessageQueueData(topic: $0.topic, brokerName: $0.brokerName, queueId: $0.queueId) })
            try? await core.invokeOneway(
                .request(.unlockBatchMQ, extFields: ExtFields(), body: body.encodedBuffer(), oneway: true), address: address,
                timeout: .seconds(1))
        }
    }

    /// Re-locks owned queues every 20 s (first after 1 s), as Java does.
    func lockLoop() async {
        try? await Task.sleep(for: .seconds(1))
        while !Task.isCancelled && !isStopping {
            let owned = state.withLock { Array($0.processQueues.keys) }
            if !owned.isEmpty { _ = await lock(owned) }
            try? await Task.sleep(for: .seconds(20))
        }
    }

    /// Commits offsets every `offsetCommitInterval` (oneway, like Java).
    func commitLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.offsetCommitInterval) } catch { return }
            await offsets.persist()
        }
    }
}

/// Group membership and queue offsets, shared by the push and the lite pull consumer.
extension ClientCore {
    /// A consumer's serial rebalance loop: makes the brokers know this client (routes, heartbeats), then runs `round`
    /// at once, on every signal (a burst coalesced over 20 ms) and every `interval`, until the signals end, the task
    /// is cancelled or `isStopping()`. A round returning a delay asks for another round after it.
    func rebalanceLoop(
        every interval: Duration, signals: AsyncStream<Void>, request: @escaping @Sendable () -> Void,
        isStopping: () -> Bool, round: () async -> Duration?
    ) async {
        await withDiscardingTaskGroup { group in
            group.addTask { await ClientCore.tick(every: interval, request) }
            // Make the brokers know us before asking them who else is in the group.
            await refreshAllRoutes()
            await heartbeatAll()
            request()
            for await _ in signals {
                if Task.isCancelled || isStopping() { break }
                // Let a burst of notifications (several brokers, several members) collapse into one round.
                try? await Task.sleep(for: .milliseconds(20))
                if let retry = await round() {
                    group.addTask {
                        try? await Task.sleep(for: retry)
                        request()
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// The group's members: the union of what every available broker of the topic reports
    /// (GET_CONSUMER_LIST_BY_GROUP); nil when none answered with a member list.
    ///
    /// Java asks one random broker. A broker that just restarted knows only the members that re-registered so far, and
    /// a member allocating from that partial list takes queues others still own. So every broker is asked, and while
    /// their lists disagree (members are still (re)registering) the answer waits for them to agree, up to 2 s, then
    /// settles for the union.
    func consumerIDs(group: String, queues: [MessageQueue]) async -> [String]? {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(2)
        while true {
            let lists = await memberLists(group: group, queues: queues)
            guard !lists.isEmpty else { return nil }
            let union = Set(lists.joined())
            if lists.allSatisfy({ Set($0) == union }) || clock.now >= deadline { return Array(union) }
            do { try await Task.sleep(for: .milliseconds(100)) } catch { return Array(union) }
        }
    }

    /// The member lists of the group from every available broker of the topic that answered with one.
    private func memberLists(group: String, queues: [MessageQueue]) async -> [[String]] {
        let brokers = Array(Set(queues.map(\.brokerName))).sorted().filter { isBrokerAvailable($0) }
        return await withTaskGroup(of: [String]?.self) { tasks -> [[String]] in
            for broker in brokers {
                guard let address = address(of: broker) else { continue }
                tasks.addTask {
                    var fields = GetConsumerListByGroupRequestHeader(consumerGroup: group).fields
                    fields["bname"] = broker
                    guard let response = try? await self.invoke(
                        .request(.getConsumerListByGroup, extFields: fields), address: address, timeout: self.configuration.requestTimeout),
                        response.responseCode == .success, let body = response.body,
                        let ids = try? ConsumerListBody(buffer: body).consumerIdList, !ids.isEmpty
                    else { return nil }
                    return ids
                }
            }
            var out: [[String]] = []
            for await ids in tasks { if let ids { out.append(ids) } }
            return out
        }
    }

    /// Where each of `queues` starts (``startOffset(_:offsets:startPoint:logger:)``), asked concurrently; a queue
    /// whose broker could not be asked is missing from the result.
    func startOffsets(
        _ queues: [MessageQueue], offsets: OffsetStore, startPoint: ConsumeStartPoint, logger: Logger
    ) async -> [MessageQueue: Int64] {
        await withTaskGroup(of: (MessageQueue, Int64?).self) { group in
            for queue in queues {
                group.addTask { (queue, await self.startOffset(queue, offsets: offsets, startPoint: startPoint, logger: logger)) }
            }
            var out: [MessageQueue: Int64] = [:]
            for await (queue, offset) in group { out[queue] = offset }
            return out
        }
    }

    /// Where a newly owned queue starts: its committed offset, else the start point (Java's `computePullFromWhere`).
    /// nil when the broker could not be asked (the queue is retried at the next rebalance).
    func startOffset(_ queue: MessageQueue, offsets: OffsetStore, startPoint: ConsumeStartPoint, logger: Logger) async -> Int64? {
        do {
            if let committed = try await offsets.read(queue) { return committed }
        } catch {
            logger.debug("cannot read committed offset", metadata: ["queue": "\(queue)", "error": "\(error)"])
            return nil
        }
        if queue.topic.hasPrefix("%RETRY%") { return 0 }
        switch startPoint {
        case .firstOffset:
            return 0
        case .lastOffset:
            return try? await queueOffset(.getMaxOffset, queue: queue, extra: ["committed": "true"])
        case .timestamp(let millis):
            return try? await queueOffset(.searchOffsetByTimestamp, queue: queue, extra: ["timestamp": String(millis), "boundaryType": "LOWER"])
        }
    }

    /// GET_MAX_OFFSET, GET_MIN_OFFSET or SEARCH_OFFSET_BY_TIMESTAMP for one queue, asked of its master.
    func queueOffset(_ code: RequestCode, queue: MessageQueue, extra: [String: String] = [:]) async throws -> Int64 {
        guard let address = masterAddress(queue.brokerName) else {
            throw RocketMQError(.topicNotFound, "no master for \(queue.brokerName)", isRetryable: true)
        }
        var fields: ExtFields = ["topic": queue.topic, "queueId": String(queue.queueId), "bname": queue.brokerName]
        for (k, v) in extra { fields[k] = v }
        let response = try await invoke(.request(code, extFields: fields), address: address, timeout: .seconds(6))
        guard response.responseCode == .success else {
            throw RocketMQError(.brokerError, response.remark ?? "offset query failed", responseCode: response.code, isRetryable: true)
        }
        guard let offset = response.field("offset").flatMap({ Int64($0) }), offset >= 0 else {
            throw RocketMQError(.protocolError, "offset answer for \(queue) has no valid offset")
        }
        return offset
    }
}
