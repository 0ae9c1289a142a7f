import Foundation
import NIOCore
@testable import RocketMQ
import RocketMQWire
import Testing

/// How a simple consumer reads POP responses (Java's `processPopResponse`), no broker needed.
@Suite("POP responses")
struct PopResponseTests {
    static func record(topic: String, queueId: Int32, offset: Int64, properties: MessageProperties = MessageProperties()) -> MessageRecord {
        var props = properties
        props[MessageProperty.uniqueKey] = props[MessageProperty.uniqueKey] ?? "ID\(offset)"
        return MessageRecord(
            topic: topic, body: ByteBuffer(string: "b\(offset)"), properties: props, queueId: queueId, queueOffset: offset,
            commitLogOffset: offset * 100, bornTimestamp: 1, bornHost: MessageHost(ip: [127, 0, 0, 1], port: 1),
            storeTimestamp: 2, storeHost: MessageHost(ip: [127, 0, 0, 1], port: 2))
    }

    static func response(_ records: [MessageRecord], header: PopMessageResponseHeader) throws -> RemotingCommand {
        var body = ByteBuffer()
        for r in records { try r.encode(into: &body) }
        return RemotingCommand.response(to: RemotingCommand.request(.popMessage), code: .success, extFields: header.fields, body: body)
    }

    @Test func receiptsComeFromTheOffsetInfosOrFromPOP_CK() throws {
        let consumer = try SimpleConsumer(configuration: .init(group: "G"), client: ClientConfiguration(nameServer: "127.0.0.1:1"))
        let subscription = try SubscriptionData.build(topic: "T", expression: "*")
        var retried = MessageProperties()
        retried[MessageProperty.popCheckpoint] = "0 1000 30000 3 1 broker-a 0 7"
        let header = PopMessageResponseHeader(
            popTime: 1000, invisibleTime: 30_000, reviveQid: 3, restNum: 0, startOffsetInfo: "0 1 10;0 2 4",
            msgOffsetInfo: "0 1 10,11;0 2 4")
        let records = [
            Self.record(topic: "T", queueId: 1, offset: 10), Self.record(topic: "T", queueId: 1, offset: 11),
            Self.record(topic: "T", queueId: 2, offset: 4), Self.record(topic: "T", queueId: 0, offset: 7, properties: retried),
        ]
        let (messages, collisions) = try consumer.popped(try Self.response(records, header: header), subscription: subscription, broker: "broker-a")
        #expect(collisions.isEmpty)
        #expect(messages.map(\.receipt.text) == [
            "10 1000 30000 3 0 broker-a 1 10", "10 1000 30000 3 0 broker-a 1 11", "4 1000 30000 3 0 broker-a 2 4",
            "0 1000 30000 3 1 broker-a 0 7",
        ])
        #expect(messages.allSatisfy { $0.topic == "T" && $0.invisibleUntil == 31_000 })
        #expect(messages[0].properties[MessageProperty.firstPopTime] == "1000")
    }

    @Test func malformedReceiptsAndOffsetInfosAreTypedErrorsOrSkipped() throws {
        let consumer = try SimpleConsumer(configuration: .init(group: "G"), client: ClientConfiguration(nameServer: "127.0.0.1:1"))
        let subscription = try SubscriptionData.build(topic: "T", expression: "*")
        var bad = MessageProperties()
        bad[MessageProperty.popCheckpoint] = "not a receipt"
        let ok = PopMessageResponseHeader(popTime: 1, invisibleTime: 2, reviveQid: 0, restNum: 0, startOffsetInfo: "0 0 0")
        // A message whose POP_CK does not parse is skipped (it comes back after its invisible time).
        let (messages, _) = try consumer.popped(
            try Self.response([Self.record(topic: "T", queueId: 0, offset: 0, properties: bad)], header: ok),
            subscription: subscription, broker: "b")
        #expect(messages.isEmpty)
        // Offset infos that do not parse: a protocol error for the whole response.
        let garbled = PopMessageResponseHeader(popTime: 1, invisibleTime: 2, reviveQid: 0, restNum: 0, startOffsetInfo: "0 0")
        #expect(throws: RocketMQError.self) {
            _ = try consumer.popped(try Self.response([Self.record(topic: "T", queueId: 0, offset: 0)], header: garbled), subscription: subscription, broker: "b")
        }
        // A response without its header fields.
        #expect(throws: RocketMQError.self) {
            _ = try consumer.popped(RemotingCommand.response(to: RemotingCommand.request(.popMessage), code: .success), subscription: subscription, broker: "b")
        }
    }

    @Test func tagCollisionsAreSetAside() throws {
        let consumer = try SimpleConsumer(configuration: .init(group: "G"), client: ClientConfiguration(nameServer: "127.0.0.1:1"))
        let subscription = try SubscriptionData.build(topic: "T", expression: "TagA")
        var other = MessageProperties()
        other[MessageProperty.tags] = "TagB"
        var wanted = MessageProperties()
        wanted[MessageProperty.tags] = "TagA"
        let header = PopMessageResponseHeader(popTime: 1, invisibleTime: 2, reviveQid: 0, restNum: 0, startOffsetInfo: "0 0 0")
        let (messages, collisions) = try consumer.popped(
            try Self.response([Self.record(topic: "T", queueId: 0, offset: 0, properties: wanted), Self.record(topic: "T", queueId: 0, offset: 1, properties: other)], header: header),
            subscription: subscription, broker: "b")
        #expect(messages.map(\.tags) == ["TagA"])
        #expect(collisions.map(\.tags) == ["TagB"])
    }
}
