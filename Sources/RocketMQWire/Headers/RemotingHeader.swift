/// A typed custom header (Java's `CommandCustomHeader`): converts to and from a command's ``ExtFields``.
///
/// Java writes every non-null header field as `value.toString()` under the field's name (numbers in decimal,
/// booleans `true`/`false`, enums by name) and parses them back with `Integer.parseInt`, `Long.parseLong` and
/// `Boolean.parseBoolean`. Unknown keys are ignored.
public protocol RemotingHeader: Sendable {
    /// Decodes the header from `fields`.
    ///
    /// A missing required (`@CFNotNull`) field or a number that does not parse throws
    /// `WireError(.invalidHeaderField, "<name> ...")`. Booleans follow Java's `Boolean.parseBoolean`: any text other
    /// than a case-insensitive `true` reads as `false`.
    init(fields: ExtFields) throws

    /// Writes the non-nil fields in the order Java's `makeCustomHeaderToNet` inserts them into its `HashMap`.
    ///
    /// That order is the iteration order of the `HashSet<Field>` Java builds by reflection (the class's fields and its
    /// superclasses'), not the declaration order. It only matters when two keys share a `HashMap` bucket, but then it
    /// decides the JSON bytes, so it is reproduced exactly.
    func encode(into fields: inout ExtFields)
}

/// A header whose Java class implements `FastCodesHeader`: in ROCKETMQ serialization Java writes its fields with the
/// class's own encoder, in a fixed order, followed by the explicit `extFields`.
public protocol FastCodesHeader: RemotingHeader {
    /// Writes the non-nil fields in the order of the Java class's `FastCodesHeader.encode`.
    func encodeFast(into fields: inout ExtFields)
}

extension RemotingHeader {
    /// The header as a fresh set of extFields (JSON bytes identical to Java's; ROCKETMQ bytes identical to Java's
    /// `RemotingCommand.encode()`; see ``wireFields(for:adding:)`` for the socket encoder's order).
    public var fields: ExtFields {
        var fields = ExtFields()
        encode(into: &fields)
        return fields
    }

    /// Decodes the header from `command`'s extFields (an absent map reads as empty).
    public init(command: RemotingCommand) throws {
        try self.init(fields: command.extFields ?? ExtFields())
    }

    /// The extFields exactly as Java's `NettyEncoder` would put them on the wire for this header plus `explicit`
    /// entries added with `addExtField`, for serialization `type`.
    ///
    /// JSON (and ROCKETMQ for ordinary headers): one Java `HashMap` holding the explicit entries first (a `HashMap(256)`
    /// when there are any, as `addExtField` creates) and then the header's fields. ROCKETMQ for a ``FastCodesHeader``:
    /// the header's fields in its fixed order, then the explicit entries in `HashMap(256)` order. An explicit key that
    /// repeats a header key keeps one entry (Java would write it twice; decoders keep the last).
    public func wireFields(for type: SerializeType, adding explicit: ExtFields? = nil) -> ExtFields {
        var extra = explicit ?? ExtFields()
        if !extra.isEmpty { extra.javaInitialCapacity = ExtFields.addExtFieldCapacity }
        if type == .rocketmq, let fast = self as? any FastCodesHeader {
            var out = ExtFields()
            fast.encodeFast(into: &out)
            for (key, value) in extra.javaHashMapOrdered { out[key] = value }
            out.binaryOrder = .insertion
            return out
        }
        var out = extra
        encode(into: &out)
        out.binaryOrder = .javaHashMap
        return out
    }
}

extension ExtFields {
    /// The initial capacity of the `HashMap` Java's `RemotingCommand.addExtField` creates.
    public static let addExtFieldCapacity = 256
}

// MARK: - Field values

/// A value that can sit in a header field, converted the way Java's `RemotingCommand` converts it.
public protocol HeaderFieldValue: Sendable {
    /// Parses the text of a header field; `nil` when it does not parse.
    init?(headerText: String)
    /// The text Java writes for the value (`toString()`).
    var headerText: String { get }
}

extension String: HeaderFieldValue {
    /// The text itself.
    public init?(headerText: String) { self = headerText }
    /// The text itself.
    public var headerText: String { self }
}

extension Int32: HeaderFieldValue {
    /// Java's `Integer.parseInt`: optional sign, decimal digits, in range.
    public init?(headerText: String) { self.init(headerText, radix: 10) }
    /// Decimal text.
    public var headerText: String { String(self) }
}

extension Int64: HeaderFieldValue {
    /// Java's `Long.parseLong`: optional sign, decimal digits, in range.
    public init?(headerText: String) { self.init(headerText, radix: 10) }
    /// Decimal text.
    public var headerText: String { String(self) }
}

extension Bool: HeaderFieldValue {
    /// Java's `Boolean.parseBoolean`: `true` for a case-insensitive `"true"`, `false` for anything else.
    public init?(headerText: String) {
        self = headerText.utf8.count == 4 && headerText.lowercased() == "true"
    }
    /// `"true"` or `"false"`.
    public var headerText: String { self ? "true" : "false" }
}

extension HeaderFieldValue {
    /// The value of field `name` from its `text`; `nil` when absent, throws `invalidHeaderField` when it does not parse.
    @inlinable
    public static func headerField(_ name: String, text: String?) throws -> Self? {
        guard let text else { return nil }
        guard let value = Self(headerText: text) else {
            throw WireError(.invalidHeaderField, "\(name) has an invalid value \(text.debugDescription) for \(Self.self)")
        }
        return value
    }

