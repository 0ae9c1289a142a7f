// The text layout of trace records, byte for byte as Java 5.3.3's `TraceDataEncoder` writes and reads it.

/// Encodes and decodes the bodies of trace messages, the layout of Java's `TraceDataEncoder` (RocketMQ 5.3.3).
///
/// A body is records one after another, each ended by `\u{2}` (Java's `FIELD_SPLITOR`); a record's fields are
/// separated by `\u{1}` (Java's `CONTENT_SPLITOR`), its first field naming its ``MessageTraceType``. Numbers are
/// written in decimal, booleans as `true` / `false`, the message type as its ordinal, a transaction state by its Java
/// name, and a missing text as `null` (as Java's `StringBuilder` prints a `null`). The fields, in order:
///
/// | type | fields after the type |
/// |---|---|
/// | `Pub` | timestamp, region, group, topic, msgId, tags, keys, storeHost, bodyLength, costTime, msgType, offsetMsgId, success |
/// | `SubBefore` | timestamp, region, group, requestId, msgId, retryTimes, keys |
/// | `SubAfter` | requestId, msgId, costTime, success, keys, contextCode, timestamp, group |
/// | `EndTransaction` | timestamp, region, group, topic, msgId, tags, keys, storeHost, msgType, transactionId, transactionState, fromTransactionCheck |
/// | `Recall` | timestamp, region, group, topic, msgId, success |
///
/// Decoding accepts what every 4.x and 5.x Java client wrote: `Pub` records of 13 fields (no offsetMsgId) and 15 (a
/// client host after success), `SubAfter` records of 6 (no context code), 7 (Alibaba Cloud's, no timestamp and group)
/// and 9 fields. Records of a type it does not know are skipped, as Java skips them.
public enum MessageTraceCodec {
    /// Separates the fields of a record (Java's `TraceConstants.CONTENT_SPLITOR`, `(char) 1`).
    public static let fieldSeparator: Character = "\u{1}"
    /// Ends each record (Java's `TraceConstants.FIELD_SPLITOR`, `(char) 2`).
    public static let recordSeparator: Character = "\u{2}"

    // MARK: encoding

    /// The body text of `records`, in order (Java's `encoderFromContextBean` for each, concatenated).
    public static func encode(_ records: some Sequence<MessageTraceRecord>) -> String {
        var text = ""
        for record in records { append(record, to: &text) }
        return text
    }

    /// The text of one record, ended by ``recordSeparator``.
    public static func encode(_ record: MessageTraceRecord) -> String {
        var text = ""
        append(record, to: &text)
        return text
    }

    /// Appends the text of `record` to `text`.
    public static func append(_ record: MessageTraceRecord, to text: inout String) {
        text.reserveCapacity(text.utf8.count + 192)
        var writer = FieldWriter(text: text)
        text = ""  // `writer` owns the storage now: no copy on append
        writer.field(record.type.rawValue)
        switch record.type {
        case .pub:
            writer.field(record.timestamp)
            writer.field(record.regionID)
            writer.field(record.groupName)
            writer.field(record.topic)
            writer.field(record.messageID)
            writer.field(record.tags)
            writer.field(record.keys)
            writer.field(record.storeHost)
            writer.field(record.bodyLength)
            writer.field(record.costTime)
            writer.field(record.messageType.rawValue)
            writer.field(record.offsetMessageID)
            writer.field(record.success)
        case .subBefore:
            writer.field(record.timestamp)
            writer.field(record.regionID)
            writer.field(record.groupName)
            writer.field(record.requestID)
            writer.field(record.messageID)
            writer.field(record.retryTimes)
            writer.field(record.keys)
        case .subAfter:
            // Java's LOCAL access channel: with the timestamp and group (the CLOUD one ends after the context code).
            writer.field(record.requestID)
            writer.field(record.messageID)
            writer.field(record.costTime)
            writer.field(record.success)
            writer.field(record.keys)
            writer.field(record.contextCode)
            writer.field(record.timestamp)
            writer.field(record.groupName)
        case .endTransaction:
            writer.field(record.timestamp)
            writer.field(record.regionID)
            writer.field(record.groupName)
            writer.field(record.topic)
            writer.field(record.messageID)
            writer.field(record.tags)
            writer.field(record.keys)
            writer.field(record.storeHost)
            writer.field(record.messageType.rawValue)
            writer.field(record.transactionID)
            writer.field(record.transactionState.javaName)
            writer.field(record.fromTransactionCheck)
        case .recall:
            writer.field(record.timestamp)
            writer.field(record.regionID)
            writer.field(record.groupName)
            writer.field(record.topic)
            writer.field(record.messageID)
            writer.field(record.success)
        }
        writer.text.append(recordSeparator)
        text = writer.text
    }

