import DequeModule
import Synchronization

/// The messages of one owned queue between pull and acknowledgement (Java's `ProcessQueue`), as a plain value.
///
/// Offsets arrive in increasing order. The **committable offset** is the lowest offset not yet handled, or the next
/// offset to pull when nothing is cached — so an offset is never committed past a message still being handled.
struct ProcessQueueState: Sendable {
    struct Entry: Sendable {
        var offset: Int64
        var bytes: Int
        var done: Bool
    }

    private(set) var entries: Deque<Entry> = []
    private(set) var cachedCount = 0
    private(set) var cachedBytes = 0
    /// The next offset to pull.
    var nextOffset: Int64
    /// Whether the queue was dropped (rebalanced away, consumer stopping): nothing more is pulled or committed.
    var dropped = false
    /// Orderly mode: whether this client holds the broker lock, and until when (ms) it trusts it.
    var lockedUntil: Int64 = 0
    /// Handler calls running for this queue's messages.
    var handling = 0

    init(nextOffset: Int64) { self.nextOffset = nextOffset }

    /// Adds pulled messages (increasing offsets) and moves `nextOffset` on.
    mutating func add(offsets: [(offset: Int64, bytes: Int)], nextOffset: Int64) {
        for o in offsets {
            entries.append(Entry(offset: o.offset, bytes: o.bytes, done: false))
            cachedCount += 1
            cachedBytes += o.bytes
        }
        self.nextOffset = nextOffset
    }

    /// Marks `offset` handled; returns the new committable offset.
    @discardableResult
    mutating func complete(_ offset: Int64) -> Int64 {
        if let i = index(of: offset), !entries[i].done {
            entries[i].done = true
            cachedCount -= 1
            cachedBytes -= entries[i].bytes
        }
        while let first = entries.first, first.done { entries.removeFirst() }
        return committableOffset
    }

    /// The lowest offset not yet handled, or `nextOffset` when nothing is cached.
    var committableOffset: Int64 { entries.first?.offset ?? nextOffset }

    /// The offset span of cached messages (flow control for concurrent consumption).
    var span: Int64 {
        guard let first = entries.first, let last = entries.last else { return 0 }
        return last.offset - first.offset
    }

    private func index(of offset: Int64) -> Int? {
        var lo = 0
        var hi = entries.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let o = entries[mid].offset
            if o == offset { return mid }
            if o < offset { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }
}

/// A process queue shared between its pull loop and the handlers.
final class ProcessQueue: Sendable {
    /// How long a broker lock is trusted after it was granted (Java's `REBALANCE_LOCK_MAX_LIVE_TIME`, 30 s).
    static let lockLifetimeMillis: Int64 = 30_000

    let queue: MessageQueue
    let state: Mutex<ProcessQueueState>

    init(queue: MessageQueue, nextOffset: Int64) {
        self.queue = queue
        self.state = Mutex(ProcessQueueState(nextOffset: nextOffset))
    }

    var isDropped: Bool { state.withLock { $0.dropped } }
    func drop() { state.withLock { $0.dropped = true } }
}
