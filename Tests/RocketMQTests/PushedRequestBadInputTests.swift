import Foundation
import NIOCore
@testable import RocketMQ
import RocketMQWire
import Testing

/// Requests brokers push to producers (CHECK_TRANSACTION_STATE, PUSH_REPLY_MESSAGE_TO_CLIENT) with bad content: logged
/// and answered as Java does, never a crash. No broker needed: the processors are called directly.
@Suite("Pushed requests with bad input")
struct PushedRequestBadInputTests {
    static func producer(group: String, checker: TransactionChecker?) throws -> Producer {
        try Producer(
            configuration: ProducerConfiguration(group: group), client: ClientConfiguration(nameServer: "127.0.0.1:1"),
            transactionChecker: checker)
    }

    static func check(properties: MessageProperties, body: ByteBuffer? = nil) throws -> RemotingCommand {
        let header = CheckTransactionStateRequestHeader(
            topic: "RMQ_SYS_TRANS_HALF_TOPIC", tranStateTableOffset: 3, commitLogOffset: 4096, msgId: "ID", transactionId: "ID",
            offsetMsgId: "7F00000100002A9F0000000000001000", bname: "broker-a")
        var encoded = ByteBuffer()
        if let body {
            encoded = body
        } else {
            let record = MessageRecord(
                topic: "T", body: ByteBuffer(string: "half"), properties: properties, queueId: 1, queueOffset: 3,
                commitLogOffset: 4096, bornTimestamp: 1, bornHost: MessageHost(ip: [127, 0, 0, 1], port: 1), storeTimestamp: 2,
                storeHost: MessageHost(ip: [127, 0, 0, 1], port: 2))
            try record.encode(into: &encoded)
        }
        return RemotingCommand.request(.checkTransactionState, extFields: header.fields, body: encoded, oneway: true)
    }

    @Test func transactionChecksThatCannotBeAnsweredAreIgnored() throws {
        let withChecker = try Self.producer(group: "G") { _ in .commit }
        var mine = MessageProperties()
        mine[MessageProperty.producerGroup] = "G"
        mine[MessageProperty.uniqueKey] = "ID"
        // A malformed body, a body cut short, a header missing required fields, another group's message.
        withChecker.receiveCheck(try Self.check(properties: mine, body: ByteBuffer(bytes: [0, 0, 0, 9, 1, 2])), from: "127.0.0.1:1")
        var cut = ByteBuffer()
        let whole = try #require(try Self.check(properties: mine).body)
        cut.writeImmutableBuffer(try #require(whole.getSlice(at: 0, length: 40)))
        withChecker.receiveCheck(try Self.check(properties: mine, body: cut), from: "127.0.0.1:1")
        withChecker.receiveCheck(RemotingCommand.request(.checkTransactionState, extFields: ExtFields(), oneway: true), from: "127.0.0.1:1")
        var other = mine
        other[MessageProperty.producerGroup] = "SomebodyElse"
        withChecker.receiveCheck(try Self.check(properties: other), from: "127.0.0.1:1")
        var none = mine
        none[MessageProperty.producerGroup] = nil
        withChecker.receiveCheck(try Self.check(properties: none), from: "127.0.0.1:1")
        let stats = withChecker.statistics
        #expect(stats.transactionChecksAnswered == 0 && stats.transactionChecksDropped == 0)
        // A producer with no checker ignores even a well-formed check of its group.
        let withoutChecker = try Self.producer(group: "G", checker: nil)
        withoutChecker.receiveCheck(try Self.check(properties: mine), from: "127.0.0.1:1")
        #expect(withoutChecker.statistics.transactionChecksDropped == 0)
    }

    @Test func repliesThatMatchNothingOrDoNotDecodeAreAnsweredAsJava() throws {
        let producer = try Self.producer(group: "G", checker: nil)
        // No header at all: SYSTEM_ERROR "process reply message fail".
        let bad = producer.receiveReply(RemotingCommand.request(.pushReplyMessageToClient, extFields: ExtFields()), from: "b")
        #expect(bad.responseCode == .systemError)
        #expect(bad.remark == "process reply message fail")
        // A well-formed reply for an unknown correlation id: SUCCESS, dropped and counted.
        var props = MessageProperties()
        props[MessageProperty.correlationId] = "no-such-request"
        props[MessageProperty.messageType] = "reply"
        let header = ReplyMessageRequestHeader(
            producerGroup: "R", topic: "DefaultCluster_REPLY_TOPIC", defaultTopic: "TBW102", defaultTopicQueueNums: 4,
            queueId: 0, sysFlag: 0, bornTimestamp: 1, flag: 0, properties: props.encoded, reconsumeTimes: 0,
            bornHost: "127.0.0.1:1", storeHost: "127.0.0.1:2", storeTimestamp: 2)
        let late = producer.receiveReply(
            RemotingCommand.request(.pushReplyMessageToClient, extFields: header.fields, body: ByteBuffer(string: "x")), from: "b")
        #expect(late.responseCode == .success)
        #expect(producer.statistics.lateReplies == 1)
        // A reply claiming a compressed body that is not: handed on as sent (no waiter here), never a crash.
        var compressed = header
        compressed.sysFlag = MessageSysFlag.compressed | MessageSysFlag.flag(for: .zstd)
        let garbled = producer.receiveReply(
            RemotingCommand.request(.pushReplyMessageToClient, extFields: compressed.fields, body: ByteBuffer(bytes: [1, 2, 3])), from: "b")
        #expect(garbled.responseCode == .success)
        #expect(producer.statistics.lateReplies == 2)
    }
}
