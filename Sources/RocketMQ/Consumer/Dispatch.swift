import DequeModule
import RocketMQRemoting
import RocketMQWire
import Synchronization

/// A multi-consumer queue of handler work: pull loops push, a fixed set of workers take.
final class WorkQueue: Sendable {
    struct Item: Sendable {
        var queue: ProcessQueue
        var messages: [ReceivedMessage]
    }

    private struct State {
        var items: Deque<Item> = []
        /// Unsafe continuations (no check object per wait): each is resumed exactly once, by whoever takes it out of
        /// this list under the lock (push, cancellation, finish), or at once when it never entered it.
        var waiters: Deque<UnsafeContinuation<Item?, Never>> = []
        var finished = false
    }

    private let state = Mutex(State())

    func push(_ item: Item) {
        let waiter = state.withLock { s -> UnsafeContinuation<Item?, Never>? in
            guard !s.finished else { return nil }
            if let w = s.waiters.popFirst() { return w }
            s.items.append(item)
            return nil
        }
        waiter?.resume(returning: item)
    }

    /// The next item, or nil once finished (or when the waiting task is cancelled: workers then stop).
    func next() async -> Item? {
        if Task.isCancelled { return nil }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                let ready = state.withLock { s -> (Item?, Bool) in
                    if let item = s.items.popFirst() { return (item, true) }
                    if s.finished { return (nil, true) }
                    // Cancelled since the check above: the cancellation handler may already have run and found no
                    // waiter to wake, so do not become one (a worker parked here forever kept run() from returning).
                    // The flag is set before the handler runs, and the handler takes this lock, so one of the two
                    // always sees the other.
                    if Task.isCancelled { return (nil, true) }
                    s.waiters.append(continuation)
                    return (nil, false)
                }
                if ready.1 { continuation.resume(returning: ready.0) }
            }
        } onCancel: {
            // Wake every waiter; each re-checks on its next call (a cancelled worker returns nil at once).
            let waiters = state.withLock { s -> Deque<UnsafeContinuation<Item?, Never>> in
                defer { s.waiters.removeAll() }
                return s.waiters
            }
            for w in waiters { w.resume(returning: nil) }
        }
    }

    func finish() {
        let waiters = state.withLock { s -> Deque<UnsafeContinuation<Item?, Never>> in
            s.finished = true
            s.items.removeAll()
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for w in waiters { w.resume(returning: nil) }
    }
}

extension PushConsumer {
    /// Hands pulled messages to the handler workers, the orderly queue loop, or the `messages` stream.
    func dispatch(_ messages: [ReceivedMessage], from pq: ProcessQueue) {
        if configuration.orderly {
            _ = state.withLock { $0.orderlyStreams[pq.queue] }?.yield(messages)
        } else if handler != nil {
            var start = 0
            while start < messages.count {
                let end = min(start + configuration.consumeBatchSize, messages.count)
                work.push(.init(queue: pq, messages: Array(messages[start..<end])))
                start = end
            }
        } else {
            for m in messages { streamContinuation.yield(m) }
        }
    }

    /// A concurrent-mode worker.
    func worker() async {
        while !Task.isCancelled, let item = await work.next() {
            guard !item.queue.isDropped, let handler else { continue }
            state.withLock { $0.inFlight += 1 }
            item.queue.state.withLock { $0.handling += 1 }
            let result = await consume(item.messages) { messages in
                do { return try await handler(messages) } catch {
                    logger.debug("handler threw; retrying later", metadata: ["error": "\(error)"])
                    throw error
                }
            }
            switch result {
            case .success:
                complete(item.messages, from: item.queue)
            case .retryLater:
                await handleFailure(item.messages)
            }
            item.queue.state.withLock { $0.handling -= 1 }
            state.withLock { $0.inFlight -= 1 }
        }
    }

    /// Marks messages handled and moves the committable offset of their queues.
    func complete(_ messages: [ReceivedMessage]) {
        guard let first = messages.first else { return }
        metrics.consumed.increment(by: messages.count)
        // A handler's batch comes from one queue; only redeliveries may mix queues.
        if messages.allSatisfy({ $0.queue == first.queue }) {
            complete(messages, of: first.queue)
        } else {
            for (queue, group) in Dictionary(grouping: messages, by: \.queue) { complete(group, of: queue) }
        }
    }

