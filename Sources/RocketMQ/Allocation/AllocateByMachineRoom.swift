/// Only queues of brokers in the consumer's machine rooms, split into near-equal blocks with the remainder dealt
/// one each (Java's `AllocateMessageQueueByMachineRoom`, `MACHINE_ROOM`).
///
/// A queue is eligible when its broker name splits on `@` into exactly two parts (Java `String.split("@")`, which
/// drops trailing empty parts) and the first part is one of ``consumerIDCs``: `room1@broker-a` is in `room1`;
/// `broker-a` and `room1@x@y` are never eligible. With `m = eligible / c` and `r = eligible % c`, consumer `i`
/// takes eligible queues `i·m ..< i·m + m`, plus queue `i + m·c` when `i < r`.
public struct AllocateByMachineRoom: AllocationStrategy {
    /// The machine rooms this group consumes from (Java's `consumeridcs`).
    public var consumerIDCs: Set<String>

    /// Creates the strategy for the given machine rooms.
    public init(consumerIDCs: Set<String>) {
        self.consumerIDCs = consumerIDCs
    }

    /// `MACHINE_ROOM`.
    public var name: String { "MACHINE_ROOM" }

    /// This client's share of the eligible queues; see the type's description.
    public func allocate(
        consumerGroup: String, currentClientID: String, queues: [MessageQueue], clientIDs: [String]
    ) throws -> [MessageQueue] {
        guard let index = try AllocationCheck.indexOfCurrent(currentClientID, queues: queues, clientIDs: clientIDs)
        else { return [] }
        let eligible = queues.filter { queue in
            let parts = Self.javaSplitAtSign(queue.brokerName)
            guard parts.count == 2 else { return false }
            return consumerIDCs.contains { JavaStringOrder.equals($0, parts[0]) }
        }
        let c = clientIDs.count
        let m = eligible.count / c
        let rem = eligible.count % c
        var result = Array(eligible[(index * m)..<(index * m + m)])
        if rem > index {
            result.append(eligible[index + m * c])
        }
        return result
    }

    /// Java's `s.split("@")`: the parts between `@` code units, trailing empty parts removed; the whole string when
    /// there is no `@`.
    static func javaSplitAtSign(_ s: String) -> [Substring] {
        guard s.utf8.contains(UInt8(ascii: "@")) else { return [Substring(s)] }
        var parts = s.utf8.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false).map {
            Substring($0)
        }
        while let last = parts.last, last.isEmpty { parts.removeLast() }
        return parts
    }
}
