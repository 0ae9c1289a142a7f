import NIOCore

/// A typed header that writes its fields straight into a frame: the bytes ``RemotingFrame`` would write for
/// ``fields``, without making a `String` of every value first (the hot send path).
protocol DirectlyEncodedHeader: Sendable {
    /// The same fields as entries (read when anyone looks at or changes the fields).
    var fields: ExtFields { get }
    /// About how many bytes the JSON members take (to size buffers once).
    var estimatedJSONByteCount: Int { get }
    /// Writes the members of the JSON `extFields` object, without braces, in Java `HashMap` order.
    func writeJSONMembers(into writer: inout FrameJSONWriter)
    /// The order ROCKETMQ binary encoding writes ``fields`` in.
    var binaryOrder: ExtFields.Order { get }
}

/// The hot paths' ``DirectlyEncodedHeader``s, called without dynamic dispatch. Boxed (`indirect`): inline, the
/// largest would make every ``ExtFields`` and ``RemotingCommand`` — requests and responses alike — several hundred
/// bytes to copy at each step (measured: more instructions per send than the box's allocation costs).
enum DirectHeader: Sendable {
    indirect case sendV2(SendMessageRequestHeader.V2Encoding)
    indirect case sendResponse(SendMessageResponseHeader.BrokerResponseEncoding)

    var fields: ExtFields {
        switch self {
        case .sendV2(let h): return h.fields
        case .sendResponse(let h): return h.fields
        }
    }

    var estimatedJSONByteCount: Int {
        switch self {
        case .sendV2(let h): return h.estimatedJSONByteCount
        case .sendResponse(let h): return h.estimatedJSONByteCount
        }
    }

    func writeJSONMembers(into writer: inout FrameJSONWriter) {
        switch self {
        case .sendV2(let h): h.writeJSONMembers(into: &writer)
        case .sendResponse(let h): h.writeJSONMembers(into: &writer)
        }
    }

    var binaryOrder: ExtFields.Order {
        switch self {
        case .sendV2(let h): return h.binaryOrder
        case .sendResponse(let h): return h.binaryOrder
        }
    }
}

/// A command's custom header fields (`extFields`): string keys to string values, in insertion order.
///
/// Small (rarely more than 15 entries), so lookups are a linear scan. Setting an existing key replaces its value in
/// place; decoding a map that repeats a key keeps the last value (Java's behaviour). Equality ignores order.
///
/// Fields made by a typed header on a hot path (``SendMessageRequestHeader/v2Fields``) keep the header itself and
/// are written into the frame from it; reading or changing them makes the entries first. Fields decoded from a JSON
/// frame keep the (validated) JSON object's bytes: hot headers read their members straight from them in one pass, a
/// lookup by key scans them, and a change makes the entries first.
public struct ExtFields: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// How encoders order the entries on the wire.
    public enum Order: Sendable, Hashable {
        /// Java `HashMap` iteration order (what Java writes for ordinary headers, and in every JSON header).
        case javaHashMap
        /// Insertion order (what Java's `FastCodesHeader` classes write in ROCKETMQ binary headers).
        case insertion
    }

    private var storedEntries: [(key: String, value: String)]
    /// A bit per (length, first byte) class of the stored keys: a key whose bit is clear is new, so setting it needs
    /// no scan (decoding and encoding a header set a dozen keys; the scans were quadratic).
    private var keySignatures: UInt64 = 0
    /// The header these fields come from, until someone changes them.
    private(set) var direct: DirectHeader?
    /// The JSON object (braces included) these fields were decoded from, until someone changes them.
    private(set) var json: ByteBuffer?

    /// The entries in insertion order.
    public var entries: [(key: String, value: String)] {
        if let direct { return direct.fields.storedEntries }
        if let json { return Self.decoding(json: json).storedEntries }
        return storedEntries
    }
    /// The order ROCKETMQ binary encoding uses; JSON always uses Java `HashMap` order.
    public var binaryOrder: Order = .javaHashMap
    /// The initial table size of the Java `HashMap` being emulated: 16 when only header fields were set, 256 when
    /// Java added fields with `addExtField` first (that call allocates `HashMap(256)`).
    public var javaInitialCapacity: Int = 16

    /// Creates an empty set of fields.
    public init() { storedEntries = [] }

    /// Creates fields from ordered pairs; later duplicates overwrite earlier ones.
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, String) {
        storedEntries = []
        for (k, v) in pairs { self[k] = v }
    }

    /// Fields that `header` writes into the frame itself.
    init(direct header: DirectHeader) {
        storedEntries = []
        direct = header
        binaryOrder = header.binaryOrder
    }

    /// Fields backed by `json`, a JSON object that ``RemotingFrame`` has validated (string or number keys, scalar or
    /// `null` values).
    init(json: ByteBuffer) {
        storedEntries = []
        self.json = json
    }

    /// Turns header- or JSON-backed fields into plain entries before a change.
    private mutating func materialize() {
        let fields: ExtFields
        if let header = direct {
            fields = header.fields
        } else if let json {
            fields = Self.decoding(json: json)
        } else {
            return
        }
        storedEntries = fields.storedEntries
        keySignatures = fields.keySignatures
        direct = nil
        json = nil
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
            if let json { return Self.value(of: key, in: json) }
            if direct == nil && keySignatures & Self.signature(of: key) == 0 { return nil }
            for e in entries where e.key == key { return e.value }
            return nil
        }
        set {
            materialize()
            let signature = Self.signature(of: key)
            if keySignatures & signature != 0, let i = storedEntries.firstIndex(where: { $0.key == key }) {
                if let newValue { storedEntries[i].value = newValue } else { storedEntries.remove(at: i) }
            } else if let newValue {
                // Headers have a dozen fields or so: one allocation instead of growing 1, 2, 4, 8, 16.
                if storedEntries.capacity == 0 { storedEntries.reserveCapacity(16) }
                storedEntries.append((key, newValue))
                keySignatures |= signature
            }
        }
    }

    private static func signature(of key: String) -> UInt64 {
        let utf8 = key.utf8
        return 1 << UInt64(truncatingIfNeeded: (utf8.count &+ Int(utf8.first ?? 0) &* 7) & 63)
    }

    /// The entries as a dictionary.
    public var dictionary: [String: String] {
        var d: [String: String] = [:]
        for e in entries { d[e.key] = e.value }
        return d
    }

    /// About how many bytes the entries take as a JSON object (to size buffers once).
    public var estimatedJSONByteCount: Int {
        if let direct { return direct.estimatedJSONByteCount }
        if let json { return json.readableBytes }
        return storedEntries.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 }
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
        if let direct {
            try direct.fields.forEachInJavaHashMapOrder(body)
            return
        }
        if let json {
            var fields = Self.decoding(json: json)
            fields.javaInitialCapacity = javaInitialCapacity
            try fields.forEachInJavaHashMapOrder(body)
            return
        }
        let entries = storedEntries
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