    /// The keys a trace message of `records` is indexed by (Java's `TraceTransferBean.transKey`): each record's
    /// message id and its message's keys, without duplicates or empty texts, in first-seen order. Joined with spaces
    /// they are the trace message's `KEYS`, which `mqadmin queryMsgTraceById` and the Dashboard look up.
    public static func keys(of records: some Sequence<MessageTraceRecord>) -> [String] {
        var seen = Set<String>()
        var keys: [String] = []
        func add(_ key: some StringProtocol) {
            guard !key.isEmpty, seen.insert(String(key)).inserted else { return }
            keys.append(String(key))
        }
        for record in records {
            add(record.messageID)
            if let k = record.keys {
                for key in k.split(separator: " ") { add(key) }
            }
        }
        return keys
    }

    // MARK: decoding

    /// The records of a trace message's body (decoded as UTF-8, invalid bytes replaced, as Java does).
    public static func decode(_ body: some Collection<UInt8>) throws(MessageTraceDecodingError) -> [MessageTraceRecord] {
        try decode(String(decoding: body, as: UTF8.self))
    }

    /// The records of a trace message's body text (Java's `decoderFromTraceDataString`).
    ///
    /// - Throws: ``MessageTraceDecodingError`` for a record of a known type with too few fields, a number that does
    ///   not parse, or a message type or transaction state Java does not know; never traps on any input.
    public static func decode(_ text: String) throws(MessageTraceDecodingError) -> [MessageTraceRecord] {
        var records: [MessageTraceRecord] = []
        var index = 0
        for line in text.split(separator: recordSeparator, omittingEmptySubsequences: true) {
            let fields = line.split(separator: fieldSeparator, omittingEmptySubsequences: false)
            if let record = try decodeRecord(fields, index: index) { records.append(record) }
            index += 1
        }
        return records
    }

    /// One record from its fields; nil for a type Java does not decode.
    private static func decodeRecord(_ f: [Substring], index: Int) throws(MessageTraceDecodingError) -> MessageTraceRecord? {
        guard let name = f.first, let type = MessageTraceType(rawValue: String(name)) else { return nil }
        let reader = FieldReader(fields: f, record: index, type: type)
        var r = MessageTraceRecord(type: type)
        switch type {
        case .pub:
            try reader.require(12)
            r.timestamp = try reader.int64(1, "timeStamp")
            r.regionID = reader.text(2)
            r.groupName = reader.text(3)
            r.topic = reader.text(4)
            r.messageID = reader.text(5)
            r.tags = reader.optionalText(6)
            r.keys = reader.optionalText(7)
            r.storeHost = reader.text(8)
            r.bodyLength = try reader.int32(9, "bodyLength")
            r.costTime = try reader.int32(10, "costTime")
            r.messageType = try reader.messageType(11)
            switch f.count {
            case 12: break
            case 13: r.success = reader.bool(12)
            default:
                r.offsetMessageID = reader.text(12)
                r.success = reader.bool(13)
                if f.count >= 15 { r.clientHost = reader.text(14) }
            }
        case .subBefore:
            try reader.require(8)
            r.timestamp = try reader.int64(1, "timeStamp")
            r.regionID = reader.text(2)
            r.groupName = reader.text(3)
            r.requestID = reader.text(4)
            r.messageID = reader.text(5)
            r.retryTimes = try reader.int32(6, "retryTimes")
            r.keys = reader.optionalText(7)
        case .subAfter:
            try reader.require(6)
            r.requestID = reader.text(1)
            r.messageID = reader.text(2)
            r.costTime = try reader.int32(3, "costTime")
            r.success = reader.bool(4)
            r.keys = reader.optionalText(5)
            if f.count >= 7 { r.contextCode = try reader.int32(6, "contextCode") }
            if f.count >= 9 {
                r.timestamp = try reader.int64(7, "timeStamp")
                r.groupName = reader.text(8)
            }
        case .endTransaction:
            try reader.require(13)
            r.timestamp = try reader.int64(1, "timeStamp")
            r.regionID = reader.text(2)
            r.groupName = reader.text(3)
            r.topic = reader.text(4)
            r.messageID = reader.text(5)
            r.tags = reader.optionalText(6)
            r.keys = reader.optionalText(7)
            r.storeHost = reader.text(8)
            r.messageType = try reader.messageType(9)
            r.transactionID = reader.optionalText(10)
            r.transactionState = try reader.transactionState(11)
            r.fromTransactionCheck = reader.bool(12)
        case .recall:
            try reader.require(7)
            r.timestamp = try reader.int64(1, "timeStamp")
            r.regionID = reader.text(2)
            r.groupName = reader.text(3)
            r.topic = reader.text(4)
            r.messageID = reader.text(5)
            r.success = reader.bool(6)
        }
        return r
    }
}

