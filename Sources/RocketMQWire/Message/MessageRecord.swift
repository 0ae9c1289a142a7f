import NIOCore

/// One message in the store format (PROTOCOL.md §5.1): the records of PULL_MESSAGE bodies,
/// CHECK_TRANSACTION_STATE / CONSUME_MESSAGE_DIRECTLY bodies, and commit-log entries.
///
/// Decoding is strict where Java's `MessageDecoder.decode` is lenient about sizes: TOTALSIZE must cover exactly the
/// fields, and no length may be negative or reach past the record. Text is decoded like Java's
/// `new String(bytes, UTF_8)` (invalid sequences become U+FFFD).
public struct MessageRecord: Hashable, Sendable {
    /// The record layout, told apart by the magic code.
    public enum Version: Hashable, Sendable {
        /// Magic `0xDAA320A7`: 1-byte topic length (topics up to 127 bytes). What brokers write by default.
        case v1
        /// Magic `0xDAA320AB`: 2-byte topic length. Brokers write it for topics over 127 characters.
        case v2

        /// The MAGICCODE field value.
        public var magicCode: Int32 {
            switch self {
            case .v1: return Int32(bitPattern: 0xDAA3_20A7)
            case .v2: return Int32(bitPattern: 0xDAA3_20AB)
            }
        }

        /// The version whose magic code is `magicCode`, or `nil`.
        public init?(magicCode: Int32) {
            switch UInt32(bitPattern: magicCode) {
            case 0xDAA3_20A7: self = .v1
            case 0xDAA3_20AB: self = .v2
            default: return nil
            }
        }

        var topicLengthSize: Int { self == .v1 ? 1 : 2 }
    }

    /// The layout version. ``encode(into:)`` switches to `.v2` by itself when the topic needs it.
    public var version: Version
    /// The queue id.
    public var queueId: Int32
    /// The user flag (opaque to RocketMQ).
    public var flag: Int32
    /// The logical offset in the consume queue.
    public var queueOffset: Int64
    /// The physical offset in the commit log.
    public var commitLogOffset: Int64
    /// System flags (``MessageSysFlag``): compression, transaction state, IPv6 hosts, inner batch.
    public var sysFlag: Int32
    /// When the producer created the message (ms since 1970).
    public var bornTimestamp: Int64
    /// The producer's address as the broker saw it.
    public var bornHost: MessageHost
    /// When the broker stored the message (ms since 1970).
    public var storeTimestamp: Int64
    /// The storing broker's address.
    public var storeHost: MessageHost
    /// How many times the message has been redelivered.
    public var reconsumeTimes: Int32
    /// The prepared (half) message's commit-log offset, for transactional messages.
    public var preparedTransactionOffset: Int64
    /// The BODYCRC field: CRC-32 of the stored body `& 0x7FFFFFFF` (``CRC32/bodyCRC(_:)-swift.type.method``).
    public var bodyCRC: Int32
    /// The **stored** body bytes: compressed if ``sysFlag`` says so (see ``decompressedBody(maxSize:)``). Empty
    /// stands for Java's `null` body (body length 0).
    public var body: ByteBuffer
    /// The topic.
    public var topic: String
    /// The properties, in wire order.
    public var properties: MessageProperties
    /// TOTALSIZE as decoded; ``encode(into:)`` computes the real size and ignores this.
    public var storeSize: Int32

    /// Creates a record. A `nil` `bodyCRC` is computed from `body`.
    public init(
        topic: String, body: ByteBuffer = ByteBuffer(), properties: MessageProperties = MessageProperties(),
        queueId: Int32 = 0, flag: Int32 = 0, queueOffset: Int64 = 0, commitLogOffset: Int64 = 0, sysFlag: Int32 = 0,
        bornTimestamp: Int64 = 0, bornHost: MessageHost, storeTimestamp: Int64 = 0, storeHost: MessageHost,
        reconsumeTimes: Int32 = 0, preparedTransactionOffset: Int64 = 0, bodyCRC: Int32? = nil,
        version: Version = .v1, storeSize: Int32 = 0
    ) {
        self.version = version
        self.queueId = queueId
        self.flag = flag
        self.queueOffset = queueOffset
        self.commitLogOffset = commitLogOffset
        self.sysFlag = sysFlag
        self.bornTimestamp = bornTimestamp
        self.bornHost = bornHost
        self.storeTimestamp = storeTimestamp
        self.storeHost = storeHost
        self.reconsumeTimes = reconsumeTimes
        self.preparedTransactionOffset = preparedTransactionOffset
        self.bodyCRC = bodyCRC ?? CRC32.bodyCRC(body)
        self.body = body
        self.topic = topic
        self.properties = properties
        self.storeSize = storeSize
    }

