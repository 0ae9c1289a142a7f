/// Java behaviours that show up on the wire and that peers rely on.
public enum JavaCompat {
    /// Java's `String.hashCode()`: `h = 31 * h + unit` over the UTF-16 code units, with 32-bit wrap-around.
    ///
    /// Brokers filter by these hashes of tags (`codeSet` in heartbeat subscriptions, `tagsCode` in the store).
    public static func stringHashCode(_ string: String) -> Int32 {
        // ASCII (all header keys, most tags): UTF-8 bytes are the UTF-16 units, and reading them is cheaper.
        let ascii: Int32?? = string.utf8.withContiguousStorageIfAvailable { bytes -> Int32? in
            var h: Int32 = 0
            for b in bytes {
                guard b < 0x80 else { return nil }
                h = h &* 31 &+ Int32(b)
            }
            return h
        }
        if let ascii, let h = ascii { return h }
        var h: Int32 = 0
        for unit in string.utf16 {
            h = h &* 31 &+ Int32(unit)
        }
        return h
    }

    /// The bucket of `key` in a Java `HashMap` table of `capacity` (a power of two) buckets.
    @inline(__always)
    static func bucket(_ key: String, capacity: Int) -> Int {
        let h = UInt32(bitPattern: stringHashCode(key))
        return Int((h ^ (h >> 16)) & UInt32(capacity - 1))
    }

    /// The table size a Java `HashMap` ends with after `count` insertions from `initialCapacity`.
    @inline(__always)
    static func hashMapCapacity(count: Int, initialCapacity: Int) -> Int {
        var capacity = max(1, initialCapacity)
        while capacity & (capacity - 1) != 0 { capacity += capacity & -capacity }  // round up to a power of two
        while count * 4 > capacity * 3 { capacity *= 2 }  // resized past a 0.75 load factor
        return capacity
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
        let capacity = hashMapCapacity(count: unique.count, initialCapacity: initialCapacity)
        let indexed = unique.enumerated().map { (offset, key) in (bucket: bucket(key, capacity: capacity), order: offset, key: key) }
        return indexed.sorted { ($0.bucket, $0.order) < ($1.bucket, $1.order) }.map(\.key)
    }
}
