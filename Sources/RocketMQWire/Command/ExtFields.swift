/// A command's custom header fields (`extFields`): string keys to string values, in insertion order.
///
/// Small (rarely more than 15 entries), so lookups are a linear scan. Setting an existing key replaces its value in
/// place; decoding a map that repeats a key keeps the last value (Java's behaviour). Equality ignores order.
public struct ExtFields: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// How encoders order the entries on the wire.
    public enum Order: Sendable, Hashable {
        /// Java `HashMap` iteration order (what Java writes for ordinary headers, and in every JSON header).
        case javaHashMap
        /// Insertion order (what Java's `FastCodesHeader` classes write in ROCKETMQ binary headers).
        case insertion
    }

    /// The entries in insertion order.
    public private(set) var entries: [(key: String, value: String)]
    /// The order ROCKETMQ binary encoding uses; JSON always uses Java `HashMap` order.
    public var binaryOrder: Order = .javaHashMap
    /// The initial table size of the Java `HashMap` being emulated: 16 when only header fields were set, 256 when
    /// Java added fields with `addExtField` first (that call allocates `HashMap(256)`).
    public var javaInitialCapacity: Int = 16

    /// Creates an empty set of fields.
    public init() { entries = [] }

    /// Creates fields from ordered pairs; later duplicates overwrite earlier ones.
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, String) {
        entries = []
        for (k, v) in pairs { self[k] = v }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The number of entries.
    public var count: Int { entries.count }
    /// Whether there are no entries.
    public var isEmpty: Bool { entries.isEmpty }
    /// The keys in insertion order.
    public var keys: [String] { entries.map(\.key) }

    /// Reads or writes a field. Writing `nil` removes it.
    public subscript(key: String) -> String? {
        get {
            for e in entries where e.key == key { return e.value }
            return nil
        }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                // Headers have a dozen fields or so: one allocation instead of growing 1, 2, 4, 8, 16.
                if entries.capacity == 0 { entries.reserveCapacity(16) }
                entries.append((key, newValue))
            }
        }
    }

    /// The entries as a dictionary.
    public var dictionary: [String: String] {
        var d: [String: String] = [:]
        for e in entries { d[e.key] = e.value }
        return d
    }

    /// About how many bytes the entries take as a JSON object (to size buffers once).
    public var estimatedJSONByteCount: Int {
        entries.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 }
    }

    /// The entries in the order Java's `HashMap` would iterate them.
    public var javaHashMapOrdered: [(key: String, value: String)] {
        var ordered: [(key: String, value: String)] = []
        ordered.reserveCapacity(entries.count)
        forEachInJavaHashMapOrder { ordered.append(($0, $1)) }
        return ordered
    }

    /// Calls `body` with each entry in the order Java's `HashMap` would iterate them, without allocating (the hot
    /// path of every JSON header).
    public func forEachInJavaHashMapOrder(_ body: (_ key: String, _ value: String) throws -> Void) rethrows {
        let n = entries.count
        guard n > 0 else { return }
        // Keys are unique here: order by (bucket, insertion index) directly, without the de-duplication
        // `JavaCompat.hashMapOrder` does for arbitrary input. An insertion sort on the stack: n is a dozen or so.
        let capacity = JavaCompat.hashMapCapacity(count: n, initialCapacity: javaInitialCapacity)
        try withUnsafeTemporaryAllocation(of: (bucket: Int, index: Int).self, capacity: n) { order in
            for i in 0..<n {
                let item = (bucket: JavaCompat.bucket(entries[i].key, capacity: capacity), index: i)
                var j = i
                while j > 0 && order[j - 1].bucket > item.bucket {
                    order[j] = order[j - 1]
                    j -= 1
                }
                order[j] = item
            }
            for k in 0..<n {
                let e = entries[order[k].index]
                try body(e.key, e.value)
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> { entries.makeIterator() }

    public static func == (lhs: ExtFields, rhs: ExtFields) -> Bool { lhs.dictionary == rhs.dictionary }

    public func hash(into hasher: inout Hasher) { hasher.combine(dictionary) }

    public var description: String { dictionary.sorted { $0.key < $1.key }.description }
}