    // Sizes of the fixed fields, hosts excluded: TOTALSIZE..BORNTIMESTAMP (48), STORETIMESTAMP (8),
    // RECONSUMETIMES + PREPARED OFFSET (12), BODY length (4).
    private static let fixedSizeWithoutHosts = 48 + 8 + 12 + 4
    /// The smallest possible record: IPv4 hosts, V1, empty body, topic and properties.
    static let minimumSize = fixedSizeWithoutHosts + 8 + 8 + 1 + 2

    // MARK: Decoding

    /// Decodes one record at the reader index and advances past it. On error the reader index does not move.
    ///
    /// Throws `WireError`: `.truncated` when the buffer holds less than TOTALSIZE (or less than 4 bytes),
    /// `.invalidLength` for a TOTALSIZE below the minimum or a negative length field, `.corruptMessage` for an unknown
    /// magic code, a port outside 0...65535, or lengths that do not add up to TOTALSIZE.
    public static func decode(from buffer: inout ByteBuffer) throws -> MessageRecord {
        var hosts = HostReuse()
        return try decode(from: &buffer, reusing: &hosts)
    }

    /// The hosts of the record decoded before: records of one pull mostly repeat them, and a repeated host shares
    /// the earlier one's address array instead of allocating its own.
    struct HostReuse {
        var born: MessageHost?
        var store: MessageHost?
    }

    static func decode(from buffer: inout ByteBuffer, reusing hosts: inout HostReuse) throws -> MessageRecord {
        let start = buffer.readerIndex
        guard let size = buffer.getInteger(at: start, as: Int32.self) else {
            throw WireError(.truncated, "\(buffer.readableBytes) bytes cannot hold a message record's TOTALSIZE")
        }
        guard size >= minimumSize else {
            throw WireError(.invalidLength, "message TOTALSIZE \(size) is below the minimum of \(minimumSize)")
        }
        guard Int(size) <= buffer.readableBytes else {
            throw WireError(.truncated, "message TOTALSIZE \(size) exceeds the \(buffer.readableBytes) bytes available")
        }
        let end = start + Int(size)
        var i = start + 4
        let b = buffer
        let magic: Int32 = try read(b, &i, end)
        guard let version = Version(magicCode: magic) else {
            throw WireError(.corruptMessage, "unknown message magic code 0x\(String(UInt32(bitPattern: magic), radix: 16))")
        }
        let bodyCRC: Int32 = try read(b, &i, end)
        let queueId: Int32 = try read(b, &i, end)
        let flag: Int32 = try read(b, &i, end)
        let queueOffset: Int64 = try read(b, &i, end)
        let commitLogOffset: Int64 = try read(b, &i, end)
        let sysFlag: Int32 = try read(b, &i, end)
        let bornTimestamp: Int64 = try read(b, &i, end)
        let bornHost = try readHost(b, &i, end, ipv6: sysFlag & MessageSysFlag.bornHostV6 != 0, previous: &hosts.born)
        let storeTimestamp: Int64 = try read(b, &i, end)
        let storeHost = try readHost(b, &i, end, ipv6: sysFlag & MessageSysFlag.storeHostV6 != 0, previous: &hosts.store)
        let reconsumeTimes: Int32 = try read(b, &i, end)
        let preparedTransactionOffset: Int64 = try read(b, &i, end)

        let bodyLength: Int32 = try read(b, &i, end)
        let body = try readSlice(b, &i, end, length: Int(bodyLength), field: "body")

        let topicLength: Int
        switch version {
        case .v1: topicLength = Int(try read(b, &i, end, as: Int8.self))
        case .v2: topicLength = Int(try read(b, &i, end, as: Int16.self))
        }
        try checkLength(topicLength, at: i, end, field: "topic")
        let topic = b.getString(at: i, length: topicLength) ?? ""
        i += topicLength

        let propertiesLength = Int(try read(b, &i, end, as: Int16.self))
        try checkLength(propertiesLength, at: i, end, field: "properties")
        let properties =
            propertiesLength == 0
            ? MessageProperties() : MessageProperties(buffer: b, at: i, length: propertiesLength)
        i += propertiesLength

        guard i == end else {
            throw WireError(.corruptMessage, "message TOTALSIZE \(size) leaves \(end - i) bytes after the properties")
        }
        buffer.moveReaderIndex(to: end)
        return MessageRecord(
            topic: topic, body: body, properties: properties, queueId: queueId, flag: flag,
            queueOffset: queueOffset, commitLogOffset: commitLogOffset, sysFlag: sysFlag, bornTimestamp: bornTimestamp,
            bornHost: bornHost, storeTimestamp: storeTimestamp, storeHost: storeHost, reconsumeTimes: reconsumeTimes,
            preparedTransactionOffset: preparedTransactionOffset, bodyCRC: bodyCRC, version: version, storeSize: size)
    }

