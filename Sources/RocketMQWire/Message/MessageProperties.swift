import NIOCore

/// A message's properties as the wire carries them: `name \u{1} value \u{2}` per pair (PROTOCOL.md §5.4).
///
/// Entries keep their wire order, duplicates included, so a decoded record re-encodes byte for byte. Reading follows
/// Java's `MessageDecoder.string2messageProperties`: a `\u{2}`-separated segment is kept only if it is at least three
/// characters long and its first `\u{1}` is neither its first nor its last character (empty names and values are
/// dropped), and on duplicate names the last value wins (`subscript`, ``dictionary``). Iteration yields the stored
/// entries in order, duplicates included.
public struct MessageProperties: Hashable, Sendable, Sequence, ExpressibleByDictionaryLiteral,
    CustomStringConvertible
{
    struct Entry: Hashable, Sendable {
        var key: String
        var value: String
    }

    private(set) var entries: [Entry]
    /// Whether an entry may break the format (``validate()`` must look): not for parsed entries, which cannot, nor
    /// for entries checked as they were set.
    private var mayBeMalformed = false

    /// No properties.
    public init() { entries = [] }

    /// The given pairs, in order (duplicates kept; the last one wins on lookup).
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, String) {
        entries = pairs.map { Entry(key: $0.0, value: $0.1) }
        mayBeMalformed = true
    }

    /// The literal's pairs, in order.
    public init(dictionaryLiteral elements: (String, String)...) {
        entries = elements.map { Entry(key: $0.0, value: $0.1) }
        mayBeMalformed = true
    }

    /// Parses a properties string with Java's rules (malformed segments are skipped, never an error).
    public init(parsing string: String) {
        var string = string
        self = string.withUTF8 { MessageProperties(parsingUTF8: UnsafeRawBufferPointer($0)) }
    }

    /// Parses the UTF-8 bytes of a properties string. Invalid UTF-8 is replaced with U+FFFD, as Java's
    /// `new String(bytes, UTF_8)` does; the separators are ASCII, so splitting bytes equals splitting characters.
    init(parsingUTF8 bytes: UnsafeRawBufferPointer) {
        var entries: [Entry] = []
        // A stored message carries about half a dozen (UNIQ_KEY, WAIT, TAGS, MSG_REGION, TRACE_ON, ...): one
        // allocation for the usual case without counting first.
        entries.reserveCapacity(8)
        Self.forEachSegment(in: bytes) { key, value in
            entries.append(Entry(
                key: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[key]), as: UTF8.self),
                value: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[value]), as: UTF8.self)))
        }
        self.entries = entries
    }

    /// Calls `body` with the key and value ranges of every well-formed `key \u{1} value` segment of a properties
    /// string (segments end at `\u{2}`), in order: Java keeps a segment iff its first `\u{1}` is neither its first
    /// nor its last character (so it has at least 3 characters).
    static func forEachSegment(in bytes: UnsafeRawBufferPointer, _ body: (Range<Int>, Range<Int>) -> Void) {
        let count = bytes.count
        var start = 0
        while start < count {
            var end = start
            var separator = -1
            while end < count {
                let b = bytes[end]
                if b == 0x02 { break }
                if b == 0x01 && separator < 0 { separator = end }
                end += 1
            }
            if separator > start && separator < end - 1 { body(start..<separator, (separator + 1)..<end) }
            start = end + 1
        }
    }

    /// The number of stored entries (duplicates included).
    public var count: Int { entries.count }

    /// Whether there are no entries.
    public var isEmpty: Bool { entries.isEmpty }

    /// The names in wire order, duplicates included.
    public var keys: [String] { entries.map(\.key) }

    /// Key equality with the length compared first: most keys differ in length, and a length is read in place
    /// where `==` on two long strings takes the general comparison.
    @inline(__always)
    private static func same(_ a: String, _ b: String) -> Bool { a.utf8.count == b.utf8.count && a == b }

    /// The value Java would read for `key` (the last one on duplicates). Setting a value replaces the first entry
    /// with that name in place and drops later duplicates, or appends; setting `nil` removes every entry of the name.
    public subscript(key: String) -> String? {
        get {
            var i = entries.count - 1
            while i >= 0 {
                if Self.same(entries[i].key, key) { return entries[i].value }
                i -= 1
            }
            return nil
        }
        set {
            guard let newValue else {
                entries.removeAll { Self.same($0.key, key) }
                return
            }
            if !mayBeMalformed && !Self.isWellFormed(key: key, value: newValue) { mayBeMalformed = true }
            guard let first = entries.firstIndex(where: { Self.same($0.key, key) }) else {
                // A message carries a handful of properties: one allocation instead of growing 1, 2, 4, 8.
                if entries.capacity == 0 { entries.reserveCapacity(8) }
                entries.append(Entry(key: key, value: newValue))
                return
            }
            entries[first].value = newValue
            if first + 1 < entries.count {
                var i = entries.count - 1
                while i > first {
                    if Self.same(entries[i].key, key) { entries.remove(at: i) }
                    i -= 1
                }
            }
        }
    }

    /// Removes every entry named `key`, returning the value Java would have read.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> String? {
        let old = self[key]
        self[key] = nil
        return old
    }

    /// Appends an entry without looking for an existing one (how the broker appends CLUSTER and the batch's
    /// properties after an inner message's own, PROTOCOL.md §0 item 11).
    public mutating func append(key: String, value: String) {
        if !mayBeMalformed && !Self.isWellFormed(key: key, value: value) { mayBeMalformed = true }
        entries.append(Entry(key: key, value: value))
    }

    /// Java's view: name to value, the last value winning on duplicates.
    public var dictionary: [String: String] {
        var result: [String: String] = [:]
        result.reserveCapacity(entries.count)
        for entry in entries { result[entry.key] = entry.value }
        return result
    }

    /// The wire string: every entry as `name \u{1} value \u{2}`, in order (the last pair is terminated too).
    public var encoded: String {
        let count = encodedByteCount
        guard count > 0 else { return "" }
        // Written in one pass into the string's own storage (no appends, each with its capacity check).
        return String(unsafeUninitializedCapacity: count) { utf8 in
            var writer = RawBytesWriter(UnsafeMutableRawBufferPointer(utf8))
            write(to: &writer)
            return writer.count
        }
    }

    /// The UTF-8 length of ``encoded``.
    public var encodedByteCount: Int {
        entries.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 2 }
    }

    /// Checks that the entries can be written without corrupting the string: names non-empty without `\u{1}` or
    /// `\u{2}`, values without `\u{2}`. (An empty value is written, as Java does, but Java's reader drops it.)
    public func validate() throws {
        guard mayBeMalformed else { return }
        for entry in entries {
            guard !entry.key.isEmpty, !Self.contains(entry.key, separatorsFrom: 0x01) else {
                throw WireError(.unencodable, "property name \(entry.key.debugDescription) is empty or holds a separator")
            }
            guard !Self.contains(entry.value, separatorsFrom: 0x02) else {
                throw WireError(.unencodable, "value of property \(entry.key) holds the \\u0002 separator")
            }
        }
    }

    /// Whether the entry can be written as is (what ``validate()`` checks).
    private static func isWellFormed(key: String, value: String) -> Bool {
        !key.isEmpty && !contains(key, separatorsFrom: 0x01) && !contains(value, separatorsFrom: 0x02)
    }

    /// Entries compare and hash by their content only.
    public static func == (lhs: MessageProperties, rhs: MessageProperties) -> Bool { lhs.entries == rhs.entries }

    public func hash(into hasher: inout Hasher) { hasher.combine(entries) }

    /// Whether `text` holds a byte in `lowest...0x02` (a separator), in one pass over its contiguous UTF-8.
    private static func contains(_ text: String, separatorsFrom lowest: UInt8) -> Bool {
        var text = text
        return text.withUTF8 { utf8 in
            for b in utf8 where b <= 0x02 && b >= lowest { return true }
            return false
        }
    }

    /// Writes ``encoded`` as UTF-8 at the end of `buffer`, returning the byte count.
    @discardableResult
    func write(into buffer: inout ByteBuffer) -> Int {
        let size = encodedByteCount
        buffer.writeExactly(size) { write(to: &$0) }
        return size
    }

    /// Writes ``encoded`` as UTF-8 (``encodedByteCount`` bytes).
    func write(to writer: inout RawBytesWriter) {
        for entry in entries {
            writer.utf8(entry.key)
            writer.integer(UInt8(0x01))
            writer.utf8(entry.value)
            writer.integer(UInt8(0x02))
        }
    }

    /// Iterates the stored entries in wire order, duplicates included.
    public struct Iterator: IteratorProtocol {
        var base: IndexingIterator<[Entry]>
        /// The next `(key, value)` pair.
        public mutating func next() -> (key: String, value: String)? {
            base.next().map { ($0.key, $0.value) }
        }
    }

    /// Iterates the stored entries in wire order, duplicates included.
    public func makeIterator() -> Iterator { Iterator(base: entries.makeIterator()) }

    /// The entries in order, e.g. `["TAGS": "A", "KEYS": "k"]`.
    public var description: String {
        "[" + entries.map { "\($0.key.debugDescription): \($0.value.debugDescription)" }.joined(separator: ", ") + "]"
    }
}

extension MessageProperties {
    /// The value Java's `string2messageProperties` map would hold for `key` in the properties string `bytes`
    /// (UTF-8), found without building the map: the last well-formed segment with that name wins.
    public static func value(forKey key: String, inUTF8 bytes: UnsafeRawBufferPointer) -> String? {
        var key = key
        return key.withUTF8 { name -> String? in
            var found: Range<Int>?
            forEachSegment(in: bytes) { keyRange, valueRange in
                if UnsafeRawBufferPointer(rebasing: bytes[keyRange]).elementsEqual(name) { found = valueRange }
            }
            guard let found else { return nil }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[found]), as: UTF8.self)
        }
    }

    /// Parses the properties bytes at `index..<index+length` of `buffer`.
    init(buffer: ByteBuffer, at index: Int, length: Int) {
        let view = buffer.viewBytes(at: index, length: length)
        if let parsed = view?.withContiguousStorageIfAvailable({ MessageProperties(parsingUTF8: UnsafeRawBufferPointer($0)) }) {
            self = parsed
        } else {
            let bytes = view.map { Array($0) } ?? []
            self = bytes.withUnsafeBytes { MessageProperties(parsingUTF8: $0) }
        }
    }
}
