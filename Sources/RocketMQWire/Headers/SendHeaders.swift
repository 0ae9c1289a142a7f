/// The request header of SEND_MESSAGE (10) with its long field names, and of SEND_MESSAGE_V2 (310) /
/// SEND_BATCH_MESSAGE (320) through ``encodeV2(into:)`` / ``init(v2Fields:)`` (one-letter names `a`…`n`).
///
/// Java: `SendMessageRequestHeader` / `SendMessageRequestHeaderV2` (a `FastCodesHeader`).
public struct SendMessageRequestHeader: RPCRequestHeader, Hashable {
    /// Producer group (`a`).
    public var producerGroup: String
    /// Target topic (`b`).
    public var topic: String
    /// The auto-create key topic (`c`), `TBW102`.
    public var defaultTopic: String
    /// Queues to create for an auto-created topic (`d`), 4.
    public var defaultTopicQueueNums: Int32
    /// Target queue (`e`); the broker picks one when negative.
    public var queueId: Int32
    /// The message's sysFlag (`f`): compression and transaction bits.
    public var sysFlag: Int32
    /// Send time in ms (`g`).
    public var bornTimestamp: Int64
    /// The user's message flag (`h`).
    public var flag: Int32
    /// The properties string (`i`).
    public var properties: String?
    /// Reconsume count (`j`); the V2 form always carries it (0 when nil).
    public var reconsumeTimes: Int32?
    /// Unit mode (`k`); the V2 form always carries it (false when nil).
    public var unitMode: Bool?
    /// Whether the body is a batch (`m`); the V2 form always carries it (false when nil).
    public var batch: Bool?
    /// Maximum reconsume count for %RETRY% topics (`l`).
    public var maxReconsumeTimes: Int32?
    /// The 5.x common fields: namespace, whether names are namespaced, target broker, oneway marker.
    public var rpc: RPCRequestFields
    /// Logical-queue marker (5.x common field).
    public var lo: Bool?

    /// Creates a header; `defaultTopic` and `defaultTopicQueueNums` default to the Java producer's values.
    public init(
        producerGroup: String, topic: String, defaultTopic: String = "TBW102", defaultTopicQueueNums: Int32 = 4,
        queueId: Int32, sysFlag: Int32 = 0, bornTimestamp: Int64, flag: Int32 = 0, properties: String? = nil,
        reconsumeTimes: Int32? = nil, unitMode: Bool? = nil, batch: Bool? = nil, maxReconsumeTimes: Int32? = nil,
        ns: String? = nil, nsd: Bool? = nil, bname: String? = nil, oway: Bool? = nil, lo: Bool? = nil
    ) {
        self.producerGroup = producerGroup
        self.topic = topic
        self.defaultTopic = defaultTopic
        self.defaultTopicQueueNums = defaultTopicQueueNums
        self.queueId = queueId
        self.sysFlag = sysFlag
        self.bornTimestamp = bornTimestamp
        self.flag = flag
        self.properties = properties
        self.reconsumeTimes = reconsumeTimes
        self.unitMode = unitMode
        self.batch = batch
        self.maxReconsumeTimes = maxReconsumeTimes
        self.rpc = RPCRequestFields(ns: ns, nsd: nsd, bname: bname, oway: oway)
        self.lo = lo
    }

    /// Decodes the V1 (long-name) form; a map with the one-letter names and no `producerGroup` is read as V2.
    public init(fields: ExtFields) throws {
        if fields["producerGroup"] == nil, fields["a"] != nil {
            self = try SendMessageRequestHeader(v2Fields: fields)
            return
        }
        self.init(
            producerGroup: try fields.required("producerGroup"), topic: try fields.required("topic"),
            defaultTopic: try fields.required("defaultTopic"),
            defaultTopicQueueNums: try fields.required("defaultTopicQueueNums"), queueId: try fields.required("queueId"),
            sysFlag: try fields.required("sysFlag"), bornTimestamp: try fields.required("bornTimestamp"),
            flag: try fields.required("flag"), properties: try fields.optional("properties"),
            reconsumeTimes: try fields.optional("reconsumeTimes"), unitMode: try fields.optional("unitMode"),
            batch: try fields.optional("batch"), maxReconsumeTimes: try fields.optional("maxReconsumeTimes"),
            ns: try fields.optional("ns"), nsd: try fields.optional("nsd"), bname: try fields.optional("bname"),
            oway: try fields.optional("oway"), lo: try fields.optional("lo"))
    }

