import Foundation
import NIOCore
@testable import RocketMQMockBroker
import RocketMQWire
import RocketMQTestSupport
import Testing

@Suite("Mock broker: SQL92 property filter", .heavy)
struct SQL92FilterTests {
    static let sql = "a > 2 AND region = 'eu'"

    /// Messages with `a` = 1...6, alternately in `eu` and `us`; bodies name them (`m1` ... `m6`).
    static func sendSample(_ c: TestConnection, topic: String) async throws {
        for i in 1...6 {
            let properties = ["a": String(i), "region": i % 2 == 0 ? "eu" : "us"]
            let sent = try await c.call(
                .sendMessageV2, Wire.sendFields(topic: topic, properties: properties), body: ByteBuffer(string: "m\(i)"))
            #expect(sent.responseCode == .success)
        }
    }

    static func sqlPull(topic: String, offset: Int64 = 0, sql: String = sql, suspend: Int64 = 0) -> ExtFields {
        Wire.pullFields(group: "G", topic: topic, queueId: 0, offset: offset, sysFlag: 0x2 | 0x4, suspend: suspend)
            .merging(["subscription": sql, "expressionType": "SQL92"])
    }

    static func heartbeat(group: String, topic: String, sql: String) -> ByteBuffer {
        let escaped = sql.replacingOccurrences(of: "\"", with: "\\\"")
        let json = """
            {"clientID":"c1","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET",\
            "consumeType":"CONSUME_PASSIVELY","groupName":"\(group)","messageModel":"CLUSTERING",\
            "subscriptionDataSet":[{"classFilterMode":false,"codeSet":[],"expressionType":"SQL92","subString":"\(escaped)",\
            "subVersion":1,"tagsSet":[],"topic":"\(topic)"}],"unitMode":false}],\
            "heartbeatFingerprint":0,"producerDataSet":[],"withoutSub":false}
            """
        return ByteBuffer(string: json)
    }

    @Test func pullWithSubscriptionFlagReturnsOnlyMatchingMessages() async throws {
        try await withCluster { cluster in
            cluster.createTopic("S1", queues: 1)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            try await Self.sendSample(c, topic: "S1")
            let pull = try await c.call(.pullMessage, Self.sqlPull(topic: "S1"))
            #expect(pull.responseCode == .success)
            #expect(try Wire.records(pull).map { String(buffer: $0.body) } == ["m4", "m6"])
            #expect(pull.field("nextBeginOffset") == "6")
            // System properties are visible too (TAGS is TagA for every sample message).
            let tags = try await c.call(.litePullMessage, Self.sqlPull(topic: "S1", sql: "TAGS = 'TagA' AND a <= 2"))
            #expect(try Wire.records(tags).map { String(buffer: $0.body) } == ["m1", "m2"])
            // Nothing matches: PULL_RETRY_IMMEDIATELY past the scanned messages, as with tags.
            let none = try await c.call(.pullMessage, Self.sqlPull(topic: "S1", sql: "missing IS NOT NULL"))
            #expect(none.responseCode == .pullRetryImmediately && none.field("nextBeginOffset") == "6")
            await c.close()
        }
    }

    @Test func heartbeatSubscriptionFilters() async throws {
        try await withCluster { cluster in
            cluster.createTopic("S2", queues: 1)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            try await Self.sendSample(c, topic: "S2")
            let hb = try await c.call(.heartBeat, ExtFields(), body: Self.heartbeat(group: "GS", topic: "S2", sql: "region = 'us' OR a IN ('4')"))
            #expect(hb.responseCode == .success)
            let pull = try await c.call(.pullMessage, Wire.pullFields(group: "GS", topic: "S2", queueId: 0, offset: 0))
            #expect(try Wire.records(pull).map { String(buffer: $0.body) } == ["m1", "m3", "m4", "m5"])
            // A heartbeat expression that does not compile leaves no filter data: FILTER_DATA_NOT_EXIST, as Java.
            _ = try await c.call(.heartBeat, ExtFields(), body: Self.heartbeat(group: "GB", topic: "S2", sql: "a >"))
            let bad = try await c.call(.pullMessage, Wire.pullFields(group: "GB", topic: "S2", queueId: 0, offset: 0))
            #expect(bad.responseCode == .filterDataNotExist)
            await c.close()
        }
    }

    @Test func unparsableExpressionIsSubscriptionParseFailed() async throws {
        try await withCluster { cluster in
            cluster.createTopic("S3", queues: 1)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            try await Self.sendSample(c, topic: "S3")
            for sql in ["a > 'x'", "a = = 1", "(a = 1"] {
                let pull = try await c.call(.pullMessage, Self.sqlPull(topic: "S3", sql: sql))
                #expect(pull.responseCode == .subscriptionParseFailed, "\(sql)")
                #expect(pull.remark?.contains("at offset") == true, "\(pull.remark ?? "")")
                #expect(pull.body == nil)
            }
            await c.close()
        }
    }

