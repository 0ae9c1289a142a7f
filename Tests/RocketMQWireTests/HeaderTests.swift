import NIOCore
import Testing

@testable import RocketMQWire

/// A Java header class as reflection sees it: `getDeclaredFields()` of the class and of each superclass.
struct JavaHeaderClass: Sendable {
    static let rpc = ("org.apache.rocketmq.remoting.rpc.RpcRequestHeader", ["ns", "nsd", "bname", "oway"])
    static let topic = ("org.apache.rocketmq.remoting.rpc.TopicRequestHeader", ["lo"])

    var className: String
    var fields: [String]
    var superclasses: [(String, [String])]

    init(_ simpleName: String, _ fields: String, topicHeader: Bool = false, rpcHeader: Bool = true) {
        className = "org.apache.rocketmq.remoting.protocol.header." + simpleName
        self.fields = fields.split(separator: " ").map(String.init)
        superclasses = (topicHeader ? [Self.topic] : []) + (rpcHeader ? [Self.rpc] : [])
    }

    /// The order `makeCustomHeaderToNet` inserts fields: a `HashSet<Field>` (hash = declaring class name's hash XOR
    /// field name's hash) filled class by class.
    var reflectionOrder: [String] {
        var all: [(String, String)] = fields.map { (className, $0) }
        for (cls, names) in superclasses { all += names.map { (cls, $0) } }
        let hashes = Dictionary(uniqueKeysWithValues: all.map { ($0.1, JavaCompat.stringHashCode($0.0) ^ JavaCompat.stringHashCode($0.1)) })
        return JavaCompat.hashOrder(all.map(\.1)) { hashes[$0] ?? 0 }
    }
}

/// A header with every field set, and its Java class.
struct FullHeader: Sendable, CustomTestStringConvertible {
    var header: any RemotingHeader
    var java: JavaHeaderClass
    var decode: @Sendable (ExtFields) throws -> any RemotingHeader
    var testDescription: String { java.className.split(separator: ".").last.map(String.init) ?? "?" }

    init<H: RemotingHeader & Hashable>(_ header: H, _ java: JavaHeaderClass) {
        self.header = header
        self.java = java
        decode = { try H(fields: $0) }
    }

    func roundTrips() throws -> Bool {
        guard let original = header as? AnyHashable, let again = try decode(header.fields) as? AnyHashable else {
            return false
        }
        return original == again
    }
}

@Suite("Typed headers")
struct HeaderTests {
    static let send = SendMessageRequestHeader(
        producerGroup: "PG", topic: "T", defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: 3, sysFlag: 4,
        bornTimestamp: 1_700_000_000_000, flag: 7, properties: "KEYS\u{1}k\u{2}", reconsumeTimes: 2, unitMode: true,
        batch: true, maxReconsumeTimes: 16, ns: "ns", nsd: false, bname: "broker-a", oway: true, lo: false)