    /// Marks a handler's batch from `pq` handled: a queue still owned needs no look-up by queue.
    func complete(_ messages: [ReceivedMessage], from pq: ProcessQueue) {
        guard !pq.isDropped, messages.allSatisfy({ $0.queue == pq.queue }) else {
            complete(messages)
            return
        }
        metrics.consumed.increment(by: messages.count)
        complete(messages, in: pq)
    }

    private func complete(_ messages: [ReceivedMessage], of queue: MessageQueue) {
        // A queue being released still records what its last handlers finished (release waits for them and
        // commits); once released, the new owner starts from that committed offset.
        guard let pq = state.withLock({ $0.processQueues[queue] }) else { return }
        complete(messages, in: pq)
    }

    private func complete(_ messages: [ReceivedMessage], in pq: ProcessQueue) {
        let queue = pq.queue
        let committable = pq.state.withLock { s -> Int64 in
            var c = s.committableOffset
            for m in messages { c = s.complete(m.queueOffset) }
            return c
        }
        offsets.update(queue, offset: committable)
    }

    /// A failed delivery: back to the broker's retry topic (clustering), else redelivered locally after 5 s.
    func handleFailure(_ messages: [ReceivedMessage]) async {
        metrics.failed.increment(by: messages.count)
        guard configuration.messageModel == .clustering else {
            complete(messages)  // broadcasting: failures are dropped, as Java does
            return
        }
        var redeliver: [ReceivedMessage] = []
        for m in messages {
            if await sendBack(m, delayLevel: 0) { complete([m]) } else { redeliver.append(m) }
        }
        guard !redeliver.isEmpty else { return }
        // Kept in the process queue (its offset is not committed) and tried again later.
        core.tasks.spawn { [weak self, redeliver] in
            try? await Task.sleep(for: .seconds(5))
            guard let self, !self.isStopping else { return }
            for (queue, group) in Dictionary(grouping: redeliver, by: \.queue) {
                guard let pq = self.state.withLock({ $0.processQueues[queue] }), !pq.isDropped else { continue }
                let again = group.map { m -> ReceivedMessage in
                    var m = m
                    m.reconsumeTimes += 1
                    return m
                }
                self.dispatch(again, from: pq)
            }
        }
    }

    /// CONSUMER_SEND_MSG_BACK; true when the broker took it.
    func sendBack(_ message: ReceivedMessage, delayLevel: Int32) async -> Bool {
        guard let address = core.masterAddress(message.queue.brokerName) else { return false }
        var fields = ConsumerSendMsgBackRequestHeader(
            offset: message.commitLogOffset, group: group, delayLevel: delayLevel, originMsgId: message.messageID,
            originTopic: message.topic, unitMode: false, maxReconsumeTimes: configuration.maxReconsumeTimes
        ).fields
        fields["bname"] = message.queue.brokerName
        do {
            let response = try await core.invoke(.request(.consumerSendMsgBack, extFields: fields), address: address, timeout: .seconds(5))
            return response.responseCode == .success
        } catch {
            logger.debug("send back failed", metadata: ["message": "\(message.messageID)", "error": "\(error)"])
            return false
        }
    }

    /// Orderly mode: one queue's batches, serially, only while its lock is held.
    func orderlyLoop(_ pq: ProcessQueue, _ batches: AsyncStream<[ReceivedMessage]>) async {
        guard let handler else { return }
        for await batch in batches {
            var pending = batch
            while !pending.isEmpty && !pq.isDropped && !Task.isCancelled {
                let chunk = Array(pending.prefix(configuration.consumeBatchSize))
                while pq.state.withLock({ $0.lockedUntil }) < ClientCore.nowMillis() {
                    if pq.isDropped { return }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                state.withLock { $0.inFlight += 1 }
                let result = await consume(chunk, handler)
                state.withLock { $0.inFlight -= 1 }
                switch result {
                case .success:
                    complete(chunk)
                    pending.removeFirst(chunk.count)
                case .retryLater:
                    let times = (chunk.map(\.reconsumeTimes).max() ?? 0) + 1
                    if times >= configuration.maxReconsumeTimes {
                        // Out of retries: to the dead-letter queue, then move on.
                        for m in chunk { _ = await sendBack(m, delayLevel: -1) }
                        complete(chunk)
                        pending.removeFirst(chunk.count)
                    } else {
                        pending = pending.enumerated().map { i, m in
                            var m = m
                            if i < chunk.count { m.reconsumeTimes += 1 }
                            return m
                        }
                        try? await Task.sleep(for: configuration.orderlyRetryDelay)
                    }
                }
            }
        }
    }
}