    /// Decodes the V2 form (`a`…`n`; `n` becomes ``bname``), as Java's `SendMessageRequestHeaderV2.decode` followed
    /// by `createSendMessageRequestHeaderV1`.
    public init(v2Fields fields: ExtFields) throws {
        // One pass over the members (a broker decodes this for every message), values read from the frame's bytes.
        var producerGroup: String?
        var topic: String?
        var defaultTopic: String?
        var defaultTopicQueueNums: Int32?
        var queueId: Int32?
        var sysFlag: Int32?
        var bornTimestamp: Int64?
        var flag: Int32?
        var properties: String?
        var reconsumeTimes: Int32?
        var unitMode: Bool?
        var maxReconsumeTimes: Int32?
        var batch: Bool?
        var bname: String?
        try fields.forEachField(matching: Self.v2Letter) { letter, token in
            switch letter {
            case UInt8(ascii: "a"): producerGroup = token.string
            case UInt8(ascii: "b"): topic = token.string
            case UInt8(ascii: "c"): defaultTopic = token.string(reusing: "TBW102")
            case UInt8(ascii: "d"): defaultTopicQueueNums = try token.integer("d")
            case UInt8(ascii: "e"): queueId = try token.integer("e")
            case UInt8(ascii: "f"): sysFlag = try token.integer("f")
            case UInt8(ascii: "g"): bornTimestamp = try token.integer("g")
            case UInt8(ascii: "h"): flag = try token.integer("h")
            case UInt8(ascii: "i"): properties = token.string
            case UInt8(ascii: "j"): reconsumeTimes = try token.integer("j")
            case UInt8(ascii: "k"): unitMode = token.bool
            case UInt8(ascii: "l"): maxReconsumeTimes = try token.integer("l")
            case UInt8(ascii: "m"): batch = token.bool
            default: bname = token.string
            }
        }
        self.producerGroup = try present(producerGroup, "a")
        self.topic = try present(topic, "b")
        self.defaultTopic = try present(defaultTopic, "c")
        self.defaultTopicQueueNums = try present(defaultTopicQueueNums, "d")
        self.queueId = try present(queueId, "e")
        self.sysFlag = try present(sysFlag, "f")
        self.bornTimestamp = try present(bornTimestamp, "g")
        self.flag = try present(flag, "h")
        self.properties = properties
        self.reconsumeTimes = reconsumeTimes
        self.unitMode = unitMode
        self.maxReconsumeTimes = maxReconsumeTimes
        self.batch = batch
        self.rpc = RPCRequestFields(bname: bname)
    }

    /// The V2 field letter `a`…`n` a key is, if it is one.
    private static func v2Letter(_ key: UnsafeRawBufferPointer) -> UInt8? {
        guard key.count == 1, key[0] >= UInt8(ascii: "a"), key[0] <= UInt8(ascii: "n") else { return nil }
        return key[0]
    }

    /// Decodes a send request as Java's `SendMessageRequestHeader.parseRequestHeader` does: the V2 names for
    /// SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320), the long names otherwise.
    public init(command: RemotingCommand) throws {
        let fields = command.extFields ?? ExtFields()
        switch command.requestCode {
        case .sendMessageV2, .sendBatchMessage: try self.init(v2Fields: fields)
        default: try self.init(fields: fields)
        }
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("maxReconsumeTimes", maxReconsumeTimes)
        fields.put("producerGroup", producerGroup)
        fields.put("ns", ns)
        fields.put("topic", topic)
        fields.put("bornTimestamp", bornTimestamp)
        fields.put("lo", lo)
        fields.put("properties", properties)
        fields.put("queueId", queueId)
        fields.put("flag", flag)
        fields.put("bname", bname)
        fields.put("sysFlag", sysFlag)
        fields.put("reconsumeTimes", reconsumeTimes)
        fields.put("oway", oway)
        fields.put("batch", batch)
        fields.put("unitMode", unitMode)
        fields.put("defaultTopicQueueNums", defaultTopicQueueNums)
        fields.put("defaultTopic", defaultTopic)
        fields.put("nsd", nsd)
    }