    static let all: [FullHeader] = [
        FullHeader(send, JavaHeaderClass(
            "SendMessageRequestHeader",
            "producerGroup topic defaultTopic defaultTopicQueueNums queueId sysFlag bornTimestamp flag properties reconsumeTimes unitMode batch maxReconsumeTimes",
            topicHeader: true)),
        FullHeader(
            SendMessageResponseHeader(
                msgId: "C0A8000A00002A9F0000000000001000", queueId: 2, queueOffset: 7, transactionId: "T1",
                batchUniqId: "B1", recallHandle: "R1"),
            JavaHeaderClass("SendMessageResponseHeader", "msgId queueId queueOffset transactionId batchUniqId recallHandle", rpcHeader: false)),
        FullHeader(
            PullMessageRequestHeader(
                consumerGroup: "CG", topic: "T", queueId: 1, queueOffset: 5, maxMsgNums: 32, sysFlag: 7, commitOffset: 4,
                suspendTimeoutMillis: 15000, subscription: "A || B", subVersion: 1_700_000_000_000, expressionType: "TAG",
                maxMsgBytes: 262_144, requestSource: 1, proxyFrowardClientId: "proxy", ns: "ns", nsd: true,
                bname: "broker-a", oway: false, lo: true),
            JavaHeaderClass(
                "PullMessageRequestHeader",
                "consumerGroup topic queueId queueOffset maxMsgNums sysFlag commitOffset suspendTimeoutMillis subscription subVersion expressionType maxMsgBytes requestSource proxyFrowardClientId",
                topicHeader: true)),
        FullHeader(
            PullMessageResponseHeader(
                suggestWhichBrokerId: 1, nextBeginOffset: 9, minOffset: 0, maxOffset: 10, offsetDelta: -3, topicSysFlag: 1,
                groupSysFlag: 2, forbiddenType: 3),
            JavaHeaderClass(
                "PullMessageResponseHeader",
                "suggestWhichBrokerId nextBeginOffset minOffset maxOffset offsetDelta topicSysFlag groupSysFlag forbiddenType",
                rpcHeader: false)),
        FullHeader(
            QueryConsumerOffsetRequestHeader(
                consumerGroup: "CG", topic: "T", queueId: 1, setZeroIfNotFound: true, ns: "ns", nsd: true, bname: "b",
                oway: false, lo: false),
            JavaHeaderClass("QueryConsumerOffsetRequestHeader", "consumerGroup topic queueId setZeroIfNotFound", topicHeader: true)),
        FullHeader(
            QueryConsumerOffsetResponseHeader(offset: -1),
            JavaHeaderClass("QueryConsumerOffsetResponseHeader", "offset", rpcHeader: false)),
        FullHeader(
            UpdateConsumerOffsetRequestHeader(
                consumerGroup: "CG", topic: "T", queueId: 1, commitOffset: 99, ns: "ns", nsd: true, bname: "b",
                oway: true, lo: true),
            JavaHeaderClass("UpdateConsumerOffsetRequestHeader", "consumerGroup topic queueId commitOffset", topicHeader: true)),
        FullHeader(
            UnregisterClientRequestHeader(
                clientID: "c@1", producerGroup: "PG", consumerGroup: "CG", ns: "ns", nsd: true, bname: "b", oway: true),
            JavaHeaderClass("UnregisterClientRequestHeader", "clientID producerGroup consumerGroup")),
        FullHeader(
            GetConsumerListByGroupRequestHeader(consumerGroup: "CG", ns: "ns", nsd: true, bname: "b", oway: true),
            JavaHeaderClass("GetConsumerListByGroupRequestHeader", "consumerGroup")),
        FullHeader(
            NotifyConsumerIdsChangedRequestHeader(consumerGroup: "CG", ns: "ns", nsd: true, bname: "b", oway: true),
            JavaHeaderClass("NotifyConsumerIdsChangedRequestHeader", "consumerGroup")),
        FullHeader(
            ConsumerSendMsgBackRequestHeader(
                offset: 4096, group: "CG", delayLevel: -1, originMsgId: "M", originTopic: "T", unitMode: true,
                maxReconsumeTimes: 16, ns: "ns", nsd: true, bname: "b", oway: true),
            JavaHeaderClass(
                "ConsumerSendMsgBackRequestHeader",
                "offset group delayLevel originMsgId originTopic unitMode maxReconsumeTimes")),
        FullHeader(
            GetMaxOffsetRequestHeader(topic: "T", queueId: 1, committed: false, ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass("GetMaxOffsetRequestHeader", "topic queueId committed", topicHeader: true)),
        FullHeader(
            GetMinOffsetRequestHeader(topic: "T", queueId: 1, ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass("GetMinOffsetRequestHeader", "topic queueId", topicHeader: true)),
        FullHeader(
            SearchOffsetRequestHeader(
                topic: "T", queueId: 1, timestamp: 1_700_000_000_000, boundaryType: .upper, ns: "ns", nsd: true,
                bname: "b", oway: true, lo: true),
            JavaHeaderClass("SearchOffsetRequestHeader", "topic queueId timestamp boundaryType", topicHeader: true)),
        FullHeader(OffsetResponseHeader(offset: 12), JavaHeaderClass("GetMaxOffsetResponseHeader", "offset", rpcHeader: false)),
        FullHeader(
            GetEarliestMsgStoreTimeRequestHeader(topic: "T", queueId: 1, ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass("GetEarliestMsgStoretimeRequestHeader", "topic queueId", topicHeader: true)),
        FullHeader(
            GetEarliestMsgStoreTimeResponseHeader(timestamp: 1_700_000_000_000),
            JavaHeaderClass("GetEarliestMsgStoretimeResponseHeader", "timestamp", rpcHeader: false)),
        FullHeader(
            GetRouteInfoRequestHeader(topic: "T", acceptStandardJsonOnly: true, ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            {
                var java = JavaHeaderClass("GetRouteInfoRequestHeader", "topic acceptStandardJsonOnly", topicHeader: true)
                java.className = "org.apache.rocketmq.remoting.protocol.header.namesrv.GetRouteInfoRequestHeader"
                return java
            }()),
        FullHeader(LockBatchMQRequestHeader(ns: "ns", nsd: true, bname: "b", oway: true), JavaHeaderClass("LockBatchMqRequestHeader", "")),
        FullHeader(UnlockBatchMQRequestHeader(ns: "ns", nsd: true, bname: "b", oway: true), JavaHeaderClass("UnlockBatchMqRequestHeader", "")),
        FullHeader(HeartbeatRequestHeader(ns: "ns", nsd: true, bname: "b", oway: true), JavaHeaderClass("HeartbeatRequestHeader", "")),
        FullHeader(
            EndTransactionRequestHeader(
                topic: "T", producerGroup: "PG", tranStateTableOffset: 3, commitLogOffset: 8192,
                commitOrRollback: EndTransactionRequestHeader.rollbackType, fromTransactionCheck: true, msgId: "M",
                transactionId: "X", ns: "ns", nsd: true, bname: "b", oway: true),
            JavaHeaderClass(
                "EndTransactionRequestHeader",
                "topic producerGroup tranStateTableOffset commitLogOffset commitOrRollback fromTransactionCheck msgId transactionId")),
        FullHeader(
            CheckTransactionStateRequestHeader(
                topic: "T", tranStateTableOffset: 3, commitLogOffset: 12288, msgId: "M", transactionId: "X",
                offsetMsgId: "O", ns: "ns", nsd: true, bname: "b", oway: true),
            JavaHeaderClass(
                "CheckTransactionStateRequestHeader",
                "topic tranStateTableOffset commitLogOffset msgId transactionId offsetMsgId")),
        FullHeader(
            ReplyMessageRequestHeader(
                producerGroup: "PG", topic: "DefaultCluster_REPLY_TOPIC", defaultTopic: "TBW102", defaultTopicQueueNums: 4,
                queueId: 0, sysFlag: 1, bornTimestamp: 1_700_000_000_000, flag: 2, properties: "a\u{1}b\u{2}",
                reconsumeTimes: 0, unitMode: true, bornHost: "127.0.0.1:1", storeHost: "127.0.0.1:2",
                storeTimestamp: 1_700_000_000_001, ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass(
                "ReplyMessageRequestHeader",
                "producerGroup topic defaultTopic defaultTopicQueueNums queueId sysFlag bornTimestamp flag properties reconsumeTimes unitMode bornHost storeHost storeTimestamp",
                topicHeader: true)),
        FullHeader(
            PopMessageRequestHeader(
                consumerGroup: "G", topic: "T", queueId: -1, maxMsgNums: 32, invisibleTime: 60_000, pollTime: 15_000,
                bornTime: 1_700_000_000_000, initMode: 1, expType: "TAG", exp: "*", order: true, attemptId: "A",
                ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass(
                "PopMessageRequestHeader",
                "consumerGroup topic queueId maxMsgNums invisibleTime pollTime bornTime initMode expType exp order attemptId",
                topicHeader: true)),
        FullHeader(
            PopMessageResponseHeader(
                popTime: 1, invisibleTime: 2, reviveQid: 3, restNum: 4, startOffsetInfo: "0 1 2", msgOffsetInfo: "0 1 2,3",
                orderCountInfo: "0 qo1%2 1"),
            JavaHeaderClass(
                "PopMessageResponseHeader",
                "popTime invisibleTime reviveQid restNum startOffsetInfo msgOffsetInfo orderCountInfo", rpcHeader: false)),
        FullHeader(
            AckMessageRequestHeader(
                consumerGroup: "G", topic: "T", queueId: 1, extraInfo: "0 1 2 3 0 b 1 5", offset: 5,
                ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass("AckMessageRequestHeader", "consumerGroup topic queueId extraInfo offset", topicHeader: true)),
        FullHeader(
            AckMessageRequestHeader(
                consumerGroup: "G", topic: "T", queueId: 1, extraInfo: "0 1 2 3 0 b 1 5", offset: 5, invisibleTime: 9,
                ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass(
                "ChangeInvisibleTimeRequestHeader", "consumerGroup topic queueId extraInfo offset invisibleTime", topicHeader: true)),
        FullHeader(
            ChangeInvisibleTimeResponseHeader(popTime: 1, invisibleTime: 2, reviveQid: 3),
            JavaHeaderClass("ChangeInvisibleTimeResponseHeader", "popTime invisibleTime reviveQid", rpcHeader: false)),
        FullHeader(
            PeekMessageRequestHeader(
                topic: "T", queueId: 1, maxMsgNums: 8, consumerGroup: "G", ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass("PeekMessageRequestHeader", "topic queueId maxMsgNums consumerGroup", topicHeader: true)),
        FullHeader(
            NotificationRequestHeader(
                consumerGroup: "G", topic: "T", queueId: -1, pollTime: 1, bornTime: 2, order: true, attemptId: "A",
                ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass(
                "NotificationRequestHeader", "consumerGroup topic queueId pollTime bornTime order attemptId", topicHeader: true)),
        FullHeader(
            NotificationResponseHeader(hasMsg: true, pollingFull: true),
            JavaHeaderClass("NotificationResponseHeader", "hasMsg pollingFull", rpcHeader: false)),
        FullHeader(
            GetConsumerRunningInfoRequestHeader(
                consumerGroup: "CG", clientId: "c@1", jstackEnable: true, ns: "ns", nsd: true, bname: "b", oway: true),
            JavaHeaderClass("GetConsumerRunningInfoRequestHeader", "consumerGroup clientId jstackEnable")),
        FullHeader(
            ConsumeMessageDirectlyResultRequestHeader(
                consumerGroup: "CG", clientId: "c@1", msgId: "M", brokerName: "broker-a", topic: "T", topicSysFlag: 1,
                groupSysFlag: 2, ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass(
                "ConsumeMessageDirectlyResultRequestHeader",
                "consumerGroup clientId msgId brokerName topic topicSysFlag groupSysFlag", topicHeader: true)),
        FullHeader(
            ResetOffsetRequestHeader(
                group: "CG", topic: "T", queueId: 2, offset: 100, timestamp: 1_700_000_000_000, isForce: true,
                ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass("ResetOffsetRequestHeader", "group topic queueId offset timestamp isForce", topicHeader: true)),
        FullHeader(UnregisterClientResponseHeader(), JavaHeaderClass("UnregisterClientResponseHeader", "", rpcHeader: false)),
        FullHeader(
            QueryMessageRequestHeader(
                topic: "T", key: "K", maxNum: 32, beginTimestamp: 1_700_000_000_000, endTimestamp: 1_700_000_001_000,
                ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass(
                "QueryMessageRequestHeader", "topic key maxNum beginTimestamp endTimestamp", topicHeader: true)),
        FullHeader(
            QueryMessageResponseHeader(indexLastUpdateTimestamp: 1_700_000_000_000, indexLastUpdatePhyoffset: 4096),
            JavaHeaderClass(
                "QueryMessageResponseHeader", "indexLastUpdateTimestamp indexLastUpdatePhyoffset", rpcHeader: false)),
        FullHeader(
            ViewMessageRequestHeader(offset: 4096, topic: "T"),
            JavaHeaderClass("ViewMessageRequestHeader", "topic offset", rpcHeader: false)),
        FullHeader(
            GetConsumeStatsRequestHeader(
                consumerGroup: "CG", topic: "T", topicList: "A;B;", ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            // The static TOPIC_NAME_SEPARATOR is in Java's field set too, but is skipped and does not move the others.
            JavaHeaderClass("GetConsumeStatsRequestHeader", "consumerGroup topic topicList", topicHeader: true)),
        FullHeader(
            GetConsumerConnectionListRequestHeader(consumerGroup: "CG", ns: "ns", nsd: true, bname: "b", oway: true),
            JavaHeaderClass("GetConsumerConnectionListRequestHeader", "consumerGroup")),
        FullHeader(
            GetTopicStatsInfoRequestHeader(topic: "T", ns: "ns", nsd: true, bname: "b", oway: true, lo: true),
            JavaHeaderClass("GetTopicStatsInfoRequestHeader", "topic", topicHeader: true)),
        FullHeader(GetConsumerListByGroupResponseHeader(), JavaHeaderClass("GetConsumerListByGroupResponseHeader", "", rpcHeader: false)),
        FullHeader(UpdateConsumerOffsetResponseHeader(), JavaHeaderClass("UpdateConsumerOffsetResponseHeader", "", rpcHeader: false)),
    ]

    @Test(arguments: all)
    func everyFieldRoundTrips(_ full: FullHeader) throws {
        #expect(try full.roundTrips())
        // Every Java field (own and inherited) is written.
        #expect(Set(full.header.fields.keys) == Set(full.java.reflectionOrder))
    }

    @Test(arguments: all)
    func fieldsAreInsertedInJavaReflectionOrder(_ full: FullHeader) {
        #expect(full.header.fields.keys == full.java.reflectionOrder)
    }

    @Test func declarationOrderWouldDifferFromJava() throws {
        // Why the reflection order matters: "defaultTopic" and "properties" share a bucket of a 16-slot HashMap, and
        // Java inserts "properties" first.
        let keys = ["defaultTopic", "properties"]
        #expect(JavaCompat.hashMapOrder(keys) == ["defaultTopic", "properties"])
        var header = Self.send
        header.maxReconsumeTimes = nil
        header.reconsumeTimes = nil
        header.unitMode = nil
        header.batch = nil
        header.ns = nil
        header.nsd = nil
        header.oway = nil
        header.lo = nil
        header.bname = nil
        let fields = header.fields
        let order = fields.javaHashMapOrdered.map(\.key)
        let properties = try #require(order.firstIndex(of: "properties"))
        let defaultTopic = try #require(order.firstIndex(of: "defaultTopic"))
        #expect(properties < defaultTopic)
    }

    @Test func fastCodesOrderMatchesJavaEncoders() throws {
        let pull = try #require(Self.all[2].header as? PullMessageRequestHeader)
        var fields = ExtFields()
        pull.encodeFast(into: &fields)
        #expect(fields.keys == [
            "consumerGroup", "topic", "queueId", "queueOffset", "maxMsgNums", "sysFlag", "commitOffset",
            "suspendTimeoutMillis", "subscription", "subVersion", "expressionType", "maxMsgBytes", "requestSource",
            "proxyFrowardClientId", "lo", "ns", "nsd", "bname", "oway",
        ])
        let pullResponse = try #require(Self.all[3].header as? PullMessageResponseHeader)
        fields = ExtFields()
        pullResponse.encodeFast(into: &fields)
        #expect(fields.keys == [
            "suggestWhichBrokerId", "nextBeginOffset", "minOffset", "maxOffset", "offsetDelta", "topicSysFlag",
            "groupSysFlag", "forbiddenType",
        ])
        let sendResponse = try #require(Self.all[1].header as? SendMessageResponseHeader)
        fields = ExtFields()
        sendResponse.encodeFast(into: &fields)
        #expect(fields.keys == ["msgId", "queueId", "queueOffset", "transactionId", "batchUniqId", "recallHandle"])
    }

    // MARK: Send V2

    @Test func sendV2UsesOneLetterNamesAndJavaDefaults() throws {
        let header = SendMessageRequestHeader(
            producerGroup: "PG", topic: "T", queueId: 2, bornTimestamp: 1_700_000_000_000, bname: "broker-a")
        let v2 = header.v2Fields
        #expect(v2.keys == ["a", "b", "c", "d", "e", "f", "g", "h", "j", "k", "m", "n"])
        #expect(v2.binaryOrder == .insertion)
        #expect(v2["c"] == "TBW102" && v2["d"] == "4" && v2["j"] == "0" && v2["k"] == "false" && v2["m"] == "false")
        #expect(v2["n"] == "broker-a" && v2["l"] == nil && v2["i"] == nil)
        let back = try SendMessageRequestHeader(v2Fields: v2)
        #expect(back.producerGroup == "PG" && back.bname == "broker-a" && back.reconsumeTimes == 0 && back.batch == false)
        // The common fields other than bname are not carried by the V2 form (Java's converter drops them).
        #expect(try SendMessageRequestHeader(v2Fields: Self.send.v2Fields).ns == nil)
    }

    /// The V2 fields are written into the frame straight from the header; the bytes must be those of the same entries
    /// written as plain extFields, whatever is present and whatever the strings hold.
    @Test func sendV2WrittenStraightFromTheHeaderMatchesItsEntries() throws {
        let headers = [
            SendMessageRequestHeader(producerGroup: "PG", topic: "T", queueId: 2, bornTimestamp: 1_700_000_000_000),
            SendMessageRequestHeader(
                producerGroup: "p\"g\\", topic: "T\u{1}", defaultTopic: "D", defaultTopicQueueNums: -4, queueId: -1,
                sysFlag: Int32.min, bornTimestamp: Int64.min, flag: Int32.max,
                properties: "KEYS\u{1}k\u{2}UNIQ_KEY\u{1}é\u{7F}\u{85}\u{2028}x\u{2}", reconsumeTimes: 3, unitMode: true,
                batch: true, maxReconsumeTimes: 16, bname: "broker-ü"),
            SendMessageRequestHeader(
                producerGroup: "", topic: "t", queueId: 0, bornTimestamp: 0, properties: "", reconsumeTimes: 0,
                maxReconsumeTimes: 0, bname: ""),
        ]
        for header in headers {
            let direct = header.v2Fields
            let plain = ExtFields(direct.entries.map { ($0.key, $0.value) })
            for type in [SerializeType.json, .rocketmq] {
                var viaHeader = RemotingCommand.request(.sendMessageV2, opaque: 7, extFields: direct)
                viaHeader.serializeType = type
                var viaEntries = RemotingCommand.request(.sendMessageV2, opaque: 7, extFields: plain)
                viaEntries.extFields?.binaryOrder = .insertion
                viaEntries.serializeType = type
                let a = try RemotingFrame.encode(viaHeader)
                let b = try RemotingFrame.encode(viaEntries)
                #expect(a == b, "\(header) \(type)")
                if type == .json {  // (ROCKETMQ maps drop empty values, as Java's decoder does)
                    #expect(try RemotingFrame.decodeWithLengthPrefix(a).extFields == direct)
                }
            }
            // Changing header-backed fields works on the entries.
            var changed = direct
            changed["e"] = "5"
            changed["x"] = "y"
            #expect(changed["e"] == "5" && changed["x"] == "y" && changed["a"] == header.producerGroup)
            #expect(changed.count == direct.count + 1 && direct["e"] == String(header.queueId))
        }
    }

    /// A broker's answer to a send, written straight from the header, is the bytes of the same fields built as Java
    /// builds them (MSG_REGION and TRACE_ON by addExtField, then the header) and written as plain extFields.
    @Test func brokerSendResponseWrittenStraightFromTheHeaderMatchesItsEntries() throws {
        let headers = [
            SendMessageResponseHeader(msgId: "7F00000100002A9F0000000000000000", queueId: 3, queueOffset: 0),
            SendMessageResponseHeader(
                msgId: "A,B", queueId: -1, queueOffset: Int64.max, transactionId: "C0A8\u{1}\"", batchUniqId: "b",
                recallHandle: "r"),
            SendMessageResponseHeader(msgId: "", queueId: 0, queueOffset: -5, transactionId: "t"),
        ]
        for header in headers {
            for traceOn in [true, false] {
                let direct = header.brokerResponseFields(region: "Region-é", traceOn: traceOn)
                var plain = ExtFields()
                plain.javaInitialCapacity = ExtFields.addExtFieldCapacity
                plain["MSG_REGION"] = "Region-é"
                plain["TRACE_ON"] = traceOn ? "true" : "false"
                header.encode(into: &plain)
                #expect(direct == plain)
                for type in [SerializeType.json, .rocketmq] {
                    let request = RemotingCommand.request(.sendMessageV2, opaque: 9)
                    var viaHeader = RemotingCommand.response(to: request, code: .success, extFields: direct)
                    viaHeader.serializeType = type
                    var viaEntries = RemotingCommand.response(to: request, code: .success, extFields: plain)
                    viaEntries.serializeType = type
                    #expect(try RemotingFrame.encode(viaHeader) == RemotingFrame.encode(viaEntries), "\(header) \(type)")
                }
                #expect(try SendMessageResponseHeader(fields: direct) == header)
            }
        }
    }

    @Test func sendHeaderDecodesByRequestCode() throws {
        let v2 = RemotingCommand.request(.sendMessageV2, extFields: Self.send.v2Fields)
        #expect(try SendMessageRequestHeader(command: v2).maxReconsumeTimes == 16)
        let batch = RemotingCommand.request(.sendBatchMessage, extFields: Self.send.v2Fields)
        #expect(try SendMessageRequestHeader(command: batch).batch == true)
        let v1 = RemotingCommand.request(.sendMessage, extFields: Self.send.fields)
        #expect(try SendMessageRequestHeader(command: v1) == Self.send)
        // Long names under code 310 are missing the one-letter fields.
        let wrong = RemotingCommand.request(.sendMessageV2, extFields: Self.send.fields)
        #expect(throws: WireError.self) { try SendMessageRequestHeader(command: wrong) }
        // init(fields:) recognises the V2 names by themselves.
        #expect(try SendMessageRequestHeader(fields: Self.send.v2Fields).topic == "T")
    }

    // MARK: Decoding rules

    @Test func missingRequiredFieldNamesTheField() throws {
        var fields = Self.all[2].header.fields  // PullMessageRequestHeader
        fields["subVersion"] = nil
        let error = try #require(throws: WireError.self) { try PullMessageRequestHeader(fields: fields) }
        #expect(error.kind == .invalidHeaderField)
        #expect(error.message.hasPrefix("subVersion"))
        #expect(throws: WireError.self) { try GetRouteInfoRequestHeader(fields: ExtFields()) }
        #expect(throws: WireError.self) { try OffsetResponseHeader(fields: ["offset": ""]) }
    }

    @Test(arguments: ["abc", "", " 5", "5 ", "2147483648", "-2147483649", "1.0", "0x10", "5L"])
    func unparseableInt32IsRejected(_ text: String) throws {
        let error = try #require(throws: WireError.self) {
            try GetMinOffsetRequestHeader(fields: ["topic": "T", "queueId": text])
        }
        #expect(error.kind == .invalidHeaderField)
        #expect(error.message.hasPrefix("queueId"))
    }

    @Test func javaNumberSyntaxIsAccepted() throws {
        #expect(try GetMinOffsetRequestHeader(fields: ["topic": "T", "queueId": "+7"]).queueId == 7)
        #expect(try GetMinOffsetRequestHeader(fields: ["topic": "T", "queueId": "-2147483648"]).queueId == Int32.min)
        #expect(try OffsetResponseHeader(fields: ["offset": "9223372036854775807"]).offset == Int64.max)
        #expect(throws: WireError.self) { try OffsetResponseHeader(fields: ["offset": "9223372036854775808"]) }
    }

    @Test func booleansFollowJavaParseBoolean() throws {
        func committed(_ text: String?) throws -> Bool {
            var fields: ExtFields = ["topic": "T", "queueId": "0"]
            fields["committed"] = text
            return try GetMaxOffsetRequestHeader(fields: fields).committed
        }
        #expect(try committed(nil) == true)  // Java's field default
        #expect(try committed("true") && committed("TRUE") && committed("True"))
        #expect(try !committed("false") && !committed("yes") && !committed("1") && !committed(""))
    }

    @Test func primitiveDefaultsApplyWhenAbsent() throws {
        let reset = try ResetOffsetRequestHeader(fields: ["group": "G", "topic": "T", "timestamp": "5", "isForce": "false"])
        #expect(reset.queueId == -1 && reset.offset == nil)
        #expect(reset.fields["queueId"] == "-1")  // Java's primitive is always written
        #expect(throws: WireError.self) { try ResetOffsetRequestHeader(fields: ["group": "G", "topic": "T", "timestamp": "5"]) }
        let back = try ConsumerSendMsgBackRequestHeader(fields: ["offset": "1", "group": "G", "delayLevel": "0"])
        #expect(back.unitMode == false && back.fields["unitMode"] == "false")
        let end = try EndTransactionRequestHeader(
            fields: ["producerGroup": "P", "tranStateTableOffset": "1", "commitLogOffset": "2", "commitOrRollback": "8", "msgId": "M"])
        #expect(end.fromTransactionCheck == false && end.fields["fromTransactionCheck"] == "false")
        let info = try GetConsumerRunningInfoRequestHeader(fields: ["consumerGroup": "G", "clientId": "C"])
        #expect(info.jstackEnable == false)
    }

    @Test func boundaryTypeIsCaseInsensitive() throws {
        func boundary(_ text: String) throws -> BoundaryType? {
            try SearchOffsetRequestHeader(fields: ["topic": "T", "queueId": "0", "timestamp": "1", "boundaryType": text]).boundaryType
        }
        #expect(try boundary("upper") == .upper && boundary("UPPER") == .upper && boundary("uPpEr") == .upper)
        #expect(try boundary("lower") == .lower && boundary("anything") == .lower)
        #expect(SearchOffsetRequestHeader(topic: "T", queueId: 0, timestamp: 1, boundaryType: .upper).fields["boundaryType"] == "UPPER")
    }

    @Test func pullSysFlagBits() {
        let flags = PullSysFlag.build(commitOffset: true, suspend: true, subscription: true, classFilter: false)
        #expect(flags.rawValue == 7)
        #expect(PullSysFlag.build(commitOffset: false, suspend: true, subscription: false, classFilter: true).rawValue == 10)
        var header = PullMessageRequestHeader(
            consumerGroup: "G", topic: "T", queueId: 0, queueOffset: 0, sysFlag: 3, commitOffset: 0,
            suspendTimeoutMillis: 15000, subVersion: 1)
        #expect(header.pullSysFlag == [.commitOffset, .suspend])
        header.pullSysFlag.insert(.litePull)
        #expect(header.sysFlag == 0x13)
    }

    // MARK: Wire fields

    @Test func wireFieldsForFastCodesHeaders() throws {
        let header = SendMessageResponseHeader(msgId: "M", queueId: 2, queueOffset: 7, transactionId: "X")
        let explicit: ExtFields = ["MSG_REGION": "DefaultRegion", "TRACE_ON": "true"]
        let binary = header.wireFields(for: .rocketmq, adding: explicit)
        #expect(binary.binaryOrder == .insertion)
        #expect(binary.keys == ["msgId", "queueId", "queueOffset", "transactionId", "TRACE_ON", "MSG_REGION"])
        let json = header.wireFields(for: .json, adding: explicit)
        #expect(json.binaryOrder == .javaHashMap && json.javaInitialCapacity == 256)
        #expect(json == binary)
        // Ordinary headers use the HashMap form in both serializations.
        let query = QueryConsumerOffsetRequestHeader(consumerGroup: "G", topic: "T", queueId: 1)
        #expect(query.wireFields(for: .rocketmq).binaryOrder == .javaHashMap)
        #expect(query.wireFields(for: .rocketmq).javaInitialCapacity == 16)
    }

    @Test func emptyHeaderStillWritesAnEmptyExtFieldsObject() throws {
        let command = RemotingCommand.request(.heartBeat, opaque: 1, extFields: HeartbeatRequestHeader().fields)
        let bytes = Array(try RemotingFrame.encode(command).readableBytesView)
        #expect(String(decoding: bytes[8...], as: UTF8.self).contains(#""extFields":{}"#))
        #expect(try HeartbeatRequestHeader(command: RemotingCommand(code: 34)) == HeartbeatRequestHeader())
    }

    @Test func unknownKeysAreIgnored() throws {
        var fields = GetRouteInfoRequestHeader(topic: "T").fields
        fields["AccessKey"] = "ak"
        fields["Signature"] = "sig"
        #expect(try GetRouteInfoRequestHeader(fields: fields) == GetRouteInfoRequestHeader(topic: "T"))
    }
}
