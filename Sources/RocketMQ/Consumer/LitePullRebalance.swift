import NIOCore
import RocketMQRemoting
import RocketMQWire

extension LitePullConsumer {
    /// One serial rebalance loop: at once on start, then on every signal (coalesced) and every `rebalanceInterval`.
    /// Subscribe mode allocates each topic's queues among the group (as ``PushConsumer`` does); assign mode owns the
    /// assigned queues. Both start and stop pull tasks to match.
    func rebalanceLoop() async {
        await core.rebalanceLoop(
            every: configuration.rebalanceInterval, signals: rebalanceSignals, request: { self.rebalanceNow() },
            isStopping: { self.isStopped }
        ) {
            // A queue that could not start (its broker did not answer) is tried again soon, not at the next tick.
            await self.rebalanceAll() ? nil : .seconds(1)
        }
    }

    /// Rebalances every subscribed topic (or applies the assignment); returns false when some allocated queue could
    /// not be started.
    @discardableResult
    func rebalanceAll() async -> Bool {
        let (mode, subscriptions, assigned) = state.withLock { ($0.mode, $0.subscriptions, $0.assigned) }
        let topics: Set<String>
        switch mode {
        case .none: return true
        case .subscribe: topics = Set(subscriptions.keys)
        case .assign: topics = Set(assigned.map(\.topic))
        }
        var changed = false
        var complete = true
        for topic in topics.sorted() {
            let mine: Set<MessageQueue>
            if mode == .assign {
                // The route is still needed for broker addresses.
                _ = try? await core.updateRoute(topic)
                mine = assigned.filter { $0.topic == topic }
            } else {
                guard let allocated = await allocate(topic: topic) else { continue }
                mine = allocated
            }
            let outcome = await apply(topic: topic, owned: mine)
            changed = changed || outcome.changed
            complete = complete && outcome.complete
        }
        // Release queues of topics (or assignments) no longer wanted.
        let stale = state.withLock { s in
            s.buffer.queues.keys.filter { q in
                switch s.mode {
                case .assign: return !s.assigned.contains(q)
                case .subscribe, .none: return s.subscriptions[q.topic] == nil
                }
            }
        }
        if !stale.isEmpty {
            await release(stale)
            changed = true
        }
        if changed {
            state.withLock { $0.rebalances += 1 }
            metrics.rebalances.increment()
            logger.info("rebalanced", metadata: ["queues": "\(assignment.map { "\($0.topic)@\($0.brokerName):\($0.queueId)" })"])
        }
        return complete
    }