    /// Writes the V2 form as Java's `createSendMessageRequestHeaderV2` + `SendMessageRequestHeaderV2.encode` do:
    /// `a`…`n` in order, `j`/`k`/`m` always present, `n` = ``bname``; the common fields `ns`/`nsd`/`oway`/`lo` are not
    /// carried. Sets `binaryOrder = .insertion` (Java's fast encoder order). The one-letter keys never share a
    /// `HashMap` bucket, so the JSON order is Java's too.
    public func encodeV2(into fields: inout ExtFields) {
        fields.put("a", producerGroup)
        fields.put("b", topic)
        fields.put("c", defaultTopic)
        fields.put("d", defaultTopicQueueNums)
        fields.put("e", queueId)
        fields.put("f", sysFlag)
        fields.put("g", bornTimestamp)
        fields.put("h", flag)
        fields.put("i", properties)
        fields.put("j", reconsumeTimes ?? 0)
        fields.put("k", unitMode ?? false)
        fields.put("l", maxReconsumeTimes)
        fields.put("m", batch ?? false)
        fields.put("n", bname)
        fields.binaryOrder = .insertion
    }

    /// The V2 form as a set of extFields (see ``encodeV2(into:)``) that the frame encoder writes straight from this
    /// header, without making strings of its values (the send path's header); reading them gives the same entries.
    public var v2Fields: ExtFields {
        ExtFields(direct: .sendV2(V2Encoding(header: self, properties: nil)))
    }

    /// ``v2Fields`` with `properties` as the properties string (`i`, in place of ``properties``), written into the
    /// frame from the entries: the send path makes no properties string.
    package func v2Fields(properties: OutgoingProperties) -> ExtFields {
        ExtFields(direct: .sendV2(V2Encoding(header: self, properties: properties)))
    }

    /// The V2 form written straight into a frame.
    struct V2Encoding: DirectlyEncodedHeader {
        var header: SendMessageRequestHeader
        /// Written as the properties string when set (``header``'s own is then ignored).
        var properties: OutgoingProperties?

        var fields: ExtFields {
            var fields = ExtFields()
            var header = self.header
            if let properties { header.properties = properties.all.encoded }
            header.encodeV2(into: &fields)
            return fields
        }

        /// Bytes of the properties string, its `\u0001`/`\u0002` separators escaped (six bytes each).
        private var propertiesByteCount: Int {
            if let properties { return properties.estimatedJSONByteCount }
            return (header.properties?.utf8.count ?? 0) * 2
        }

        var binaryOrder: ExtFields.Order { .insertion }

        var estimatedJSONByteCount: Int {
            // 14 members of `"x":` plus separators, numbers of up to 20 digits, the strings with room for escapes.
            14 * 5 + 6 * 20 + 3 * 5 + header.producerGroup.utf8.count + header.topic.utf8.count
                + header.defaultTopic.utf8.count + propertiesByteCount + (header.bname?.utf8.count ?? 0)
        }

        /// `a`…`n` in order. Java's `HashMap` puts a one-letter key in the bucket of its code point (97…110), which
        /// at the map's 16 or 32 buckets is 1…14: iteration is alphabetical, whatever fields are present.
        func writeJSONMembers(into w: inout FrameJSONWriter) {
            let h = header
            w.writeRaw("\"a\":")
            w.writeString(h.producerGroup)
            w.writeRaw(",\"b\":")
            w.writeString(h.topic)
            w.writeRaw(",\"c\":")
            w.writeString(h.defaultTopic)
            w.writeRaw(",\"d\":\"")
            w.writeInt(h.defaultTopicQueueNums)
            w.writeRaw("\",\"e\":\"")
            w.writeInt(h.queueId)
            w.writeRaw("\",\"f\":\"")
            w.writeInt(h.sysFlag)
            w.writeRaw("\",\"g\":\"")
            w.writeInt(h.bornTimestamp)
            w.writeRaw("\",\"h\":\"")
            w.writeInt(h.flag)
            w.writeRaw("\"")
            if let properties {
                w.writeRaw(",\"i\":")
                w.writeString(properties)
            } else if let properties = h.properties {
                w.writeRaw(",\"i\":")
                w.writeString(properties)
            }
            w.writeRaw(",\"j\":\"")
            w.writeInt(h.reconsumeTimes ?? 0)
            w.writeRaw("\",\"k\":\"")
            w.writeBool(h.unitMode ?? false)
            w.writeRaw("\"")
            if let maxReconsumeTimes = h.maxReconsumeTimes {
                w.writeRaw(",\"l\":\"")
                w.writeInt(maxReconsumeTimes)
                w.writeRaw("\"")
            }
            w.writeRaw(",\"m\":\"")
            w.writeBool(h.batch ?? false)
            w.writeRaw("\"")
            if let bname = h.bname {
                w.writeRaw(",\"n\":")
                w.writeString(bname)
            }
        }
    }
}

