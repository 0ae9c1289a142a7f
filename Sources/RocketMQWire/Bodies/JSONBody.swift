import NIOCore

/// A command body (or part of one) in RocketMQ's fastjson dialect.
///
/// Decoding accepts any key order, missing optional members, unquoted numeric keys and numbers given as strings (as
/// fastjson does). Encoding writes what fastjson writes for the Java bean: keys sorted alphabetically, `null` members
/// omitted, enums by name.
public protocol JSONBody: Sendable {
    /// Decodes from a parsed value; throws `WireError(.malformedJSON, ...)` when the shape is wrong.
    init(json: JSONValue) throws
    /// The value in Java's member order.
    var json: JSONValue { get }
    /// The encoded bytes (by default ``json`` through ``JSONWriter``).
    func encoded() -> [UInt8]
}

extension JSONBody {
    /// Parses and decodes `bytes`.
    public init(bytes: some Collection<UInt8>) throws {
        try self.init(json: try JSONParser.parse(bytes))
    }

    /// Parses and decodes the readable bytes of `buffer` (without moving its reader index).
    public init(buffer: ByteBuffer) throws {
        let value = try buffer.withUnsafeReadableBytes { try JSONParser.parse($0) }
        try self.init(json: value)
    }

    /// ``json`` written by ``JSONWriter``.
    public func encoded() -> [UInt8] {
        JSONWriter.encode(json)
    }

    /// ``encoded()`` in a new buffer.
    public func encodedBuffer() -> ByteBuffer {
        ByteBuffer(bytes: encoded())
    }
}

// MARK: - Reading members

/// Typed access to the members of a JSON object, with fastjson's coercions.
struct JSONObjectReader {
    let members: [JSONValue.Member]
    let what: String

    init(_ value: JSONValue, _ what: String) throws {
        guard case .object(let members) = value else {
            throw WireError(.malformedJSON, "\(what) is not a JSON object")
        }
        self.members = members
        self.what = what
    }

    /// The last member named `key` (fastjson keeps the last of duplicates); `nil` if absent or `null`.
    func value(_ key: String) -> JSONValue? {
        var found: JSONValue?
        for member in members {
            switch member.key {
            case .string(let k) where k == key: found = member.value
            case .number(let k) where k == key: found = member.value
            default: continue
            }
        }
        if case .null? = found { return nil }
        return found
    }

    private func typeError(_ key: String, _ expected: String) -> WireError {
        WireError(.malformedJSON, "\(what).\(key) is not \(expected)")
    }

    func string(_ key: String) throws -> String {
        guard let s = try optionalString(key) else { throw WireError(.malformedJSON, "\(what).\(key) is missing") }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.scalarText else { throw typeError(key, "a string") }
        return s
    }

    func int32(_ key: String, default def: Int32 = 0) throws -> Int32 {
        try optionalInt32(key) ?? def
    }

    func optionalInt32(_ key: String) throws -> Int32? {
        guard let v = value(key) else { return nil }
        guard let n = v.int32Value else { throw typeError(key, "a 32-bit integer") }
        return n
    }

    func int64(_ key: String, default def: Int64 = 0) throws -> Int64 {
        guard let v = value(key) else { return def }
        guard let n = v.int64Value else { throw typeError(key, "a 64-bit integer") }
        return n
    }

    func bool(_ key: String, default def: Bool) throws -> Bool {
        guard let v = value(key) else { return def }
        if let b = v.boolValue { return b }
        if case .number(let n) = v, n == "0" || n == "1" { return n == "1" }
        throw typeError(key, "a boolean")
    }

    /// An array member; absent or `null` reads as empty.
    func array(_ key: String) throws -> [JSONValue] {
        guard let v = value(key) else { return [] }
        guard let a = v.arrayValue else { throw typeError(key, "an array") }
        return a
    }

    func stringArray(_ key: String) throws -> [String] {
        try array(key).map { element in
            guard let s = element.scalarText else { throw typeError(key, "an array of strings") }
            return s
        }
    }

    func int32Array(_ key: String) throws -> [Int32] {
        try array(key).map { element in
            guard let n = element.int32Value else { throw typeError(key, "an array of 32-bit integers") }
            return n
        }
    }

    /// An object member; absent or `null` reads as empty.
    func object(_ key: String) throws -> [JSONValue.Member] {
        guard let v = value(key) else { return [] }
        guard let m = v.objectMembers else { throw typeError(key, "an object") }
        return m
    }
}

// MARK: - Building values

extension JSONValue {
    /// `.string(s)`, or `nil` to omit the member.
    static func optional(_ s: String?) -> JSONValue? { s.map(JSONValue.string) }
}

/// Builds an object from members in order, omitting `nil` values (fastjson skips nulls).
func jsonObject(_ pairs: [(String, JSONValue?)]) -> JSONValue {
    var members: [JSONValue.Member] = []
    members.reserveCapacity(pairs.count)
    for (key, value) in pairs {
        if let value { members.append(.init(key: .string(key), value: value)) }
    }
    return .object(members)
}

// MARK: - Java hash ordering

extension JavaCompat {
    /// The iteration order of a `java.util.HashSet` (or the keys of a `HashMap`) filled with `elements` in this order,
    /// given each element's Java `hashCode()`.
    ///
    /// Equal elements keep their first position. The table starts at `initialCapacity` buckets and doubles past a
    /// 0.75 load factor; elements sharing a bucket keep their insertion order (resizing preserves it). Bins Java would
    /// turn into trees (8+ colliding elements) are not modelled.
    public static func hashOrder<T: Hashable>(
        _ elements: [T], initialCapacity: Int = 16, hashCode: (T) -> Int32
    ) -> [T] {
        var unique: [T] = []
        unique.reserveCapacity(elements.count)
        var seen = Set<T>()
        for e in elements where seen.insert(e).inserted { unique.append(e) }
        guard unique.count > 1 else { return unique }
        var capacity = 1
        while capacity < max(1, initialCapacity) { capacity <<= 1 }
        while Double(unique.count) > Double(capacity) * 0.75 { capacity <<= 1 }
        let mask = UInt32(truncatingIfNeeded: capacity - 1)
        let keyed = unique.enumerated().map { (offset, element) -> (bucket: UInt32, order: Int) in
            let h = UInt32(bitPattern: hashCode(element))
            return ((h ^ (h >> 16)) & mask, offset)
        }
        return keyed.sorted { ($0.bucket, $0.order) < ($1.bucket, $1.order) }.map { unique[$0.order] }
    }

    /// Java's `Long.hashCode()`: the two 32-bit halves XOR-ed.
    public static func longHashCode(_ value: Int64) -> Int32 {
        let bits = UInt64(bitPattern: value)
        return Int32(truncatingIfNeeded: bits ^ (bits >> 32))
    }
}