    /// This member's share of `topic` (nil when the route or the member list is unavailable: keep what is owned).
    private func allocate(topic: String) async -> Set<MessageQueue>? {
        let info: TopicRouteInfo?
        do { info = try await core.updateRoute(topic) } catch {
            logger.debug("rebalance: no route", metadata: ["topic": "\(topic)", "error": "\(error)"])
            return nil
        }
        let all = info?.subscribeQueues ?? []
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

    /// Releases queues no longer owned, starts new ones from their committed offset (else the start point).
    private func apply(topic: String, owned: Set<MessageQueue>) async -> (changed: Bool, complete: Bool) {
        let current = state.withLock { s in Set(s.buffer.queues.keys.filter { $0.topic == topic }) }
        let removed = Array(current.subtracting(owned))
        let added = Array(owned.subtracting(current)).sorted()
        if !removed.isEmpty { await release(removed) }
        var started = 0
        var complete = true
        let starts = await core.startOffsets(added, offsets: offsets, startPoint: configuration.startPoint, logger: logger)
        for queue in added {
            guard let offset = starts[queue] else {
                complete = false
                continue
            }
            let begun = state.withLock { s -> Bool in
                guard !s.stopped, s.buffer.add(queue, offset: offset) else { return false }
                s.tasks[queue] = core.tasks.spawnStoppable { [weak self] in await self?.pullLoop(queue) }
                return true
            }
            if begun { started += 1 }
        }
        return (!removed.isEmpty || started > 0, complete)
    }

    /// Stops pulling `queues`, discards what was buffered for them, commits (what was polled, with `autoCommit`) and
    /// forgets their offsets.
    func release(_ queues: [MessageQueue]) async {
        let dropped = state.withLock { s -> [(MessageQueue, LitePullBuffer.QueueState)] in
            queues.compactMap { q in
                s.tasks.removeValue(forKey: q)?.cancel()
                return s.buffer.remove(q).map { (q, $0) }
            }
        }
        if configuration.autoCommit {
            for (q, last) in dropped {
                if let consumed = last.consumedOffset, offsets.current(q) != consumed {
                    offsets.update(q, offset: consumed, increaseOnly: false)
                }
            }
        }
        await offsets.persist(queues)
        for q in queues { offsets.remove(q) }
    }

    // MARK: pulling

    /// Pulls one owned queue with long polling into the buffer until the queue is dropped, repositioned (a new task
    /// takes over) or the consumer stops. Lite pulls carry their subscription (SUBSCRIPTION flag), so the broker needs
    /// no heartbeat subscription to filter them. Java 5.x sends them as LITE_PULL_MESSAGE (361) with the LITE_PULL bit;
    /// they go here as PULL_MESSAGE (11), which brokers of every version serve the same way, 4.9 included.
    func pullLoop(_ queue: MessageQueue) async {
        var suggestedBroker: Int64 = 0
        while !Task.isCancelled {
            let (position, throttled, subscription) = state.withLock { s -> (LitePullBuffer.PullPosition?, Bool, SubscriptionData?) in
                let throttled = s.buffer.isFlowControlled(
                    queue, maxCount: configuration.pullThresholdForQueue, maxBytes: configuration.pullThresholdSizeForQueue,
                    maxTotal: configuration.pullThresholdForAll)
                let subscription = s.mode == .assign
                    ? SubscriptionData(topic: queue.topic, subString: SubscriptionData.subAll, subVersion: 0)
                    : s.subscriptions[queue.topic]
                return (s.buffer.position(queue), throttled, subscription)
            }
            guard let position, !isStopped else { return }
            if throttled {
                if await pause(.milliseconds(50)) { return }
                continue
            }
            guard let subscription else {
                if await pause(.seconds(1)) { return }
                continue
            }
            guard let address = core.address(of: queue.brokerName, preferring: suggestedBroker) else {
                if await pause(configuration.pullRetryDelay) { return }
                continue
            }
            let flags: PullSysFlag = [.suspend, .subscription]
            let header = PullMessageRequestHeader(
                consumerGroup: group, topic: queue.topic, queueId: queue.queueId, queueOffset: position.offset,
                maxMsgNums: configuration.pullBatchSize, sysFlag: flags.rawValue, commitOffset: 0,
                suspendTimeoutMillis: Producer.millis(configuration.longPollingTimeout), subscription: subscription.subString,
                subVersion: 0, expressionType: subscription.expressionType, maxMsgBytes: 256 * 1024, bname: queue.brokerName)
            let response: RemotingCommand
            do {
                response = try await core.invoke(
                    .request(.pullMessage, extFields: header.fields), address: address, timeout: configuration.pullTimeout)
            } catch {
                if Task.isCancelled { return }
                logger.debug("pull failed", metadata: ["queue": "\(queue)", "broker": "\(address)", "error": "\(error)"])
                if await pause(configuration.pullRetryDelay) { return }
                continue
            }
            if Task.isCancelled { return }
            let responseHeader = try? PullMessageResponseHeader(fields: response.extFields ?? ExtFields())
            suggestedBroker = responseHeader?.suggestWhichBrokerId ?? 0
            let nextBegin = responseHeader?.nextBeginOffset ?? position.offset
            switch response.responseCode {
            case .success:
                let records = MessageRecord.decodeAll(response.body ?? ByteBuffer())
                if let error = records.error {
                    logger.warning("undecodable record in pull body; keeping the decoded ones", metadata: ["queue": "\(queue)", "error": "\(error)"])
                }
                let messages = ReceivedMessage.fromPull(records.records, queue: queue, subscription: subscription, logger: logger)
                let bytes = messages.reduce(0) { $0 + $1.body.readableBytes }
                let accepted = state.withLock {
                    $0.buffer.pulled(queue, generation: position.generation, messages: messages, bytes: bytes, nextOffset: nextBegin)
                }
                guard accepted else { return }  // dropped or repositioned meanwhile
                if !messages.isEmpty {
                    metrics.received.increment(by: messages.count)
                    wakePollers()
                }
            case .pullNotFound, .pullRetryImmediately, .pullOffsetMoved:
                if response.responseCode == .pullOffsetMoved {
                    logger.warning("pull offset moved", metadata: ["queue": "\(queue)", "from": "\(position.offset)", "to": "\(nextBegin)"])
                }
                let accepted = state.withLock {
                    $0.buffer.pulled(queue, generation: position.generation, messages: [], bytes: 0, nextOffset: nextBegin)
                }
                guard accepted else { return }
            case .flowControl:
                if await pause(.milliseconds(20)) { return }
            default:
                logger.debug("pull refused", metadata: ["queue": "\(queue)", "code": "\(response.responseCode)", "remark": "\(response.remark ?? "")"])
                if await pause(configuration.pullRetryDelay) { return }
            }
        }
    }

    /// Sleeps; true when the loop should end (cancelled).
    private func pause(_ duration: Duration) async -> Bool {
        do {
            try await Task.sleep(for: duration)
            return false
        } catch {
            return true
        }
    }
}
