import HeapModule
import NIOCore
import RocketMQWire

/// The request table of one connection: pending requests by opaque, their deadlines, the connection's lifecycle.
///
/// A plain value with no I/O: every `mutating` method returns what the channel handler must do (write, fail or
/// succeed promises, schedule the one deadline timer, close). Generic over the promise type so it is unit-tested
/// without an event loop.
///
/// Deadlines live in a min-heap with lazy deletion: completing a request only removes it from the dictionary (O(1));
/// the heap entry becomes stale and is discarded when it reaches the top, or when stale entries outnumber live ones.
/// One event-loop timer is scheduled for the earliest live deadline; it is moved earlier only when a request with an
/// earlier deadline arrives, and otherwise rearmed when it fires.
struct ConnectionStateMachine<Promise> {
    enum State {
        /// Created, not yet connected.
        case idle
        /// Connected.
        case active
        /// Closed or closing: every new request fails with the error.
        case closed(RemotingError)
    }

    struct Pending {
        var promise: Promise
        var deadline: NIODeadline
        var sentAt: NIODeadline
        var sequence: UInt64
    }

    struct DeadlineEntry: Comparable {
        var deadline: NIODeadline
        var sequence: UInt64
        var opaque: Int32

        static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.deadline, lhs.sequence) < (rhs.deadline, rhs.sequence)
        }
    }

    let address: String
    private(set) var state: State = .idle
    /// After a GO_AWAY swap: close once the last pending request completes.
    private(set) var isRetiring = false
    private var pending: [Int32: Pending] = [:]
    private var deadlines = Heap<DeadlineEntry>()
    /// The deadline of the armed timer, if any.
    private(set) var timerDeadline: NIODeadline?
    private var nextSequence: UInt64 = 0

    init(address: String) {
        self.address = address
    }

    var pendingCount: Int { pending.count }
    /// Heap entries, live and stale (for tests of the compaction bound).
    var deadlineEntryCount: Int { deadlines.count }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    mutating func channelActive() {
        if case .idle = state { state = .active }
    }

    // MARK: Requests

    enum SendAction {
        /// Register succeeded: write the request. If `armTimer` is set, (re)arm the timer at that deadline.
        case write(armTimer: NIODeadline?)
        /// Fail the promise at once.
        case fail(Promise, RemotingError)
    }

    mutating func sendRequest(opaque: Int32, promise: Promise, deadline: NIODeadline, now: NIODeadline) -> SendAction {
        if case .closed(let error) = state {
            return .fail(promise, error.with(opaque: opaque))
        }
        guard deadline > now else {
            return .fail(promise, RemotingError(.timeout, address: address, opaque: opaque, "deadline passed before the request was sent"))
        }
        guard pending[opaque] == nil else {
            return .fail(
                promise,
                RemotingError(.invalidRequest(WireError(.invalidHeaderField, "opaque \(opaque) is already pending")),
                    address: address, opaque: opaque, "opaque \(opaque) is already pending on this connection"))
        }
        let sequence = nextSequence
        nextSequence &+= 1
        pending[opaque] = Pending(promise: promise, deadline: deadline, sentAt: now, sequence: sequence)
        deadlines.insert(DeadlineEntry(deadline: deadline, sequence: sequence, opaque: opaque))
        if let armed = timerDeadline, armed <= deadline {
            return .write(armTimer: nil)
        }
        timerDeadline = deadline
        return .write(armTimer: deadline)
    }

    enum CompletionAction {
        /// Complete the promise. `close` is set when a retiring connection just became idle.
        case complete(Promise, sentAt: NIODeadline, close: Bool)
        /// No pending request has this opaque (late, duplicate or unsolicited response): log and drop.
        case unknown
    }

    /// A response arrived for `opaque`.
    mutating func responseReceived(opaque: Int32) -> CompletionAction {
        remove(opaque: opaque)
    }

    /// The caller gave up on `opaque` (task cancelled, or the request could not be encoded).
    mutating func cancel(opaque: Int32) -> CompletionAction {
        remove(opaque: opaque)
    }

    private mutating func remove(opaque: Int32) -> CompletionAction {
        guard let entry = pending.removeValue(forKey: opaque) else { return .unknown }
        compactDeadlinesIfNeeded()
        return .complete(entry.promise, sentAt: entry.sentAt, close: shouldCloseAfterCompletion)
    }

    private var shouldCloseAfterCompletion: Bool {
        guard isRetiring, pending.isEmpty else { return false }
        if case .closed = state { return false }
        return true
    }

    private mutating func compactDeadlinesIfNeeded() {
        if pending.isEmpty {
            if !deadlines.isEmpty { deadlines.removeAll(where: { _ in true }) }
            return
        }
        guard deadlines.count > 2 * pending.count + 1024 else { return }
        let live = pending
        deadlines.removeAll { entry in live[entry.opaque]?.sequence != entry.sequence }
    }

    // MARK: Deadlines

    struct TimerResult {
        /// Requests whose deadline passed: fail each with a timeout.
        var expired: [(opaque: Int32, promise: Promise)] = []
        /// Rearm the timer at this deadline.
        var armTimer: NIODeadline?
        /// A retiring connection just became idle.
        var close = false
        /// The longest time an expired request had been waiting for its response (deadline minus send time).
        var longestWait: TimeAmount = .zero
    }

    /// The armed timer fired at `now`.
    mutating func timerFired(now: NIODeadline) -> TimerResult {
        timerDeadline = nil
        var result = TimerResult()
        while let top = deadlines.min {
            let isLive = pending[top.opaque]?.sequence == top.sequence
            if isLive && top.deadline > now {
                timerDeadline = top.deadline
                result.armTimer = top.deadline
                break
            }
            _ = deadlines.popMin()
            if isLive, let entry = pending.removeValue(forKey: top.opaque) {
                result.expired.append((top.opaque, entry.promise))
                result.longestWait = max(result.longestWait, top.deadline - entry.sentAt)
            }
        }
        result.close = !result.expired.isEmpty && shouldCloseAfterCompletion
        return result
    }

    // MARK: Lifecycle

    /// Stop taking traffic from the connection table; returns whether to close now (nothing pending).
    mutating func retire() -> Bool {
        isRetiring = true
        if case .closed = state { return false }
        return pending.isEmpty
    }

    /// The connection is closing or closed because of `error`: fail everything pending, promptly.
    ///
    /// Only the first call has an effect; later requests fail with the same error.
    mutating func close(error: RemotingError) -> [(opaque: Int32, promise: Promise)] {
        if case .closed = state { return [] }
        state = .closed(error)
        let failed = pending.map { (opaque: $0.key, promise: $0.value.promise) }
        pending = [:]
        deadlines = Heap()
        timerDeadline = nil
        return failed
    }
}