    /// Where the properties string of the encoded record at `buffer`'s reader index lies, as absolute indices of
    /// `buffer`, found without decoding the other fields (what Java's `MessageDecoder.decodeProperties` reads for the
    /// broker's SQL92 filter). Validates the record's layout as ``decode(from:)`` does.
    public static func propertiesRange(ofEncoded buffer: ByteBuffer) throws -> Range<Int> {
        let start = buffer.readerIndex
        guard let size = buffer.getInteger(at: start, as: Int32.self), size >= minimumSize,
            Int(size) <= buffer.readableBytes
        else {
            throw WireError(.truncated, "no complete message record at the reader index")
        }
        let end = start + Int(size)
        let b = buffer
        var i = start + 4
        let magic: Int32 = try read(b, &i, end)
        guard let version = Version(magicCode: magic) else {
            throw WireError(.corruptMessage, "unknown message magic code 0x\(String(UInt32(bitPattern: magic), radix: 16))")
        }
        // BODYCRC, QUEUEID, FLAG, QUEUEOFFSET, PHYSICALOFFSET.
        i += 4 + 4 + 4 + 8 + 8
        let sysFlag: Int32 = try read(b, &i, end)
        let bornHost = sysFlag & MessageSysFlag.bornHostV6 != 0 ? 20 : 8
        let storeHost = sysFlag & MessageSysFlag.storeHostV6 != 0 ? 20 : 8
        // BORNTIMESTAMP, BORNHOST, STORETIMESTAMP, STOREHOST, RECONSUMETIMES, PREPARED OFFSET.
        i += 8 + bornHost + 8 + storeHost + 4 + 8
        let bodyLength = Int(try read(b, &i, end, as: Int32.self))
        try checkLength(bodyLength, at: i, end, field: "body")
        i += bodyLength
        let topicLength: Int
        switch version {
        case .v1: topicLength = Int(try read(b, &i, end, as: Int8.self))
        case .v2: topicLength = Int(try read(b, &i, end, as: Int16.self))
        }
        try checkLength(topicLength, at: i, end, field: "topic")
        i += topicLength
        let propertiesLength = Int(try read(b, &i, end, as: Int16.self))
        try checkLength(propertiesLength, at: i, end, field: "properties")
        guard i + propertiesLength == end else {
            throw WireError(.corruptMessage, "message TOTALSIZE \(size) leaves \(end - i - propertiesLength) bytes after the properties")
        }
        return i..<(i + propertiesLength)
    }

    /// Decodes concatenated records (a PULL body) like Java's `MessageDecoder.decodesBatch`: stops at the first
    /// record that cannot be decoded and returns the records before it together with that record's error.
    public static func decodeAll(_ buffer: ByteBuffer) -> (records: [MessageRecord], error: WireError?) {
        var buffer = buffer
        var records: [MessageRecord] = []
        var hosts = HostReuse()
        while buffer.readableBytes > 0 {
            do {
                records.append(try decode(from: &buffer, reusing: &hosts))
            } catch let error as WireError {
                return (records, error)
            } catch {
                return (records, WireError(.corruptMessage, "\(error)"))
            }
        }
        return (records, nil)
    }

    @inline(__always)
    private static func read<T: FixedWidthInteger>(
        _ b: ByteBuffer, _ i: inout Int, _ end: Int, as: T.Type = T.self
    ) throws -> T {
        let size = MemoryLayout<T>.size
        guard end - i >= size, let value = b.getInteger(at: i, as: T.self) else {
            throw WireError(.corruptMessage, "message record ends inside a \(size)-byte field")
        }
        i += size
        return value
    }

    @inline(__always)
    private static func checkLength(_ length: Int, at i: Int, _ end: Int, field: StaticString) throws {
        guard length >= 0 else {
            throw WireError(.invalidLength, "message \(field) length \(length) is negative")
        }
        guard length <= end - i else {
            throw WireError(.corruptMessage, "message \(field) length \(length) exceeds the \(end - i) bytes left in the record")
        }
    }

    private static func readSlice(
        _ b: ByteBuffer, _ i: inout Int, _ end: Int, length: Int, field: StaticString
    ) throws -> ByteBuffer {
        try checkLength(length, at: i, end, field: field)
        if length == 0 { return ByteBuffer() }
        guard let slice = b.getSlice(at: i, length: length) else {
            throw WireError(.corruptMessage, "message \(field) lies outside the buffer")
        }
        i += length
        return slice
    }

