/// Decides which queues of a topic one consumer of a group takes (Java's `AllocateMessageQueueStrategy`).
///
/// Every member of a group runs the strategy on the same sorted inputs — queues sorted by ``MessageQueue``'s order,
/// client ids by ``JavaStringOrder`` — and takes only its own share, so the strategy must be deterministic and
/// identical across members. The built-in strategies reproduce the Java client's results exactly, so Swift and Java
/// consumers can share a group.
public protocol AllocationStrategy: Sendable {
    /// The strategy's name as Java's `getName()` reports it (`AVG`, `AVG_BY_CIRCLE`, ...).
    var name: String { get }

    /// The queues `currentClientID` should consume.
    ///
    /// - Parameters:
    ///   - consumerGroup: the group being rebalanced.
    ///   - currentClientID: this client's id.
    ///   - queues: all queues of the topic, sorted.
    ///   - clientIDs: all client ids of the group, sorted.
    /// - Returns: this client's queues, in the order the strategy produces them.
    /// - Throws: the built-in strategies throw ``RocketMQError`` with code ``RocketMQError/Code/invalidArgument``
    ///   for an empty client id, queue list or client list, as Java throws `IllegalArgumentException`.
    func allocate(
        consumerGroup: String, currentClientID: String, queues: [MessageQueue], clientIDs: [String]
    ) throws -> [MessageQueue]
}

/// Java's `AbstractAllocateMessageQueueStrategy.check`.
enum AllocationCheck {
    /// Throws for empty inputs; returns the index of `currentClientID` in `clientIDs` (Java `indexOf`), or `nil` when
    /// it is not a member, in which case the strategy returns no queues.
    static func indexOfCurrent(
        _ currentClientID: String, queues: [MessageQueue], clientIDs: [String]
    ) throws(RocketMQError) -> Int? {
        if currentClientID.isEmpty {
            throw RocketMQError(.invalidArgument, "currentCID is empty")
        }
        if queues.isEmpty {
            throw RocketMQError(.invalidArgument, "mqAll is null or mqAll empty")
        }
        if clientIDs.isEmpty {
            throw RocketMQError(.invalidArgument, "cidAll is null or cidAll empty")
        }
        return JavaStringOrder.firstIndex(of: currentClientID, in: clientIDs)
    }
}