/// Why a trace message's body does not decode.
public struct MessageTraceDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the record.
    public enum Reason: Sendable, Hashable {
        /// The record has fewer fields than its type needs.
        case tooFewFields(needed: Int, found: Int)
        /// A numeric field is not a decimal number of its width.
        case invalidNumber(field: String, text: String)
        /// The message type is not an ordinal of Java's `MessageType` (0...4).
        case invalidMessageType(String)
        /// The transaction state is not a Java `LocalTransactionState` name.
        case invalidTransactionState(String)
    }

    /// The position of the offending record in the body (0 = the first, counting records of every type).
    public var recordIndex: Int
    /// The offending record's type.
    public var type: MessageTraceType
    /// What is wrong.
    public var reason: Reason

    /// The record, its type and what is wrong with it, in one line.
    public var description: String {
        let what: String
        switch reason {
        case .tooFewFields(let needed, let found): what = "has \(found) fields, needs \(needed)"
        case .invalidNumber(let field, let text): what = "has \(field) \(text.debugDescription), not a number"
        case .invalidMessageType(let text): what = "has message type \(text.debugDescription), not 0...4"
        case .invalidTransactionState(let text): what = "has transaction state \(text.debugDescription)"
        }
        return "trace record \(recordIndex) (\(type.rawValue)) \(what)"
    }
}

/// Appends fields, each after a separator but the first.
private struct FieldWriter {
    var text: String
    private var first = true

    init(text: String) { self.text = text }

    mutating func field(_ value: String) {
        if !first { text.append(MessageTraceCodec.fieldSeparator) }
        first = false
        text.append(value)
    }

    mutating func field(_ value: String?) { field(value ?? "null") }
    mutating func field(_ value: Int64) { field(String(value)) }
    mutating func field(_ value: Int32) { field(String(value)) }
    mutating func field(_ value: Bool) { field(value ? "true" : "false") }
}

/// Reads the fields of one record with Java's parsing rules, throwing where Java would throw.
private struct FieldReader {
    let fields: [Substring]
    let record: Int
    let type: MessageTraceType

    func fail(_ reason: MessageTraceDecodingError.Reason) -> MessageTraceDecodingError {
        MessageTraceDecodingError(recordIndex: record, type: type, reason: reason)
    }

    func require(_ count: Int) throws(MessageTraceDecodingError) {
        guard fields.count >= count else { throw fail(.tooFewFields(needed: count, found: fields.count)) }
    }

    func text(_ i: Int) -> String { String(fields[i]) }

    /// A text Java may have written from a `null`.
    func optionalText(_ i: Int) -> String? { fields[i] == "null" ? nil : String(fields[i]) }

    /// `Boolean.parseBoolean`: `true` in any case, anything else is false.
    func bool(_ i: Int) -> Bool { fields[i].lowercased() == "true" }

    func int32(_ i: Int, _ name: String) throws(MessageTraceDecodingError) -> Int32 {
        guard let value = Int32(fields[i]) else { throw fail(.invalidNumber(field: name, text: String(fields[i]))) }
        return value
    }

    func int64(_ i: Int, _ name: String) throws(MessageTraceDecodingError) -> Int64 {
        guard let value = Int64(fields[i]) else { throw fail(.invalidNumber(field: name, text: String(fields[i]))) }
        return value
    }

    func messageType(_ i: Int) throws(MessageTraceDecodingError) -> MessageTraceMessageType {
        guard let ordinal = Int32(fields[i]), let type = MessageTraceMessageType(rawValue: ordinal) else {
            throw fail(.invalidMessageType(String(fields[i])))
        }
        return type
    }

    func transactionState(_ i: Int) throws(MessageTraceDecodingError) -> TransactionResolution {
        guard let state = TransactionResolution(javaName: fields[i]) else {
            throw fail(.invalidTransactionState(String(fields[i])))
        }
        return state
    }
}