    private static func readHost(
        _ b: ByteBuffer, _ i: inout Int, _ end: Int, ipv6: Bool, previous: inout MessageHost?
    ) throws -> MessageHost {
        let ipLength = ipv6 ? 16 : 4
        guard end - i >= ipLength + 4, let port = b.getInteger(at: i + ipLength, as: Int32.self) else {
            throw WireError(.corruptMessage, "message record ends inside a host field")
        }
        guard (0...65535).contains(port) else {
            throw WireError(.corruptMessage, "message host port \(port) is outside 0...65535")
        }
        if let known = previous, known.port == port, known.ip.count == ipLength,
            b.viewBytes(at: i, length: ipLength)?.elementsEqual(known.ip) == true
        {
            i += ipLength + 4
            return known
        }
        guard let ip = b.getBytes(at: i, length: ipLength) else {
            throw WireError(.corruptMessage, "message record ends inside a host field")
        }
        i += ipLength + 4
        let host = MessageHost(ip: ip, port: port)
        previous = host
        return host
    }

    // MARK: Encoding

    /// The version ``encode(into:)`` writes: `.v2` when ``version`` is `.v2` or the topic is over 127 UTF-8 bytes
    /// (a V1 topic length is a signed byte), else `.v1`.
    public var encodedVersion: Version {
        version == .v2 || topic.utf8.count > 127 ? .v2 : .v1
    }

    /// The number of bytes ``encode(into:)`` writes (TOTALSIZE), for a record that can be encoded.
    public var encodedSize: Int {
        Self.fixedSizeWithoutHosts + (bornHost.ip.count + 4) + (storeHost.ip.count + 4) + body.readableBytes
            + encodedVersion.topicLengthSize + topic.utf8.count + 2 + properties.encodedByteCount
    }

    /// Encodes the record at the end of `buffer` with TOTALSIZE computed and the IPv6 host bits of SYSFLAG set from
    /// the host sizes. Byte-for-byte what Java's `MessageDecoder.encode` (V1) or the broker's `MessageExtEncoder`
    /// (V2) write for the same fields.
    ///
    /// Throws `WireError(.unencodable)` (writing nothing) for a host that is not 4 or 16 bytes or has a port outside
    /// 0...65535, a topic over 32767 UTF-8 bytes, properties over 32767 bytes or with separators in names/values
    /// (``MessageProperties/validate()``), or a record over 2 GiB.
    public func encode(into buffer: inout ByteBuffer) throws {
        func check(_ host: MessageHost, _ name: StaticString) throws {
            guard host.ip.count == 4 || host.ip.count == 16 else {
                throw WireError(.unencodable, "\(name) host address has \(host.ip.count) bytes, not 4 or 16")
            }
            guard (0...65535).contains(host.port) else {
                throw WireError(.unencodable, "\(name) host port \(host.port) is outside 0...65535")
            }
        }
        try check(bornHost, "born")
        try check(storeHost, "store")
        let topicLength = topic.utf8.count
        guard topicLength <= Int(Int16.max) else {
            throw WireError(.unencodable, "topic of \(topicLength) bytes exceeds 32767")
        }
        try properties.validate()
        let propertiesLength = properties.encodedByteCount
        guard propertiesLength <= Int(Int16.max) else {
            throw WireError(.unencodable, "properties of \(propertiesLength) bytes exceed 32767")
        }
        let size = encodedSize
        guard size <= Int(Int32.max) else {
            throw WireError(.unencodable, "message record of \(size) bytes exceeds 2 GiB")
        }
        let version = encodedVersion
        var flags = sysFlag & ~(MessageSysFlag.bornHostV6 | MessageSysFlag.storeHostV6)
        if bornHost.isIPv6 { flags |= MessageSysFlag.bornHostV6 }
        if storeHost.isIPv6 { flags |= MessageSysFlag.storeHostV6 }

        buffer.writeExactly(size) { w in
            w.integer(Int32(size))
            w.integer(version.magicCode)
            w.integer(bodyCRC)
            w.integer(queueId)
            w.integer(flag)
            w.integer(queueOffset)
            w.integer(commitLogOffset)
            w.integer(flags)
            w.integer(bornTimestamp)
            w.bytes(bornHost.ip)
            w.integer(bornHost.port)
            w.integer(storeTimestamp)
            w.bytes(storeHost.ip)
            w.integer(storeHost.port)
            w.integer(reconsumeTimes)
            w.integer(preparedTransactionOffset)
            w.integer(Int32(body.readableBytes))
            w.buffer(body)
            switch version {
            case .v1: w.integer(UInt8(topicLength))
            case .v2: w.integer(Int16(topicLength))
            }
            w.utf8(topic)
            w.integer(Int16(propertiesLength))
            properties.write(to: &w)
        }
    }

