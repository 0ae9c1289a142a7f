import DequeModule

/// The owned queues of a lite pull consumer and the messages pulled for them but not yet polled, as a plain value.
///
/// Pull loops append batches (increasing offsets per queue); `poll` takes them in arrival order. Each queue carries:
/// - the **pull position** (the next offset to pull) and a **generation** that changes on every seek, so a pull that
///   was in flight when the queue was repositioned (or dropped and owned again) is recognised and discarded;
/// - the **consumed offset**: the offset after what `poll` returned (or where it was sought to), which is what a
///   commit writes; nil until something was polled or sought, so a commit never writes an offset nobody consumed;
/// - how much is buffered, for flow control.
struct LitePullBuffer: Sendable {
    /// One queue's bookkeeping.
    struct QueueState: Sendable, Hashable {
        var generation: Int
        var nextPullOffset: Int64
        var consumedOffset: Int64?
        var bufferedCount = 0
        var bufferedBytes = 0
    }

    /// The messages of one pull.
    struct Batch: Sendable {
        var queue: MessageQueue
        var generation: Int
        var messages: [ReceivedMessage]
        var bytes: Int
        /// The pull's next offset: everything below it was pulled (and filtered, or is in this or an earlier batch).
        var nextOffset: Int64
    }

    /// Where and under which generation a queue's next pull starts.
    struct PullPosition: Sendable, Hashable {
        var offset: Int64
        var generation: Int
    }

    private(set) var queues: [MessageQueue: QueueState] = [:]
    private var batches: Deque<Batch> = []
    /// Buffered messages across all queues.
    private(set) var totalCount = 0
    private var lastGeneration = 0

    /// Whether `poll` would get something now.
    var hasBatches: Bool { !batches.isEmpty }

    func contains(_ queue: MessageQueue) -> Bool { queues[queue] != nil }

    private mutating func newGeneration() -> Int {
        lastGeneration += 1
        return lastGeneration
    }

    /// Starts owning `queue` at `offset`; false when it is owned already.
    @discardableResult
    mutating func add(_ queue: MessageQueue, offset: Int64) -> Bool {
        guard queues[queue] == nil else { return false }
        queues[queue] = QueueState(generation: newGeneration(), nextPullOffset: offset)
        return true
    }

    /// Stops owning `queue`, discarding what was buffered for it; returns its last state.
    mutating func remove(_ queue: MessageQueue) -> QueueState? {
        guard let state = queues.removeValue(forKey: queue) else { return nil }
        if state.bufferedCount > 0 { purge(queue) }
        return state
    }

    /// Repositions `queue`: buffered messages are discarded, the next pull and the consumed offset become `offset`,
    /// and pulls in flight are disowned. False when the queue is not owned.
    mutating func seek(_ queue: MessageQueue, to offset: Int64) -> Bool {
        guard var state = queues[queue] else { return false }
        if state.bufferedCount > 0 { purge(queue) }
        state.generation = newGeneration()
        state.nextPullOffset = offset
        state.consumedOffset = offset
        state.bufferedCount = 0
        state.bufferedBytes = 0
        queues[queue] = state
        return true
    }

    private mutating func purge(_ queue: MessageQueue) {
        var kept: Deque<Batch> = []
        for batch in batches {
            if batch.queue == queue { totalCount -= batch.messages.count } else { kept.append(batch) }
        }
        batches = kept
    }

    /// The next pull of `queue`, nil when it is not owned.
    func position(_ queue: MessageQueue) -> PullPosition? {
        queues[queue].map { PullPosition(offset: $0.nextPullOffset, generation: $0.generation) }
    }

    /// Whether `queue` should wait before pulling more (Java's `pullThresholdForQueue`, `pullThresholdSizeForQueue`,
    /// `pullThresholdForAll`).
    func isFlowControlled(_ queue: MessageQueue, maxCount: Int, maxBytes: Int, maxTotal: Int) -> Bool {
        guard let state = queues[queue] else { return false }
        return state.bufferedCount >= maxCount || state.bufferedBytes >= maxBytes || totalCount >= maxTotal
    }

    /// The result of a pull started at `generation`: buffers `messages` (may be empty) and moves the pull position
    /// to `nextOffset`. Returns false (and changes nothing) when the queue was dropped or repositioned meanwhile.
    mutating func pulled(_ queue: MessageQueue, generation: Int, messages: [ReceivedMessage], bytes: Int, nextOffset: Int64) -> Bool {
        guard var state = queues[queue], state.generation == generation else { return false }
        state.nextPullOffset = nextOffset
        if messages.isEmpty {
            // Nothing buffered: everything below the new position was polled or filtered out, so the consumed
            // offset may follow the pull position (once anything was consumed at all).
            if state.bufferedCount == 0, let consumed = state.consumedOffset, consumed < nextOffset {
                state.consumedOffset = nextOffset
            }
        } else {
            state.bufferedCount += messages.count
            state.bufferedBytes += bytes
            totalCount += messages.count
            batches.append(Batch(queue: queue, generation: generation, messages: messages, bytes: bytes, nextOffset: nextOffset))
        }
        queues[queue] = state
        return true
    }

    /// The oldest buffered batch; its queue's consumed offset moves past it.
    mutating func take() -> Batch? {
        while let batch = batches.popFirst() {
            totalCount -= batch.messages.count
            guard var state = queues[batch.queue], state.generation == batch.generation else { continue }
            state.bufferedCount -= batch.messages.count
            state.bufferedBytes -= batch.bytes
            // With nothing more buffered, everything below the pull position was polled or filtered out.
            state.consumedOffset = state.bufferedCount == 0 ? max(batch.nextOffset, state.nextPullOffset) : batch.nextOffset
            queues[batch.queue] = state
            return batch
        }
        return nil
    }

    /// The consumed offsets of owned queues that have one.
    var consumedOffsets: [MessageQueue: Int64] {
        queues.compactMapValues { $0.consumedOffset }
    }
}