    /// The value of the required field `name` from its `text`; throws `invalidHeaderField` when it is missing or
    /// does not parse.
    @inlinable
    public static func requiredHeaderField(_ name: String, text: String?) throws -> Self {
        guard let value = try headerField(name, text: text) else {
            throw WireError(.invalidHeaderField, "\(name) is missing")
        }
        return value
    }
}

/// A header field's value as a one-pass decoder meets it: bytes straight from the frame (a plain ASCII string or a
/// JSON number, valid only during the pass), or text. Converted with exactly ``HeaderFieldValue``'s rules.
enum HeaderFieldToken {
    case bytes(UnsafeRawBufferPointer)
    case text(String)

    /// The text.
    var string: String {
        switch self {
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .text(let t): return t
        }
    }

    /// The text as an id (compact when it is 32 upper-case hex digits: no string made).
    var hexIDText: HexIDText {
        switch self {
        case .bytes(let b): return HexIDText(utf8: b)
        case .text(let t): return HexIDText(t)
        }
    }

    /// The text, or `candidate` itself when the text equals it (no new `String` for a value the caller already has).
    func string(reusing candidate: String) -> String {
        guard case .bytes(let b) = self else { return string }
        var candidate = candidate
        let same = candidate.withUTF8 { UnsafeRawBufferPointer($0).equals(b) }
        return same ? candidate : string
    }

    /// The value as `T` (`Int32.init(_:radix:)` rules for bytes), or the `invalidHeaderField` error for field `name`.
    func integer<T: FixedWidthInteger & HeaderFieldValue>(_ name: String, as type: T.Type = T.self) throws -> T {
        if case .bytes(let b) = self, let value = Self.decimal(b, as: T.self) { return value }
        return try T.requiredHeaderField(name, text: string)
    }

    /// Java's `Boolean.parseBoolean`.
    var bool: Bool {
        guard case .bytes(let b) = self else { return Bool(headerText: string) ?? false }
        guard b.count == 4 else { return false }
        return b[0] | 0x20 == UInt8(ascii: "t") && b[1] | 0x20 == UInt8(ascii: "r") && b[2] | 0x20 == UInt8(ascii: "u")
            && b[3] | 0x20 == UInt8(ascii: "e")
    }

    /// Optional sign and decimal digits in range (what `T(text, radix: 10)` accepts), else `nil`.
    private static func decimal<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, as: T.Type) -> T? {
        var i = 0
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            i = 1
        }
        guard i < bytes.count else { return nil }
        var value: T = 0
        while i < bytes.count {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative
                ? times10.subtractingReportingOverflow(T(d)) : times10.addingReportingOverflow(T(d))
            guard !o1 && !o2 else { return nil }
            value = next
            i += 1
        }
        return value
    }
}

/// `value`, or the `invalidHeaderField` error of the missing required field `name`.
@inline(__always)
func present<T>(_ value: T?, _ name: String) throws -> T {
    guard let value else { throw WireError(.invalidHeaderField, "\(name) is missing") }
    return value
}

extension ExtFields {
    /// Reads a required field; throws `invalidHeaderField` when it is missing or does not parse.
    @inlinable
    public func required<T: HeaderFieldValue>(_ name: String, as type: T.Type = T.self) throws -> T {
        try T.requiredHeaderField(name, text: self[name])
    }

    /// Reads an optional field; `nil` when missing, throws `invalidHeaderField` when present but unparseable.
    @inlinable
    public func optional<T: HeaderFieldValue>(_ name: String, as type: T.Type = T.self) throws -> T? {
        try T.headerField(name, text: self[name])
    }

    /// Writes `value`'s text under `name`; `nil` writes nothing (Java skips null fields).
    @inlinable
    public mutating func put<T: HeaderFieldValue>(_ name: String, _ value: T?) {
        if let value { self[name] = value.headerText }
    }
}

// MARK: - 5.x common request fields

/// The fields every RocketMQ 5.x request header inherits from Java's `RpcRequestHeader`: the namespace (`ns`), whether
/// names are already namespaced (`nsd`), the target broker (`bname`) and the oneway marker (`oway`). All optional;
/// where each goes in the encoded map is up to the header (Java's reflective order differs per class).
public struct RPCRequestFields: Sendable, Hashable {
    /// Namespace.
    public var ns: String?
    /// Whether the names are already namespaced.
    public var nsd: Bool?
    /// Target broker name.
    public var bname: String?
    /// Oneway marker.
    public var oway: Bool?

    /// Creates the fields.
    public init(ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil) {
        self.ns = ns
        self.nsd = nsd
        self.bname = bname
        self.oway = oway
    }

    /// Decodes them from a header's fields (each optional; a value that does not parse throws `invalidHeaderField`).
    public init(fields: ExtFields) throws {
        ns = try fields.optional("ns")
        nsd = try fields.optional("nsd")
        bname = try fields.optional("bname")
        oway = try fields.optional("oway")
    }
}

/// A request header carrying the 5.x common fields (``RPCRequestFields``), readable and writable by name.
public protocol RPCRequestHeader: RemotingHeader {
    /// The 5.x common fields.
    var rpc: RPCRequestFields { get set }
}

extension RPCRequestHeader {
    /// Namespace (5.x common field).
    public var ns: String? {
        get { rpc.ns }
        set { rpc.ns = newValue }
    }

    /// Whether the names are already namespaced (5.x common field).
    public var nsd: Bool? {
        get { rpc.nsd }
        set { rpc.nsd = newValue }
    }

    /// Target broker name (5.x common field).
    public var bname: String? {
        get { rpc.bname }
        set { rpc.bname = newValue }
    }

    /// Oneway marker (5.x common field).
    public var oway: Bool? {
        get { rpc.oway }
        set { rpc.oway = newValue }
    }
}
