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

    /// The entries in the order Java's `HashMap` would iterate them.
    public var javaHashMapOrdered: [(key: String, value: String)] {
        // Keys are unique here: sort the entries by (bucket, insertion index) directly (the hot path of every JSON
        // header), without the de-duplication `JavaCompat.hashMapOrder` does for arbitrary input.
        let capacity = JavaCompat.hashMapCapacity(count: entries.count, initialCapacity: javaInitialCapacity)
        var keyed: [(bucket: Int, index: Int)] = []
        keyed.reserveCapacity(entries.count)
        for (i, e) in entries.enumerated() { keyed.append((JavaCompat.bucket(e.key, capacity: capacity), i)) }
        keyed.sort { $0.bucket != $1.bucket ? $0.bucket < $1.bucket : $0.index < $1.index }
        return keyed.map { entries[$0.index] }
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> { entries.makeIterator() }

    public static func == (lhs: ExtFields, rhs: ExtFields) -> Bool { lhs.dictionary == rhs.dictionary }

    public func hash(into hasher: inout Hasher) { hasher.combine(dictionary) }

    public var description: String { dictionary.sorted { $0.key < $1.key }.description }
}
