/// Contiguous, near-equal blocks of queues, the first `n % c` consumers taking one extra (Java's
/// `AllocateMessageQueueAveragely`, `AVG`, the default strategy).
///
/// 8 queues over 3 consumers: `[q0 q1 q2] [q3 q4 q5] [q6 q7]`. With more consumers than queues the last consumers get
/// nothing.
public struct AllocateAveragely: AllocationStrategy {
    /// Creates the strategy.
    public init() {}

    /// `AVG`.
    public var name: String { "AVG" }

    /// The block of queues for `currentClientID`; see the type's description.
    public func allocate(
        consumerGroup: String, currentClientID: String, queues: [MessageQueue], clientIDs: [String]
    ) throws -> [MessageQueue] {
        guard let index = try AllocationCheck.indexOfCurrent(currentClientID, queues: queues, clientIDs: clientIDs)
        else { return [] }
        let n = queues.count
        let c = clientIDs.count
        let mod = n % c
        let takesExtra = mod > 0 && index < mod
        let averageSize = n <= c ? 1 : (takesExtra ? n / c + 1 : n / c)
        let start = takesExtra ? index * averageSize : index * averageSize + mod
        let range = min(averageSize, n - start)
        guard range > 0 else { return [] }
        return Array(queues[start..<(start + range)])
    }
}

/// Queues dealt round-robin: consumer `i` takes every queue `j` with `j % c == i` (Java's
/// `AllocateMessageQueueAveragelyByCircle`, `AVG_BY_CIRCLE`).
public struct AllocateAveragelyByCircle: AllocationStrategy {
    /// Creates the strategy.
    public init() {}

    /// `AVG_BY_CIRCLE`.
    public var name: String { "AVG_BY_CIRCLE" }

    /// Every `c`-th queue starting at this client's index.
    public func allocate(
        consumerGroup: String, currentClientID: String, queues: [MessageQueue], clientIDs: [String]
    ) throws -> [MessageQueue] {
        guard let index = try AllocationCheck.indexOfCurrent(currentClientID, queues: queues, clientIDs: clientIDs)
        else { return [] }
        return stride(from: index, to: queues.count, by: clientIDs.count).map { queues[$0] }
    }
}

/// A fixed list of queues, whoever asks and whatever the group looks like (Java's `AllocateMessageQueueByConfig`,
/// `CONFIG`).
///
/// Like Java it performs no check at all: the configured queues need not exist and every member gets all of them.
public struct AllocateByConfig: AllocationStrategy {
    /// The configured queues, returned as given.
    public var queues: [MessageQueue]

    /// Creates the strategy with the queues to return.
    public init(queues: [MessageQueue]) {
        self.queues = queues
    }

    /// `CONFIG`.
    public var name: String { "CONFIG" }

    /// The configured queues, unchanged.
    public func allocate(
        consumerGroup: String, currentClientID: String, queues: [MessageQueue], clientIDs: [String]
    ) throws -> [MessageQueue] {
        self.queues
    }
}
