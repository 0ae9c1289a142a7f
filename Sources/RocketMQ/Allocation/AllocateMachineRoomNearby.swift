/// Says which machine room a broker and a consumer are deployed in, for ``AllocateMachineRoomNearby`` (Java's
/// `AllocateMachineRoomNearby.MachineRoomResolver`).
public protocol MachineRoomResolver: Sendable {
    /// The machine room of the broker hosting `queue`; `nil` or empty is an error.
    func brokerDeployIn(_ queue: MessageQueue) -> String?
    /// The machine room of the consumer `clientID`; `nil` or empty is an error.
    func consumerDeployIn(_ clientID: String) -> String?
}

/// Consume from brokers in the consumer's own machine room first (Java's `AllocateMachineRoomNearby`,
/// `MACHINE_ROOM_NEARBY-<inner>`).
///
/// Queues and consumers are grouped by room (rooms in Java `String.compareTo` order, as Java's `TreeMap`). The
/// inner strategy splits the queues of the current consumer's room among that room's consumers; then, room by room,
/// the queues of every room that has no consumer are split among all consumers.
public struct AllocateMachineRoomNearby: AllocationStrategy {
    /// The strategy used inside each room.
    public var inner: any AllocationStrategy
    /// Maps brokers and consumers to rooms.
    public var resolver: any MachineRoomResolver

    /// Creates the strategy around an inner one.
    public init(inner: any AllocationStrategy, resolver: any MachineRoomResolver) {
        self.inner = inner
        self.resolver = resolver
    }

    /// `MACHINE_ROOM_NEARBY-` followed by the inner strategy's name.
    public var name: String { "MACHINE_ROOM_NEARBY-" + inner.name }

    /// This client's queues; see the type's description.
    ///
    /// - Throws: ``RocketMQError`` (``RocketMQError/Code/invalidArgument``) for empty inputs, or when the resolver
    ///   gives no room for a queue or a consumer; anything the inner strategy throws.
    public func allocate(
        consumerGroup: String, currentClientID: String, queues: [MessageQueue], clientIDs: [String]
    ) throws -> [MessageQueue] {
        guard try AllocationCheck.indexOfCurrent(currentClientID, queues: queues, clientIDs: clientIDs) != nil
        else { return [] }

        var queuesByRoom = RoomMap<MessageQueue>()
        for queue in queues {
            guard let room = resolver.brokerDeployIn(queue), !room.isEmpty else {
                throw RocketMQError(.invalidArgument, "Machine room is null for mq \(queue)")
            }
            queuesByRoom.append(queue, to: room)
        }
        var consumersByRoom = RoomMap<String>()
        for clientID in clientIDs {
            guard let room = resolver.consumerDeployIn(clientID), !room.isEmpty else {
                throw RocketMQError(.invalidArgument, "Machine room is null for consumer id \(clientID)")
            }
            consumersByRoom.append(clientID, to: room)
        }

        var result: [MessageQueue] = []
        // 1. Queues in the current consumer's room, shared by that room's consumers.
        guard let currentRoom = resolver.consumerDeployIn(currentClientID), !currentRoom.isEmpty else {
            throw RocketMQError(.invalidArgument, "Machine room is null for consumer id \(currentClientID)")
        }
        if let local = queuesByRoom.remove(currentRoom), !local.isEmpty {
            result += try inner.allocate(
                consumerGroup: consumerGroup, currentClientID: currentClientID, queues: local,
                clientIDs: consumersByRoom[currentRoom] ?? [])
        }
        // 2. Queues of rooms without any consumer, shared by everyone.
        for (room, roomQueues) in queuesByRoom.groups where consumersByRoom[room] == nil {
            result += try inner.allocate(
                consumerGroup: consumerGroup, currentClientID: currentClientID, queues: roomQueues,
                clientIDs: clientIDs)
        }
        return result
    }
}

/// A small map from room name to items, kept sorted by Java `String.compareTo` with Java `equals` keys (a `TreeMap`).
private struct RoomMap<Item> {
    private(set) var groups: [(room: String, items: [Item])] = []

    /// The insertion point of `room`, and whether it is already present.
    private func find(_ room: String) -> (index: Int, found: Bool) {
        var low = 0
        var high = groups.count
        while low < high {
            let mid = (low + high) / 2
            let order = JavaStringOrder.compare(groups[mid].room, room)
            if order == 0 { return (mid, true) }
            if order < 0 { low = mid + 1 } else { high = mid }
        }
        return (low, false)
    }

    mutating func append(_ item: Item, to room: String) {
        let (index, found) = find(room)
        if found {
            groups[index].items.append(item)
        } else {
            groups.insert((room, [item]), at: index)
        }
    }

    subscript(room: String) -> [Item]? {
        let (index, found) = find(room)
        return found ? groups[index].items : nil
    }

    mutating func remove(_ room: String) -> [Item]? {
        let (index, found) = find(room)
        return found ? groups.remove(at: index).items : nil
    }
}
