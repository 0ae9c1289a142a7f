import Foundation
import NIOCore
import RocketMQWire
import Testing

@Suite("POP wire: receipts, offset infos, batch acks")
struct PopWireTests {
    @Test func receiptRoundTripsAndNamesItsFields() throws {
        let text = "10 1700000000000 60000 3 1 broker-a 0 12"
        let receipt = try PopReceipt(parsing: text)
        #expect(receipt.ckQueueOffset == 10 && receipt.popTime == 1_700_000_000_000 && receipt.invisibleTime == 60_000)
        #expect(receipt.reviveQueueId == 3 && receipt.retryFlag == .retry && receipt.brokerName == "broker-a")
        #expect(receipt.queueId == 0 && receipt.queueOffset == 12 && receipt.commitLogOffset == nil)
        #expect(receipt.text == text)
        #expect(receipt.nextVisibleTime == 1_700_000_060_000)
        #expect(!receipt.isOrdered)
        #expect(receipt.retryFlag.realTopic("T", group: "G") == "%RETRY%G_T")
        // A gRPC proxy's receipt has a ninth field.
        let proxy = try PopReceipt(parsing: "0 1 2 999 0 b 1 2 4096")
        #expect(proxy.commitLogOffset == 4096 && proxy.isOrdered)
        #expect(try PopReceipt(parsing: proxy.text) == proxy)
    }

    @Test(arguments: [
        "", "1 2 3", "a 1 2 3 0 b 1 2", "0 1 2 3 7 b 1 2", "0 1 2 3 0  1 2", "0 1 2 3 0 b -1 2", "0 1 2 3 0 b 1 2 3 4",
        "0 1 2 3 0 b 1 99999999999999999999", "0 1 -5 3 0 b 1 2",
    ])
    func malformedReceiptsAreTypedErrors(_ text: String) {
        #expect(throws: WireError.self) { try PopReceipt(parsing: text) }
    }

    @Test func offsetInfosParseAsJava() throws {
        #expect(try PopOffsetInfo.startOffsets("0 1 10;1 0 3") == ["0@1": 10, "1@0": 3])
        #expect(try PopOffsetInfo.messageOffsets("0 1 10,11,14") == ["0@1": [10, 11, 14]])
        #expect(try PopOffsetInfo.orderCounts("0 qo1%10 2;0 1 0") == ["0@qo1%10": 2, "0@1": 0])
        #expect(try PopOffsetInfo.startOffsets(nil).isEmpty)
        #expect(throws: WireError.self) { try PopOffsetInfo.startOffsets("0 1") }
        #expect(throws: WireError.self) { try PopOffsetInfo.startOffsets("0 1 2;0 1 3") }
        #expect(throws: WireError.self) { try PopOffsetInfo.messageOffsets("0 1 x,2") }
        #expect(PopOffsetInfo.startOffsetEntry(.normal, queueId: 1, startOffset: 10) == "0 1 10")
        #expect(PopOffsetInfo.messageOffsetsEntry(.retry, queueId: 0, offsets: [3, 4]) == "1 0 3,4")
    }

    @Test func batchAckBitSetIsJavasLittleEndianBase64() throws {
        let ack = BatchAck(
            consumerGroup: "G", topic: "T", retryFlag: .normal, startOffset: 10, queueId: 1, reviveQueueId: 3, popTime: 1,
            invisibleTime: 60_000, bits: [0, 1, 2, 9])
        let body = BatchAckMessageRequestBody(brokerName: "broker-a", acks: [ack])
        let text = String(decoding: body.encoded(), as: UTF8.self)
        // Bits 0,1,2 -> 0x07; bit 9 -> 0x02 in the second byte: base64 of [0x07, 0x02].
        #expect(text.contains(#""b":"BwI=""#), "\(text)")
        let again = try BatchAckMessageRequestBody(bytes: body.encoded())
        #expect(again == body)
        #expect(again.acks[0].offsets == [10, 11, 12, 19])
        // Java's long names are accepted too.
        let long = try BatchAckMessageRequestBody(bytes: Array(#"{"acks":[{"bitSet":"AQ==","consumerGroup":"G","topic":"T","retry":"1","startOffset":5,"queueId":0,"reviveQueueId":1,"popTime":2,"invisibleTime":3}]}"#.utf8))
        #expect(long.acks[0].offsets == [5] && long.acks[0].retryFlag == .retry)
        #expect(throws: WireError.self) { try BatchAckMessageRequestBody(bytes: Array(#"{"acks":[{"b":"!!","c":"G","t":"T","so":1,"q":0,"rq":0,"pt":0,"it":0}]}"#.utf8)) }
    }

    @Test func popCodesAreNamed() {
        #expect(RequestCode.popMessage.name == "POP_MESSAGE" && RequestCode.popMessage.rawValue == 200050)
        #expect(RequestCode.batchAckMessage.name == "BATCH_ACK_MESSAGE")
    }
}
