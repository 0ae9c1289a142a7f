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
        producerGroup = try fields.required("a")
        topic = try fields.required("b")
        defaultTopic = try fields.required("c")
        defaultTopicQueueNums = try fields.required("d")
        queueId = try fields.required("e")
        sysFlag = try fields.required("f")
        bornTimestamp = try fields.required("g")
        flag = try fields.required("h")
        properties = try fields.optional("i")
        reconsumeTimes = try fields.optional("j")
        unitMode = try fields.optional("k")
        maxReconsumeTimes = try fields.optional("l")
        batch = try fields.optional("m")
        rpc = RPCRequestFields(bname: try fields.optional("n"))
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

    /// The V2 form as a fresh set of extFields (see ``encodeV2(into:)``).
    public var v2Fields: ExtFields {
        var fields = ExtFields()
        encodeV2(into: &fields)
        return fields
    }
}

/// The response header of a successful send (Java `SendMessageResponseHeader`, a `FastCodesHeader`).
///
/// The broker also adds `MSG_REGION` and `TRACE_ON` as explicit extFields; read them from the command.
public struct SendMessageResponseHeader: FastCodesHeader, Hashable {
    /// The offset message id of the stored message; comma-separated ids for a batch.
    public var msgId: String
    /// The queue actually written.
    public var queueId: Int32
    /// The queue offset (the first message's for a batch).
    public var queueOffset: Int64
    /// The UNIQ_KEY of the message (the batch's for a batch).
    public var transactionId: String?
    /// Set by brokers that batch on the server side.
    public var batchUniqId: String?
    /// 5.3 recall handle.
    public var recallHandle: String?

    /// Creates a header.
    public init(
        msgId: String, queueId: Int32, queueOffset: Int64, transactionId: String? = nil, batchUniqId: String? = nil,
        recallHandle: String? = nil
    ) {
        self.msgId = msgId
        self.queueId = queueId
        self.queueOffset = queueOffset
        self.transactionId = transactionId
        self.batchUniqId = batchUniqId
        self.recallHandle = recallHandle
    }

    public init(fields: ExtFields) throws {
        msgId = try fields.required("msgId")
        queueId = try fields.required("queueId")
        queueOffset = try fields.required("queueOffset")
        transactionId = try fields.optional("transactionId")
        batchUniqId = try fields.optional("batchUniqId")
        recallHandle = try fields.optional("recallHandle")
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
