/// A JSON value in the fastjson dialect that RocketMQ's Java side writes.
///
/// Beyond standard JSON the parser accepts what fastjson emits: unquoted numeric object keys (`{0:"a"}`, legacy
/// route data) and object-valued keys (`{{"topic":"T"}:1}`, reset-offset bodies). Numbers keep their source text
/// so 64-bit integers never lose precision. Object members keep their order.
public enum JSONValue: Hashable, Sendable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// A number, as its literal text (e.g. `"-12"`, `"1.5e3"`).
    case number(String)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, members in source order. Keys are usually `.string`, but fastjson may write numbers or objects.
    case object([Member])

    /// One member of a JSON object.
    public struct Member: Hashable, Sendable {
        /// The key: a `.string` in standard JSON; `.number` or `.object` in fastjson's quirks.
        public var key: JSONValue
        /// The value.
        public var value: JSONValue
        /// Creates a member.
        public init(key: JSONValue, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// Looks up an object member whose key is the string (or unquoted number) `key`; `nil` otherwise.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members {
            switch member.key {
            case .string(let k) where k == key: return member.value
            case .number(let k) where k == key: return member.value
            default: continue
            }
        }
        return nil
    }

    /// The members of an object, or `nil`.
    public var objectMembers: [Member]? {
        if case .object(let m) = self { return m }
        return nil
    }

    /// The elements of an array, or `nil`. `null` is treated as an empty array by callers that want that.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The string value, or `nil` for other types.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// A string, or the text of a number or boolean (as fastjson coerces scalars into `Map<String,String>`).
    public var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    /// A 64-bit integer from a number, or from a string holding one.
    public var int64Value: Int64? {
        switch self {
        case .number(let n), .string(let n): return Int64(n)
        default: return nil
        }
    }

    /// A 32-bit integer from a number, or from a string holding one; `nil` when out of range.
    public var int32Value: Int32? {
        int64Value.flatMap { Int32(exactly: $0) }
    }

    /// An `Int` from a number, or from a string holding one.
    public var intValue: Int? {
        int64Value.flatMap { Int(exactly: $0) }
    }

    /// A boolean from `true`/`false` or the strings `"true"`/`"false"`.
    public var boolValue: Bool? {
        switch self {
        case .bool(let b): return b
        case .string(let s): return s == "true" ? true : (s == "false" ? false : nil)
        default: return nil
        }
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension JSONValue {
    /// Builds an object from string keys, in the given order.
    public static func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(pairs.map { Member(key: .string($0.key), value: $0.value) })
    }

    /// Builds an object from `(key, value)` pairs, in the given order.
    public static func object(orderedPairs: [(String, JSONValue)]) -> JSONValue {
        .object(orderedPairs.map { Member(key: .string($0.0), value: $0.1) })
    }

    /// A number value from an integer.
    public static func int<I: BinaryInteger>(_ value: I) -> JSONValue { .number(String(value)) }
}
