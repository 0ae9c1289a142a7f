import NIOCore
import Testing

@testable import RocketMQWire

@Suite("JSON bodies")
struct BodyTests {
    /// The body of golden frame `name` (JSON and ROCKETMQ variants carry the same body).
    static func goldenBody(_ name: String, _ type: String = "JSON") throws -> [UInt8] {
        let line = try #require(try Golden.lines("frames").first {
            $0["name"]?.stringValue == name && $0["serialize_type"]?.stringValue == type
        })
        let command = try RemotingFrame.decodeWithLengthPrefix(try Golden.buffer(hex: line["hex"]?.stringValue ?? ""))
        return command.bodyBytes
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    // MARK: Route data

    @Test func standardRouteDataIsByteExact() throws {
        let body = try Self.goldenBody("get_routeinfo_response_standard_json")
        let route = try TopicRouteData(bytes: body)
        #expect(route.brokerDatas.map(\.brokerName) == ["broker-b", "broker-a"])  // the name server's order is kept
        #expect(route.queueDatas.map(\.brokerName) == ["broker-b", "broker-a"])
        let a = route.brokerDatas[1]
        #expect(a.cluster == "DefaultCluster" && a.masterAddress == "192.168.0.10:10911" && a.brokerAddrs[1] == "192.168.0.11:10911")
        #expect(a.enableActingMaster == false && a.zoneName == nil)
        #expect(route.queueDatas[0] == QueueData(brokerName: "broker-b", readQueueNums: 4, writeQueueNums: 4, perm: 6))
        #expect(route.queueDatas[0].isReadable && route.queueDatas[0].isWritable)
        #expect(route.orderTopicConf == nil)
        #expect(route.encoded() == body)
        #expect(route.encoded(format: .standard) == body)
        #expect(Array(route.encodedBuffer().readableBytesView) == body)
        #expect(try Self.goldenBody("get_routeinfo_response_accept_standard_json") == body)
        #expect(try Self.goldenBody("get_routeinfo_response_standard_json", "ROCKETMQ") == body)
    }

    @Test func legacyRouteDataIsByteExact() throws {
        let body = try Self.goldenBody("get_routeinfo_response_legacy_json")
        #expect(Self.text(body).contains(#"{0:"192.168.0.20:10911",1:"192.168.0.21:10911"}"#))
        let route = try TopicRouteData(buffer: ByteBuffer(bytes: body))
        let standard = try TopicRouteData(bytes: try Self.goldenBody("get_routeinfo_response_standard_json"))
        #expect(route == standard)
        #expect(route.encoded(format: .legacy) == body)
    }

    @Test func standardRouteDataEscapesLikeBrowserCompatible() throws {
        let route = TopicRouteData(
            orderTopicConf: "brökér/a:4",
            queueDatas: [QueueData(brokerName: "brökér/a", readQueueNums: 1, writeQueueNums: 1)],
            brokerDatas: [BrokerData(cluster: "c\u{7F}", brokerName: "brökér/a", brokerAddrs: [0: "h:1"], zoneName: "z")])
        let standard = Self.text(route.encoded(format: .standard))
        #expect(standard.contains(#""brokerName":"br\u00F6k\u00E9r\/a""#))
        #expect(standard.contains(#""cluster":"c\u007F""#))
        #expect(standard.contains(#""orderTopicConf":"br\u00F6k\u00E9r\/a:4""#))
        #expect(standard.contains(#""zoneName":"z""#))
        let legacy = Self.text(route.encoded(format: .legacy))
        #expect(legacy.contains(#""brokerName":"brökér/a""#))
        #expect(legacy.contains(#"{0:"h:1"}"#))
        #expect(try TopicRouteData(bytes: route.encoded(format: .standard)) == route)
        #expect(try TopicRouteData(bytes: route.encoded(format: .legacy)) == route)
    }

    @Test func brokerAddrsKeyOrder() throws {
        let broker = BrokerData(cluster: "c", brokerName: "b", brokerAddrs: [17: "d", 0: "a", 16: "c", 1: "b"])
        // Standard JSON sorts the ids (MapSortField); legacy follows Java HashMap<Long,String> buckets.
        #expect(Self.text(JSONWriter.encode(broker.json(legacy: false))).hasPrefix(#"{"brokerAddrs":{"0":"a","1":"b","16":"c","17":"d"}"#))
        #expect(Self.text(JSONWriter.encode(broker.json(legacy: true))).hasPrefix(#"{"brokerAddrs":{0:"a",16:"c",1:"b",17:"d"}"#))
    }

    @Test func routeDataToleratesMissingAndExtraMembers() throws {
        let text = #"{"queueDatas":[{"writeQueueNums":"8","brokerName":"b","perm":6}],"extra":[1,{"x":null}],"#
            + #""brokerDatas":[{"brokerName":"b","brokerAddrs":{"0":"h:1","1":null}}],"topicQueueMappingByBroker":{}}"#
        let route = try TopicRouteData(bytes: Array(text.utf8))
        #expect(route.queueDatas == [QueueData(brokerName: "b", readQueueNums: 0, writeQueueNums: 8, perm: 6)])
        #expect(route.brokerDatas[0].brokerAddrs == [0: "h:1"] && route.brokerDatas[0].cluster == "")
        #expect(try TopicRouteData(bytes: Array("{}".utf8)) == TopicRouteData(queueDatas: [], brokerDatas: []))
    }

    @Test(arguments: [
        #"[]"#, #"{"queueDatas":{}}"#, #"{"brokerDatas":[{"brokerName":"b","brokerAddrs":{"x":"h"}}]}"#,
        #"{"brokerDatas":[{"brokerName":"b","brokerAddrs":[]}]}"#, #"{"queueDatas":[{"brokerName":"b","perm":1.5}]}"#,
        #"{"queueDatas":[{"perm":6}]}"#, #"{"queueDatas":[{"brokerName":"b","perm":4294967296}]}"#,
        #"{"brokerDatas":[{"brokerName":"b","enableActingMaster":"maybe"}]}"#, #"{"brokerDatas":[{"brokerName":["b"]}]}"#,
    ])
    func malformedRouteDataIsRejected(_ text: String) throws {
        let error = try #require(throws: WireError.self) { try TopicRouteData(bytes: Array(text.utf8)) }
        #expect(error.kind == .malformedJSON)
    }

    // MARK: Heartbeat

    @Test func heartbeatIsByteExact() throws {
        let body = try Self.goldenBody("heart_beat_request")
        let heartbeat = try HeartbeatData(bytes: body)
        #expect(heartbeat.clientID == "192.168.0.2@12345#1700000000000000000")
        #expect(heartbeat.producerDataSet == [ProducerData(groupName: "GoldenProducerGroup")])
        let consumer = try #require(heartbeat.consumerDataSet.first)
        #expect(consumer.groupName == "GoldenGroup" && consumer.consumeType == .consumePassively)
        #expect(consumer.messageModel == .clustering && consumer.consumeFromWhere == .consumeFromFirstOffset)
        #expect(consumer.subscriptionDataSet.map(\.topic) == ["GoldenTopic", "%RETRY%GoldenGroup"])
        let tags = consumer.subscriptionDataSet[0]
        #expect(tags.subString == "TagA || TagB" && tags.tagsSet == ["TagA", "TagB"] && tags.codeSet == [2_598_919, 2_598_920])
        #expect(tags.subVersion == 1_700_000_000_000 && tags.expressionType == "TAG" && !tags.classFilterMode)
        #expect(heartbeat.heartbeatFingerprint == 0 && heartbeat.withoutSub == false)
        #expect(heartbeat.encoded() == body)
    }

    @Test func heartbeatSetsAreWrittenInJavaHashSetOrder() throws {
        let body = try Self.goldenBody("heart_beat_request")
        var heartbeat = try HeartbeatData(bytes: body)
        // Build the same sets in other orders: Java's HashSet iteration order does not depend on it here.
        heartbeat.consumerDataSet[0].subscriptionDataSet.reverse()
        heartbeat.consumerDataSet[0].subscriptionDataSet[1].tagsSet.reverse()
        heartbeat.consumerDataSet[0].subscriptionDataSet[1].codeSet.reverse()
        #expect(heartbeat.consumerDataSet[0].subscriptionDataSet[0].topic == "%RETRY%GoldenGroup")
        #expect(heartbeat.encoded() == body)
    }

    @Test func heartbeatBuiltFromScratchMatchesJava() throws {
        var sub = try SubscriptionData.build(topic: "GoldenTopic", expression: "TagA || TagB", subVersion: 1_700_000_000_000)
        let retry = try SubscriptionData.build(topic: "%RETRY%GoldenGroup", expression: "*", subVersion: 1_700_000_000_001)
        sub.classFilterMode = false
        let heartbeat = HeartbeatData(
            clientID: "192.168.0.2@12345#1700000000000000000",
            producerDataSet: [ProducerData(groupName: "GoldenProducerGroup")],
            consumerDataSet: [
                ConsumerData(
                    groupName: "GoldenGroup", consumeType: .consumePassively, messageModel: .clustering,
                    consumeFromWhere: .consumeFromFirstOffset, subscriptionDataSet: [retry, sub])
            ])
        #expect(heartbeat.encoded() == (try Self.goldenBody("heart_beat_request")))
    }

    @Test func heartbeatToleratesAnyKeyOrderMissingMembersAndUnknownEnums() throws {
        let text = #"{"withoutSub":true,"consumerDataSet":[{"subscriptionDataSet":[{"topic":"T","subString":"*"}],"#
            + #""messageModel":"SOMETHING_NEW","groupName":"G","consumeType":"CONSUME_POP"}],"clientID":"c@1"}"#
        let heartbeat = try HeartbeatData(bytes: Array(text.utf8))
        #expect(heartbeat.withoutSub && heartbeat.heartbeatFingerprint == 0 && heartbeat.producerDataSet.isEmpty)
        let consumer = try #require(heartbeat.consumerDataSet.first)
        #expect(consumer.messageModel?.rawValue == "SOMETHING_NEW" && consumer.consumeType == .consumePop)
        #expect(consumer.consumeFromWhere == nil && consumer.unitMode == false)
        let sub = try #require(consumer.subscriptionDataSet.first)
        #expect(sub.tagsSet.isEmpty && sub.codeSet.isEmpty && sub.subVersion == 0 && sub.expressionType == "TAG")
        let again = Self.text(heartbeat.encoded())
        #expect(again.contains(#""messageModel":"SOMETHING_NEW""#))
        #expect(!again.contains("consumeFromWhere"))  // null members are omitted
        #expect(try HeartbeatData(bytes: heartbeat.encoded()) == heartbeat)
    }

    @Test func heartbeatRejectsWrongTypes() throws {
        for text in [
            #"{"clientID":{}}"#, #"{}"#, #"{"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{"topic":"T","codeSet":["x"]}]}]}"#,
            #"{"clientID":"c","producerDataSet":[{}]}"#, #"{"clientID":"c","heartbeatFingerprint":"x"}"#,
        ] {
            #expect(throws: WireError.self, "\(text)") { try HeartbeatData(bytes: Array(text.utf8)) }
        }
    }

    // MARK: Consumer list, locks

    @Test func consumerListIsByteExact() throws {
        let body = try Self.goldenBody("get_consumer_list_by_group_response")
        let list = try ConsumerListBody(bytes: body)
        #expect(list.consumerIdList == ["192.168.0.2@12345#1700000000000000000", "192.168.0.3@23456#1700000000000000001"])
        #expect(list.encoded() == body)
    }

    static func queue(_ id: Int32) -> MessageQueueData { MessageQueueData(topic: "GoldenTopic", brokerName: "broker-a", queueId: id) }

    @Test func lockBodiesAreByteExact() throws {
        let request = try Self.goldenBody("lock_batch_mq_request")
        let lock = try LockBatchRequestBody(bytes: request)
        #expect(lock.clientId == "192.168.0.2@12345#1700000000000000000" && lock.consumerGroup == "GoldenGroup")
        #expect(lock.mqSet == [Self.queue(0), Self.queue(2), Self.queue(1)] && !lock.onlyThisBroker)
        #expect(lock.encoded() == request)
        // Queues in sorted order are written in Java's HashSet order all the same.
        let sorted = LockBatchRequestBody(
            consumerGroup: "GoldenGroup", clientId: lock.clientId, mqSet: [Self.queue(0), Self.queue(1), Self.queue(2)])
        #expect(sorted.encoded() == request)

        let response = try Self.goldenBody("lock_batch_mq_response")
        let locked = try LockBatchResponseBody(bytes: response)
        #expect(locked.lockOKMQSet == [Self.queue(0), Self.queue(2)])
        #expect(LockBatchResponseBody(lockOKMQSet: [Self.queue(2), Self.queue(0)]).encoded() == response)

        let unlock = UnlockBatchRequestBody(consumerGroup: "GoldenGroup", clientId: lock.clientId, mqSet: sorted.mqSet)
        #expect(unlock.encoded() == request)  // same shape as the lock request
        let decodedUnlock = try UnlockBatchRequestBody(bytes: request)
        #expect(Set(decodedUnlock.mqSet) == Set(unlock.mqSet) && decodedUnlock.clientId == unlock.clientId)
    }

    @Test func messageQueueOrdering() {
        let a = MessageQueueData(topic: "T", brokerName: "b", queueId: 2)
        let b = MessageQueueData(topic: "T", brokerName: "b", queueId: 10)
        let c = MessageQueueData(topic: "T", brokerName: "B", queueId: 0)  // upper case sorts first in Java
        #expect([a, b, c].sorted() == [c, a, b])
        // Java: 31 * (31 * (31 + "b".hashCode()) + 2) + "T".hashCode()
        let expected: Int32 = 31 &* (31 &* (31 &+ 98) &+ 2) &+ 84
        #expect(a.javaHashCode == expected)
    }

    // MARK: Consume directly, reset offset

    @Test func consumeMessageDirectlyResult() throws {
        let text = #"{"autoCommit":true,"consumeResult":"CR_SUCCESS","order":false,"remark":"ok","spentTimeMills":12}"#
        let result = try ConsumeMessageDirectlyResult(bytes: Array(text.utf8))
        #expect(result == ConsumeMessageDirectlyResult(consumeResult: .success, remark: "ok", spentTimeMills: 12))
        #expect(Self.text(result.encoded()) == text)
        let unknown = try ConsumeMessageDirectlyResult(bytes: Array(#"{"consumeResult":"CR_NEW"}"#.utf8))
        #expect(unknown.consumeResult?.rawValue == "CR_NEW" && unknown.autoCommit && !unknown.order)
        #expect(Self.text(ConsumeMessageDirectlyResult(consumeResult: nil).encoded())
            == #"{"autoCommit":true,"order":false,"spentTimeMills":0}"#)
    }

    @Test func resetOffsetBodyWithObjectKeys() throws {
        let text = #"{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:100,"#
            + #"{"brokerName":"broker-a","queueId":1,"topic":"TopicTest"}:200}}"#
        let body = try ResetOffsetBody(bytes: Array(text.utf8))
        let q0 = MessageQueueData(topic: "TopicTest", brokerName: "broker-a", queueId: 0)
        let q1 = MessageQueueData(topic: "TopicTest", brokerName: "broker-a", queueId: 1)
        #expect(body.offsetTable == [q0: 100, q1: 200])
        let again = body.encoded()
        #expect(try ResetOffsetBody(bytes: again) == body)
        #expect(Self.text(again).hasPrefix(#"{"offsetTable":{{"brokerName":"broker-a","queueId":"#))
        // The CPP form (ResetOffsetBodyForC) is a list.
        let forC = #"{"offsetTable":[{"brokerName":"broker-a","offset":100,"queueId":0,"topic":"TopicTest"}]}"#
        #expect(try ResetOffsetBody(bytes: Array(forC.utf8)).offsetTable == [q0: 100])
        #expect(try ResetOffsetBody(bytes: Array("{}".utf8)).offsetTable.isEmpty)
        for bad in [#"{"offsetTable":{"x":1}}"#, #"{"offsetTable":{{"topic":"T","brokerName":"b"}:"x"}}"#, #"{"offsetTable":5}"#] {
            #expect(throws: WireError.self, "\(bad)") { try ResetOffsetBody(bytes: Array(bad.utf8)) }
        }
    }

    // MARK: Java hash ordering

    @Test func hashOrderMatchesJavaHashSet() {
        // Golden taghash expr_unicode: HashSet<String> and HashSet<Integer> iteration order.
        #expect(JavaCompat.hashOrder(["标签", "🚀", "café"], hashCode: JavaCompat.stringHashCode) == ["🚀", "标签", "café"])
        #expect(JavaCompat.hashOrder([1_773_027, 857_175, 3_045_921] as [Int32]) { $0 } == [1_773_027, 857_175, 3_045_921])
        #expect(JavaCompat.hashOrder(["a", "b", "a"], hashCode: JavaCompat.stringHashCode) == ["a", "b"])
        // Same as the existing HashMap<String> emulation.
        let keys = (0..<40).map { "key\($0)" }
        #expect(JavaCompat.hashOrder(keys, hashCode: JavaCompat.stringHashCode) == JavaCompat.hashMapOrder(keys))
        #expect(JavaCompat.longHashCode(0x1_0000_0002) == 3 && JavaCompat.longHashCode(-1) == 0)
    }

    // MARK: JSONWriter escaping (fastjson 1.2.83 SerializeWriter)

    @Test func writerEscapesLikeFastjson() {
        // Default features: control characters, quote, backslash, U+007F...U+009F and U+2028/U+2029.
        let plain = Self.text(JSONWriter.encode(.string("a\"\\\u{1}\n/\u{7F}\u{85}\u{9F}\u{A0}é\u{2028}\u{2029}€😀\u{2027}\u{202A}\u{1}")))
        #expect(plain == #""a\"\\\u0001\n/\u007F\u0085\u009F"# + "\u{A0}é" + #"\u2028\u2029"# + "€😀\u{2027}\u{202A}" + #"\u0001""#)
        #expect(Self.text(JSONWriter.encode(.string("plain ascii"))) == #""plain ascii""#)
        // BrowserCompatible: also '/', DEL and every non-ASCII unit, surrogates separately.
        let browser = Self.text(JSONWriter.encode(.string("a/\u{7F}é😀\t"), browserCompatible: true))
        #expect(browser == #""a\/\u007F\u00E9\uD83D\uDE00\t""#)
    }
}
