import DequeModule

/// The state of a message-trace dispatcher: the bounded buffer of records waiting to be sent, how many trace messages
/// are being sent, and the counters. A plain struct, mutated under the dispatcher's lock; its methods say what the
/// dispatcher should do next (wake its loop, send a batch) and never block.
///
/// As Java's `AsyncTraceDispatcher`: a batch leaves when ``batchSize`` records wait, or when the flush interval asks
/// for whatever waits; a full buffer drops what is offered.
struct MessageTraceBuffer {
    /// Records waiting, oldest first.
    private(set) var records: Deque<MessageTraceRecord> = []
    /// The most records ``records`` holds.
    let capacity: Int
    /// Records per batch.
    let batchSize: Int
    /// Batches being sent at once at most.
    let maxInFlight: Int
    /// Batches being sent.
    private(set) var inFlight = 0
    /// The flush interval elapsed: send what waits even if it is less than a batch.
    private(set) var flushRequested = false
    /// The loop was woken and has not looked at the buffer since.
    private var wakePending = false
    /// Shutdown took the buffer: later offers are dropped.
    private(set) var closed = false
    /// Counters.
    var statistics = MessageTraceStatistics()

    init(capacity: Int, batchSize: Int, maxInFlight: Int) {
        self.capacity = max(capacity, 1)
        self.batchSize = max(batchSize, 1)
        self.maxInFlight = max(maxInFlight, 1)
    }

    /// What an offer did.
    struct Offered: Equatable {
        /// Records dropped because the buffer was full (or closed).
        var dropped = 0
        /// Whether the dispatcher's loop should be woken (a batch is ready and a send slot free).
        var wake = false
    }

    /// Buffers `record` if there is room.
    mutating func offer(_ record: MessageTraceRecord) -> Offered {
        statistics.recordsOffered += 1
        guard !closed, records.count < capacity else {
            statistics.recordsDropped += 1
            return Offered(dropped: 1)
        }
        records.append(record)
        return Offered(wake: shouldWake())
    }

    /// Buffers as many of `batch` as there is room for; the rest are dropped.
    mutating func offer(_ batch: [MessageTraceRecord]) -> Offered {
        statistics.recordsOffered += batch.count
        let room = closed ? 0 : max(0, capacity - records.count)
        let taken = min(room, batch.count)
        records.append(contentsOf: batch.prefix(taken))
        let dropped = batch.count - taken
        statistics.recordsDropped += dropped
        return Offered(dropped: dropped, wake: taken > 0 && shouldWake())
    }

    /// Whether an offer now would be dropped.
    var isFull: Bool { closed || records.count >= capacity }

    /// Whether a batch can leave now.
    private var ready: Bool {
        !records.isEmpty && inFlight < maxInFlight && (records.count >= batchSize || flushRequested)
    }

    private mutating func shouldWake() -> Bool {
        guard ready, !wakePending else { return false }
        wakePending = true
        return true
    }

    /// The flush interval elapsed: whatever waits should leave. Returns whether to look for batches now.
    mutating func requestFlush() -> Bool {
        guard !records.isEmpty else { return false }
        flushRequested = true
        return ready
    }

    /// The next batch to send, counted in flight; nil when none should leave now.
    mutating func nextBatch() -> [MessageTraceRecord]? {
        wakePending = false
        guard ready else { return nil }
        let count = min(batchSize, records.count)
        let batch = Array(records.prefix(count))
        records.removeFirst(count)
        if records.isEmpty { flushRequested = false }
        inFlight += 1
        return batch
    }

    /// A batch's send ended: `sent` records reached the broker in `messages` trace messages, `failed` records in
    /// `failedMessages` did not. Returns whether another batch is ready (wake the loop).
    mutating func finished(sent: Int, messages: Int, failed: Int, failedMessages: Int) -> Bool {
        inFlight = max(0, inFlight - 1)
        count(sent: sent, messages: messages, failed: failed, failedMessages: failedMessages)
        return shouldWake()
    }

    /// Counts the outcome of sends (shutdown's, which are not in flight as far as the buffer knows).
    mutating func count(sent: Int, messages: Int, failed: Int, failedMessages: Int) {
        statistics.recordsSent += sent
        statistics.messagesSent += messages
        statistics.recordsFailed += failed
        statistics.messagesFailed += failedMessages
    }

    /// A batch's send was cancelled before it ended (the client is stopping): its unsent records go back to the
    /// front of the buffer for shutdown to send, even past ``capacity`` (they were accepted already; the overshoot is
    /// bounded by the batches in flight). (Call ``finished(sent:messages:failed:failedMessages:)`` for the batch as
    /// well.)
    /// After ``close()`` nothing sends them any more: they count as failed.
    mutating func requeue(_ batch: [MessageTraceRecord]) {
        guard !closed else {
            statistics.recordsFailed += batch.count
            return
        }
        records.insert(contentsOf: batch, at: 0)
    }

    /// Shutdown: every waiting record, in batches; later offers are dropped.
    mutating func close() -> [[MessageTraceRecord]] {
        closed = true
        flushRequested = false
        var batches: [[MessageTraceRecord]] = []
        while !records.isEmpty {
            let count = min(batchSize, records.count)
            batches.append(Array(records.prefix(count)))
            records.removeFirst(count)
        }
        return batches
    }
}
