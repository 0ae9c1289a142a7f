import Crypto

/// Queues placed on a hash ring of the consumers' virtual nodes (Java's `AllocateMessageQueueConsistentHash`,
/// `CONSISTENT_HASH`, with its default MD5 hash).
///
/// The ring holds, for each client id in list order, ``virtualNodes`` keys `"<clientID>-<r>"`, each at the first four
/// bytes of its UTF-8 MD5 read as an unsigned big-endian number; a later key that lands on an occupied position
/// replaces the earlier one (Java `TreeMap.put`). A queue belongs to the node at the smallest position at or after
/// the hash of its ``MessageQueue/description``, wrapping round to the smallest position. Adding or removing a
/// consumer moves only the queues next to its nodes.
public struct AllocateConsistentHash: AllocationStrategy {
    /// Virtual nodes per consumer on the ring.
    public let virtualNodes: Int

    /// The largest accepted ``virtualNodes``: far above any useful value, low enough to keep the ring's memory bounded.
    public static let maxVirtualNodes = 65_536

    /// Creates the strategy with `virtualNodes` ring positions per consumer (Java's default is 10).
    ///
    /// - Throws: ``RocketMQError`` (``RocketMQError/Code/invalidArgument``) when `virtualNodes` is negative, as
    ///   Java's constructor throws `IllegalArgumentException`, or above ``maxVirtualNodes`` (Java has no upper
    ///   limit). Zero is accepted: the ring is then empty and nobody gets any queue, as in Java.
    public init(virtualNodes: Int = 10) throws(RocketMQError) {
        guard virtualNodes >= 0 else {
            throw RocketMQError(.invalidArgument, "illegal virtualNodeCnt :\(virtualNodes)")
        }
        guard virtualNodes <= Self.maxVirtualNodes else {
            throw RocketMQError(
                .invalidArgument, "virtualNodeCnt \(virtualNodes) exceeds the limit of \(Self.maxVirtualNodes)")
        }
        self.virtualNodes = virtualNodes
    }

    /// `CONSISTENT_HASH`.
    public var name: String { "CONSISTENT_HASH" }

    /// The queues whose ring owner is `currentClientID`.
    public func allocate(
        consumerGroup: String, currentClientID: String, queues: [MessageQueue], clientIDs: [String]
    ) throws -> [MessageQueue] {
        guard try AllocationCheck.indexOfCurrent(currentClientID, queues: queues, clientIDs: clientIDs) != nil
        else { return [] }

        // Client ids by exact bytes (Java `equals`), numbered in order of first appearance.
        var idNumbers: [[UInt8]: Int] = [:]
        // Java's router counts the nodes a client already has on the ring and numbers new replicas after them, so
        // a client id listed twice gets replicas r = existing..<existing + virtualNodes.
        var nodesOnRing: [Int] = []
        var ring: [UInt32: Int] = [:]
        ring.reserveCapacity(min(clientIDs.count * virtualNodes, 1 << 16))
        for clientID in clientIDs {
            let bytes = Array(clientID.utf8)
            let number: Int
            if let known = idNumbers[bytes] {
                number = known
            } else {
                number = nodesOnRing.count
                idNumbers[bytes] = number
                nodesOnRing.append(0)
            }
            let existing = nodesOnRing[number]
            for replica in existing..<(existing + virtualNodes) {
                let position = Self.hash(clientID + "-" + String(replica))
                if let previous = ring.updateValue(number, forKey: position) {
                    nodesOnRing[previous] -= 1
                }
                nodesOnRing[number] += 1
            }
        }
        guard let me = idNumbers[Array(currentClientID.utf8)], !ring.isEmpty else { return [] }

        let positions = ring.keys.sorted()
        return queues.filter { queue in
            let h = Self.hash(queue.description)
            // Smallest position >= h (binary search), else wrap to the first.
            var low = 0
            var high = positions.count
            while low < high {
                let mid = (low + high) / 2
                if positions[mid] < h { low = mid + 1 } else { high = mid }
            }
            let position = positions[low < positions.count ? low : 0]
            return ring[position] == me
        }
    }

    /// Java's `MD5Hash.hash`: the first four bytes of MD5(UTF-8 of `key`) as an unsigned big-endian number.
    static func hash(_ key: String) -> UInt32 {
        let digest = Insecure.MD5.hash(data: Array(key.utf8))
        var h: UInt32 = 0
        for byte in digest.prefix(4) {
            h = h << 8 | UInt32(byte)
        }
        return h
    }
}