    @Test func disabledBrokerRefusesSQL92() async throws {
        try await withCluster(configure: { $0.forEachBroker { $0.enablePropertyFilter = false } }) { cluster in
            cluster.createTopic("S4", queues: 1)
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            try await Self.sendSample(c, topic: "S4")
            let pull = try await c.call(.pullMessage, Self.sqlPull(topic: "S4"))
            #expect(pull.responseCode == .systemError)
            #expect(pull.remark == "The broker does not support consumer to filter message by SQL92")
            // Tag subscriptions are unaffected.
            let tags = try await c.call(.pullMessage, Wire.pullFields(group: "G", topic: "S4", queueId: 0, offset: 0, sysFlag: 0x4).merging(["subscription": "TagA"]))
            #expect(try Wire.records(tags).count == 6)
            await c.close()
        }
    }

    @Test func heldPullWakesOnlyForAMatchingMessage() async throws {
        try await withCluster { cluster in
            cluster.createTopic("S5", queues: 1)
            let consumer = try await TestConnection.connect(cluster.brokers[0].address)
            let producer = try await TestConnection.connect(cluster.brokers[0].address)
            // Held far longer than the checks below take on a loaded machine: an expiry would answer it empty.
            async let held = consumer.call(.pullMessage, Self.sqlPull(topic: "S5", suspend: 120_000), timeout: .seconds(180))
            try await eventually { cluster.brokers[0].heldPullCount == 1 }
            // The broker decides about held pulls before it answers a send, so this is settled once it returns.
            for (a, region) in [("9", "us"), ("1", "eu"), ("x", "eu")] {
                let sent = try await producer.call(
                    .sendMessageV2, Wire.sendFields(topic: "S5", properties: ["a": a, "region": region]), body: ByteBuffer(string: "no"))
                #expect(sent.responseCode == .success)
                #expect(cluster.brokers[0].heldPullCount == 1)
            }
            _ = try await producer.call(.sendMessageV2, Wire.sendFields(topic: "S5", properties: ["a": "9", "region": "eu"]), body: ByteBuffer(string: "yes"))
            let answer = try await held
            #expect(answer.responseCode == .success)
            #expect(try Wire.records(answer).map { String(buffer: $0.body) } == ["yes"])
            #expect(cluster.brokers[0].heldPullCount == 0)
            await consumer.close()
            await producer.close()
        }
    }

    @Test func checkClientConfigCompilesTheExpression() async throws {
        func body(_ sql: String, type: String = "SQL92") -> ByteBuffer {
            ByteBuffer(string: """
                {"clientId":"c1","group":"G","subscriptionData":{"classFilterMode":false,"codeSet":[],\
                "expressionType":"\(type)","subString":"\(sql)","subVersion":1,"tagsSet":[],"topic":"T"}}
                """)
        }
        try await withCluster { cluster in
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            #expect(try await c.call(.checkClientConfig, ExtFields(), body: body("a > 1")).responseCode == .success)
            #expect(try await c.call(.checkClientConfig, ExtFields(), body: body("a >")).responseCode == .subscriptionParseFailed)
            #expect(try await c.call(.checkClientConfig, ExtFields(), body: body("*", type: "TAG")).responseCode == .success)
            await c.close()
        }
        try await withCluster(configure: { $0.forEachBroker { $0.enablePropertyFilter = false } }) { cluster in
            let c = try await TestConnection.connect(cluster.brokers[0].address)
            let refused = try await c.call(.checkClientConfig, ExtFields(), body: body("a > 1"))
            #expect(refused.responseCode == .systemError)
            #expect(try await c.call(.checkClientConfig, ExtFields(), body: body("*", type: "TAG")).responseCode == .success)
            await c.close()
        }
    }

    @Test func executableFlagTurnsTheFilterOff() async throws {
        #expect(MockBrokerConfiguration(name: "b").enablePropertyFilter)
        let mock = try await MockBrokerProcess.start(arguments: [
            "--namesrv-port", "0", "--broker-port", "0", "--grace-period", "0", "--disable-property-filter",
        ])
        let broker = try await TestConnection.connect(mock.brokers[0].address)
        try await Self.sendSample(broker, topic: "S6")
        let pull = try await broker.call(.pullMessage, Self.sqlPull(topic: "S6"))
        #expect(pull.responseCode == .systemError)
        #expect(await mock.terminate() == 0)
        await broker.close()
    }
}
