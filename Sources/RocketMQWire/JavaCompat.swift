/// Java behaviours that show up on the wire and that peers rely on.
public enum JavaCompat {
    /// Java's `String.hashCode()`: `h = 31 * h + unit` over the UTF-16 code units, with 32-bit wrap-around.
    ///
    /// Brokers filter by these hashes of tags (`codeSet` in heartbeat subscriptions, `tagsCode` in the store).
    public static func stringHashCode(_ string: String) -> Int32 {
        var h: Int32 = 0
        for unit in string.utf16 {
            h = h &* 31 &+ Int32(unit)
        }
        return h
    }

    /// The iteration order of a `java.util.HashMap<String, V>` filled with `keys` in this order.
    ///
    /// Java writes `extFields` (and any other `HashMap`) in bucket order, so reproducing Java's bytes exactly needs
    /// this: the table starts at `initialCapacity` buckets (16 for `new HashMap<>()`, 256 when Java's `addExtField`
    /// created the map) and doubles past a 0.75 load factor; a key's bucket is
    /// `(h ^ (h >>> 16)) & (capacity - 1)`; keys that share a bucket keep their insertion order. Duplicate keys keep
    /// their first position.
    public static func hashMapOrder(_ keys: [String], initialCapacity: Int = 16) -> [String] {
        var unique: [String] = []
        unique.reserveCapacity(keys.count)
        var seen = Set<String>()
        for k in keys where seen.insert(k).inserted { unique.append(k) }
        var capacity = max(1, initialCapacity)
        while capacity & (capacity - 1) != 0 { capacity += capacity & -capacity }  // round up to a power of two
        while Double(unique.count) > Double(capacity) * 0.75 { capacity *= 2 }
        let mask = UInt32(capacity - 1)
        let indexed = unique.enumerated().map { (offset, key) -> (bucket: UInt32, order: Int, key: String) in
            let h = UInt32(bitPattern: stringHashCode(key))
            return ((h ^ (h >> 16)) & mask, offset, key)
        }
        return indexed.sorted { ($0.bucket, $0.order) < ($1.bucket, $1.order) }.map(\.key)
    }
}