    /// The encoded record in a new buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: encodedSize)
        try encode(into: &buffer)
        return buffer
    }

    // MARK: Derived values

    /// The broker's message id (PROTOCOL.md §5.5) from ``storeHost`` and ``commitLogOffset``.
    public var offsetMessageID: String {
        MessageID.offsetMessageID(storeHost: storeHost, commitLogOffset: commitLogOffset)
    }

    /// ``offsetMessageID`` without a string for an IPv4 store host (what a broker answers a send with).
    package var offsetMessageIDText: HexIDText {
        MessageID.offsetMessageIDText(storeHost: storeHost, commitLogOffset: commitLogOffset)
    }

    /// The client message id, property `UNIQ_KEY`.
    public var uniqueKey: String? { properties[MessageProperty.uniqueKey] }

    /// What Java's `MessageClientExt.getMsgId()` returns: ``uniqueKey`` if present, else ``offsetMessageID``.
    public var messageID: String { uniqueKey ?? offsetMessageID }

    /// The tag, property `TAGS`.
    public var tags: String? { properties[MessageProperty.tags] }

    /// The keys, property `KEYS` split on spaces (empty parts dropped).
    public var keys: [String] {
        properties[MessageProperty.keys].map { $0.split(separator: " ").map(String.init) } ?? []
    }

    /// The body decompressed if ``MessageSysFlag/compressed`` is set and the body is not empty (as Java does),
    /// at most `maxSize` bytes; otherwise the stored body itself.
    ///
    /// Throws `WireError(.unknownCompressionType)`, `.decompressionFailed` or `.decompressedTooLarge`.
    public func decompressedBody(maxSize: Int = Compression.defaultMaxDecompressedSize) throws -> ByteBuffer {
        guard body.readableBytes > 0, let type = try MessageSysFlag.compressionType(of: sysFlag) else { return body }
        return try Compression.decompress(body, type: type, maxSize: maxSize)
    }

    /// The record as a Java consumer sees it: the body decompressed (``decompressedBody(maxSize:)``) and, if it
    /// was, ``MessageSysFlag/compressed`` cleared from ``sysFlag`` (the type bits stay). ``bodyCRC`` still describes
    /// the stored bytes.
    public func decompressed(maxSize: Int = Compression.defaultMaxDecompressedSize) throws -> MessageRecord {
        guard body.readableBytes > 0, sysFlag & MessageSysFlag.compressed != 0 else { return self }
        var copy = self
        copy.body = try decompressedBody(maxSize: maxSize)
        copy.sysFlag = MessageSysFlag.clearCompressedFlag(sysFlag)
        return copy
    }

    /// Whether the body is a broker-side inner batch to split (``MessageSysFlag/innerBatch`` and
    /// ``MessageSysFlag/needUnwrap`` both set).
    public var isInnerBatch: Bool {
        sysFlag & MessageSysFlag.innerBatch != 0 && sysFlag & MessageSysFlag.needUnwrap != 0
    }

    /// The messages of an inner batch as Java's `MessageDecoder.decodeMessage(MessageExt, List)` builds them:
    /// topic, queue, hosts, timestamps, sysFlag and commit-log offset from this record, queue offset + index, flag,
    /// body and properties from the entry, and `WAIT` set from this record's. Returns `[self]` when
    /// ``isInnerBatch`` is false.
    public func unwrappedInnerBatch(maxSize: Int = Compression.defaultMaxDecompressedSize) throws -> [MessageRecord] {
        guard isInnerBatch else { return [self] }
        let entries = try MessageBatch.decode(try decompressedBody(maxSize: maxSize))
        let outerWait = properties[MessageProperty.waitStoreMessageOK]
        let wait = outerWait.map { $0.lowercased() == "true" } ?? true
        return entries.enumerated().map { index, entry in
            var properties = entry.properties
            properties[MessageProperty.waitStoreMessageOK] = wait ? "true" : "false"
            return MessageRecord(
                topic: topic, body: entry.body, properties: properties, queueId: queueId, flag: entry.flag,
                queueOffset: queueOffset + Int64(index), commitLogOffset: commitLogOffset, sysFlag: sysFlag,
                bornTimestamp: bornTimestamp, bornHost: bornHost, storeTimestamp: storeTimestamp, storeHost: storeHost,
                bodyCRC: 0, version: version)
        }
    }
}
