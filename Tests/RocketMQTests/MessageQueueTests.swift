import Testing

@testable import RocketMQ

@Suite("MessageQueue and Java string order")
struct MessageQueueTests {
    @Test func descriptionIsJavaToString() {
        let queue = MessageQueue(topic: "GoldenTopic", brokerName: "broker-a", queueId: 3)
        #expect(queue.description == "MessageQueue [topic=GoldenTopic, brokerName=broker-a, queueId=3]")
        let negative = MessageQueue(topic: "t", brokerName: "b", queueId: -1)
        #expect("\(negative)" == "MessageQueue [topic=t, brokerName=b, queueId=-1]")
    }

    @Test func ordersByTopicThenBrokerThenQueueId() {
        let expected = [
            MessageQueue(topic: "A", brokerName: "b", queueId: 5),
            MessageQueue(topic: "B", brokerName: "a", queueId: 2),
            MessageQueue(topic: "B", brokerName: "a", queueId: 10),
            MessageQueue(topic: "B", brokerName: "b", queueId: 0),
            MessageQueue(topic: "a", brokerName: "a", queueId: 0),
        ]
        #expect(expected.reversed().sorted() == expected)
        #expect(expected.shuffled().sorted() == expected)
    }

    /// Java compares UTF-16 code units: U+FF21 (a BMP character above the surrogates) sorts after an emoji
    /// (a surrogate pair starting with U+D83D), the opposite of scalar (and Swift) order.
    @Test func utf16OrderDiffersFromScalarOrder() {
        let fullwidthA = "\u{FF21}"
        let rocket = "\u{1F680}"
        #expect(fullwidthA < rocket)  // Swift
        #expect(JavaStringOrder.compare(fullwidthA, rocket) > 0)  // Java
        #expect(JavaStringOrder.compare(rocket, fullwidthA) < 0)
        #expect(JavaStringOrder.compare("x\u{E000}", "x\u{10000}") > 0)
        #expect(JavaStringOrder.compare("x\u{D7FF}", "x\u{10000}") < 0)
        let a = MessageQueue(topic: "T", brokerName: fullwidthA, queueId: 0)
        let b = MessageQueue(topic: "T", brokerName: rocket, queueId: 0)
        #expect(b < a)
        #expect([a, b].sorted() == [b, a])
    }

    @Test func compareAgreesWithUTF16Units() {
        let samples = [
            "", "a", "A", "ab", "a\u{0}", "Z", "_", "~", "\u{7F}", "\u{80}", "\u{E9}", "e\u{301}", "\u{7FF}", "\u{800}",
            "\u{D7FF}", "\u{E000}", "\u{FFFD}", "\u{FFFF}", "\u{10000}", "\u{1F680}", "\u{10FFFF}", "键", "标签",
            "\u{1F680}a", "\u{1F681}", "AccessKey", "SecurityToken", "Signature", "a\u{FF21}", "a\u{1F680}",
        ]
        for x in samples {
            for y in samples {
                let units = x.utf16.lexicographicallyPrecedes(y.utf16) ? -1 : (Array(x.utf16) == Array(y.utf16) ? 0 : 1)
                #expect(JavaStringOrder.compare(x, y) == units, "\(x.debugDescription) vs \(y.debugDescription)")
            }
        }
    }

    @Test func sortsClientIDsTheJavaWay() {
        let ids = ["192.168.0.2@1", "10.0.0.1@\u{1F680}", "10.0.0.1@\u{FF21}", "10.0.0.1@Z", "10.0.0.1@a"]
        #expect(
            JavaStringOrder.sorted(ids)
                == ["10.0.0.1@Z", "10.0.0.1@a", "10.0.0.1@\u{1F680}", "10.0.0.1@\u{FF21}", "192.168.0.2@1"])
    }

    /// Java `equals` is code-unit equality; Swift's `==` on String is canonical equivalence.
    @Test func equalityIsExactLikeJava() {
        let precomposed = MessageQueue(topic: "caf\u{E9}", brokerName: "b", queueId: 1)
        let decomposed = MessageQueue(topic: "cafe\u{301}", brokerName: "b", queueId: 1)
        #expect(precomposed.topic == decomposed.topic)
        #expect(precomposed != decomposed)
        #expect(Set([precomposed, decomposed]).count == 2)
        #expect(JavaStringOrder.compare(precomposed.topic, decomposed.topic) != 0)
        let same = MessageQueue(topic: "caf\u{E9}", brokerName: "b", queueId: 1)
        #expect(precomposed == same)
        #expect(precomposed.hashValue == same.hashValue)
        #expect(precomposed != MessageQueue(topic: "caf\u{E9}", brokerName: "b", queueId: 2))
        #expect(!(precomposed < same) && !(same < precomposed))
    }
}

@Suite("Namespaces")
struct NamespaceTests {
    @Test("resources are wrapped as Java's NamespaceUtil.wrapNamespace does; system topics and groups are not")
    func wrapAndUnwrap() {
        var client = ClientConfiguration(nameServer: "127.0.0.1:9876")
        client.namespace = "ns"
        let cases: [(String, String)] = [
            ("Orders", "ns%Orders"), ("ns%Orders", "ns%Orders"), ("%RETRY%G", "%RETRY%ns%G"), ("%DLQ%G", "%DLQ%ns%G"),
            ("%RETRY%ns%G", "%RETRY%ns%G"), ("TBW102", "TBW102"), ("RMQ_SYS_TRACE_TOPIC", "RMQ_SYS_TRACE_TOPIC"),
            ("SCHEDULE_TOPIC_XXXX", "SCHEDULE_TOPIC_XXXX"), ("rmq_sys_anything", "rmq_sys_anything"),
            ("CID_RMQ_SYS_TRANS", "CID_RMQ_SYS_TRANS"), ("", ""),
        ]
        for (plain, wrapped) in cases {
            #expect(client.wrap(plain) == wrapped, "\(plain)")
        }
        #expect(client.unwrap("ns%Orders") == "Orders")
        #expect(client.unwrap("%RETRY%ns%G") == "%RETRY%G")
    }
}