/// The response header of a successful send (Java `SendMessageResponseHeader`, a `FastCodesHeader`).
///
/// The broker also adds `MSG_REGION` and `TRACE_ON` as explicit extFields; read them from the command.
public struct SendMessageResponseHeader: FastCodesHeader, Hashable {
    /// The offset message id of the stored message; comma-separated ids for a batch.
    public var msgId: String {
        get { msgIDText.text }
        set { msgIDText = HexIDText(newValue) }
    }
    /// ``msgId``, kept as its bytes while it is a plain IPv4 id (no string made until someone reads it).
    package var msgIDText: HexIDText
    /// The queue actually written.
    public var queueId: Int32
    /// The queue offset (the first message's for a batch).
    public var queueOffset: Int64
    /// The UNIQ_KEY of the message (the batch's for a batch).
    public var transactionId: String? {
        get { transactionIDText?.text }
        set { transactionIDText = newValue.map(HexIDText.init) }
    }
    /// ``transactionId``, kept as its bytes while it is a plain IPv4 id.
    package var transactionIDText: HexIDText?
    /// Set by brokers that batch on the server side.
    public var batchUniqId: String?
    /// 5.3 recall handle.
    public var recallHandle: String?

    /// Creates a header.
    public init(
        msgId: String, queueId: Int32, queueOffset: Int64, transactionId: String? = nil, batchUniqId: String? = nil,
        recallHandle: String? = nil
    ) {
        self.msgIDText = HexIDText(msgId)
        self.queueId = queueId
        self.queueOffset = queueOffset
        self.transactionIDText = transactionId.map(HexIDText.init)
        self.batchUniqId = batchUniqId
        self.recallHandle = recallHandle
    }

    /// A header with its ids as ``HexIDText`` (a broker's answer: no strings made for them).
    package init(msgID: HexIDText, queueId: Int32, queueOffset: Int64, transactionID: HexIDText?) {
        self.init(msgId: "", queueId: queueId, queueOffset: queueOffset)
        msgIDText = msgID
        transactionIDText = transactionID
    }

    public init(fields: ExtFields) throws {
        self = try Self.decodeAnswer(fields).header
    }

    /// The header of a send's answer and the two fields brokers add to it (`MSG_REGION`, `TRACE_ON`), in one pass
    /// over the frame's bytes; the ids stay bytes (``HexIDText``) until read.
    package static func decodeAnswer(_ fields: ExtFields) throws -> (header: SendMessageResponseHeader, region: String?, traceOn: String?) {
        enum Key { case msgId, queueId, queueOffset, batchUniqId, recallHandle, transactionId, region, traceOn }
        var msgId: HexIDText?
        var queueId: Int32?
        var queueOffset: Int64?
        var header = SendMessageResponseHeader(msgId: "", queueId: 0, queueOffset: 0)
        var region: String?
        var traceOn: String?
        try fields.forEachField(matching: { key -> Key? in
            switch key.count {
            case 5: return key.equals("msgId") ? .msgId : nil
            case 7: return key.equals("queueId") ? .queueId : nil
            case 8: return key.equals("TRACE_ON") ? .traceOn : nil
            case 10: return key.equals("MSG_REGION") ? .region : nil
            case 11: return key.equals("queueOffset") ? .queueOffset : key.equals("batchUniqId") ? .batchUniqId : nil
            case 12: return key.equals("recallHandle") ? .recallHandle : nil
            case 13: return key.equals("transactionId") ? .transactionId : nil
            default: return nil
            }
        }) { key, token in
            switch key {
            case .msgId: msgId = token.hexIDText
            case .queueId: queueId = try token.integer("queueId")
            case .queueOffset: queueOffset = try token.integer("queueOffset")
            case .batchUniqId: header.batchUniqId = token.string
            case .recallHandle: header.recallHandle = token.string
            case .transactionId: header.transactionIDText = token.hexIDText
            case .region: region = token.string(reusing: "DefaultRegion")
            case .traceOn: traceOn = token.string
            }
        }
        header.msgIDText = try present(msgId, "msgId")
        header.queueId = try present(queueId, "queueId")
        header.queueOffset = try present(queueOffset, "queueOffset")
        return (header, region, traceOn)
    }

    public func encode(into fields: inout ExtFields) {
        fields.put("msgId", msgId)
        fields.put("recallHandle", recallHandle)
        fields.put("queueOffset", queueOffset)
        fields.put("batchUniqId", batchUniqId)
        fields.put("transactionId", transactionId)
        fields.put("queueId", queueId)
    }

    public func encodeFast(into fields: inout ExtFields) {
        fields.put("msgId", msgId)
        fields.put("queueId", queueId)
        fields.put("queueOffset", queueOffset)
        fields.put("transactionId", transactionId)
        fields.put("batchUniqId", batchUniqId)
        fields.put("recallHandle", recallHandle)
    }
}

extension SendMessageResponseHeader {
    /// The extFields a broker answers a stored send with: Java's `SendMessageProcessor` adds `MSG_REGION` and
    /// `TRACE_ON` with `addExtField` (so a `HashMap(256)`) before the header's own fields. The frame encoder writes
    /// them straight from this header, without making strings of its values; reading them gives the same entries.
    public func brokerResponseFields(region: String, traceOn: Bool) -> ExtFields {
        ExtFields(direct: .sendResponse(BrokerResponseEncoding(header: self, region: region, traceOn: traceOn)))
    }

    struct BrokerResponseEncoding: DirectlyEncodedHeader {
        var header: SendMessageResponseHeader
        var region: String
        var traceOn: Bool

        /// The members, in the order Java inserts them.
        enum Member: CaseIterable {
            case region, traceOn, msgId, recallHandle, queueOffset, batchUniqId, transactionId, queueId

            /// The key (`MSG_REGION` and `TRACE_ON` are ``MessageProperty/messageRegion`` and
            /// ``MessageProperty/traceSwitch``).
            var key: String { String(String(describing: jsonKey).dropFirst().dropLast(2)) }

            /// The key as JSON, colon included (plain ASCII: written as it is).
            var jsonKey: StaticString {
                switch self {
                case .region: return "\"MSG_REGION\":"
                case .traceOn: return "\"TRACE_ON\":"
                case .msgId: return "\"msgId\":"
                case .recallHandle: return "\"recallHandle\":"
                case .queueOffset: return "\"queueOffset\":"
                case .batchUniqId: return "\"batchUniqId\":"
                case .transactionId: return "\"transactionId\":"
                case .queueId: return "\"queueId\":"
                }
            }
        }

        /// Java's `HashMap(256)` iteration order of the members (at most 8: no resize): by bucket, then insertion.
        static let wireOrder: [Member] = Member.allCases.enumerated()
            .map { (bucket: JavaCompat.bucket($0.element.key, capacity: ExtFields.addExtFieldCapacity), index: $0.offset, member: $0.element) }
            .sorted { ($0.bucket, $0.index) < ($1.bucket, $1.index) }
            .map(\.member)

        var fields: ExtFields {
            var fields = ExtFields()
            fields.javaInitialCapacity = ExtFields.addExtFieldCapacity
            fields[MessageProperty.messageRegion] = region
            fields[MessageProperty.traceSwitch] = traceOn.headerText
            header.encode(into: &fields)
            return fields
        }

        var binaryOrder: ExtFields.Order { .javaHashMap }

        var estimatedJSONByteCount: Int {
            120 + region.utf8.count + header.msgIDText.utf8Count + (header.transactionIDText?.utf8Count ?? 0)
                + (header.batchUniqId?.utf8.count ?? 0) + (header.recallHandle?.utf8.count ?? 0)
        }

        func writeJSONMembers(into w: inout FrameJSONWriter) {
            enum Value {
                case text(String?), id(HexIDText?), number(Int64)
            }
            var first = true
            for member in Self.wireOrder {
                let value: Value
                switch member {
                case .region: value = .text(region)
                case .traceOn: value = .text(traceOn.headerText)
                case .msgId: value = .id(header.msgIDText)
                case .recallHandle: value = .text(header.recallHandle)
                case .queueOffset: value = .number(header.queueOffset)
                case .batchUniqId: value = .text(header.batchUniqId)
                case .transactionId: value = .id(header.transactionIDText)
                case .queueId: value = .number(Int64(header.queueId))
                }
                switch value {
                case .text(nil), .id(nil): continue
                default: break
                }
                if !first { w.writeByte(UInt8(ascii: ",")) }
                first = false
                w.writeRaw(member.jsonKey)
                switch value {
                case .text(let text?): w.writeString(text)
                // Ids spelled straight into the frame (no string made for them).
                case .id(let id?): w.writeString(id)
                case .number(let number):
                    w.writeByte(UInt8(ascii: "\""))
                    w.writeInt(number)
                    w.writeByte(UInt8(ascii: "\""))
                case .text(nil), .id(nil): break
                }
            }
        }
    }
}
