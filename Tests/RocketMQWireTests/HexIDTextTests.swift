import NIOCore
import Testing

@testable import RocketMQWire

/// Ids kept as bytes until read (``HexIDText``) and properties written from their values (``OutgoingProperties``):
/// each must read, compare and write exactly as the plain string would.
@Suite("ids and properties written without strings")
struct HexIDTextTests {
    static let texts = [
        "C0A8000A00002A9F0000000000001000",  // IPv4 offset message id: compact
        "0123456789ABCDEF0123456789ABCDEF",
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
        "00000000000000000000000000000000",
        "c0a8000a00002a9f0000000000001000",  // lower case: kept as text (spelled back upper case otherwise)
        "C0A8000A00002A9F000000000000100",  // 31 characters
        "C0A8000A00002A9F00000000000010000",  // 33
        "20010DB8000000000000000000000001000004D2000000000000002A",  // IPv6 (56)
        "G0A8000A00002A9F0000000000001000",  // a non-hex digit
        "C0A8000A00002A9F0000000000001000,C0A8000A00002A9F0000000000001001",  // a batch
        "", "x", "a\"b\\c\u{1}é\u{2028}",
    ]

    @Test(arguments: texts)
    func readsComparesAndWritesAsItsText(_ text: String) {
        let fromText = HexIDText(text)
        var utf8 = Array(text.utf8)
        let fromBytes = utf8.withUnsafeMutableBytes { HexIDText(utf8: UnsafeRawBufferPointer($0)) }
        #expect(fromText.text == text && fromBytes.text == text)
        #expect(fromText == fromBytes && fromText.hashValue == fromBytes.hashValue)
        #expect(fromText.utf8Count == text.utf8.count)
        #expect(fromText.withUTF8 { Array($0) } == Array(text.utf8))
        // Compact exactly when the text is 32 upper-case hex digits.
        let isHex = text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x46).contains($0) }
        #expect((fromText.uncompactedText == nil) == isHex)
        for browserCompatible in [false, true] {
            var id = JSONByteArray(browserCompatible: browserCompatible)
            id.writeString(fromText)
            var plain = JSONByteArray(browserCompatible: browserCompatible)
            plain.writeString(text)
            #expect(id.bytes == plain.bytes)
        }
    }

    @Test func differentTextsDiffer() {
        #expect(HexIDText("C0A8000A00002A9F0000000000001000") != HexIDText("C0A8000A00002A9F0000000000001001"))
        #expect(HexIDText("C0A8000A00002A9F0000000000001000") != HexIDText("c0a8000a00002a9f0000000000001000"))
        #expect(HexIDText(high: 0xC0A8_000A_0000_2A9F, low: 0x1000) == HexIDText("C0A8000A00002A9F0000000000001000"))
    }

    @Test func generatedIdsAreTheStringIds() {
        let now: Int64 = 1_700_000_000_123
        for ip: [UInt8] in [[192, 168, 0, 2], [0, 0, 0, 0], [255, 255, 255, 255], Array(repeating: 0xAB, count: 16)] {
            for start: UInt16 in [0, 65535] {
                let a = UniqueIDGenerator(ip: ip, pid: 0x1_F001, seed: -7, initialCounter: start)
                let b = UniqueIDGenerator(ip: ip, pid: 0x1_F001, seed: -7, initialCounter: start)
                for step in 0..<3 {
                    let at = now + Int64(step) * 86_400_000 * 11
                    #expect(a.nextID(nowMillis: at).text == b.next(nowMillis: at))
                }
            }
        }
    }

    @Test func offsetMessageIDsAreTheStringIds() throws {
        let hosts = [
            MessageHost(ip: [10, 0, 0, 7], port: 10911), MessageHost(ip: [255, 255, 255, 255], port: 65535),
            MessageHost(ip: [0, 0, 0, 0], port: 0), MessageHost(ip: Array(repeating: 0x20, count: 16), port: 1234),
        ]
        for host in hosts {
            for offset: Int64 in [0, 4096, Int64.max, -1] {
                let id = MessageID.offsetMessageIDText(storeHost: host, commitLogOffset: offset)
                #expect(id.text == MessageID.offsetMessageID(storeHost: host, commitLogOffset: offset))
            }
        }
    }

    @Test func responseHeaderIdsReadAndSetAsStrings() {
        var header = SendMessageResponseHeader(
            msgID: HexIDText("C0A8000A00002A9F0000000000001000"), queueId: 1, queueOffset: 2,
            transactionID: HexIDText("C0A80002303918B2D35864B760000001"))
        #expect(header.msgId == "C0A8000A00002A9F0000000000001000")
        #expect(header.transactionId == "C0A80002303918B2D35864B760000001")
        #expect(header == SendMessageResponseHeader(
            msgId: "C0A8000A00002A9F0000000000001000", queueId: 1, queueOffset: 2,
            transactionId: "C0A80002303918B2D35864B760000001"))
        header.msgId = "a,b"
        header.transactionId = nil
        #expect(header.msgId == "a,b" && header.transactionId == nil)
    }

    /// The broker's answer written from the header (ids spelled from their bytes) is the answer written from its
    /// entries, for compact and plain ids alike.
    @Test(arguments: [
        ("C0A8000A00002A9F0000000000001000", "C0A80002303918B2D35864B760000001" as String?),
        ("C0A8000A00002A9F0000000000001000,C0A8000A00002A9F0000000000001001", "not-hex \"quoted\""),
        ("c0a8000a00002a9f0000000000001000", nil),
    ])
    func brokerAnswersWriteTheirIdsAsText(_ msgId: String, _ transactionId: String?) throws {
        let header = SendMessageResponseHeader(msgId: msgId, queueId: 3, queueOffset: 9, transactionId: transactionId)
        var direct = RemotingCommand.response(to: .request(.sendMessageV2, opaque: 7), code: .success)
        direct.extFields = header.brokerResponseFields(region: "DefaultRegion", traceOn: true)
        var entries = direct
        entries.extFields = ExtFields(direct.extFields?.entries.map { ($0.key, $0.value) } ?? [])
        entries.extFields?.javaInitialCapacity = ExtFields.addExtFieldCapacity
        #expect(try RemotingFrame.encode(direct) == RemotingFrame.encode(entries))
        let decoded = try SendMessageResponseHeader.decodeAnswer(
            try #require(try RemotingFrame.decodeWithLengthPrefix(RemotingFrame.encode(direct)).extFields))
        #expect(decoded.header == header)
    }

    @Test func everyAnswerMemberIsWrittenUnderItsName() throws {
        let header = SendMessageResponseHeader(
            msgId: "C0A8000A00002A9F0000000000001000", queueId: 1, queueOffset: 2, transactionId: "T",
            batchUniqId: "B", recallHandle: "R")
        var direct = RemotingCommand.response(to: .request(.sendMessageV2, opaque: 7), code: .success)
        direct.extFields = header.brokerResponseFields(region: "DefaultRegion", traceOn: false)
        let decoded = try #require(try RemotingFrame.decodeWithLengthPrefix(RemotingFrame.encode(direct)).extFields)
        #expect(decoded.dictionary == [
            "msgId": "C0A8000A00002A9F0000000000001000", "queueId": "1", "queueOffset": "2", "transactionId": "T",
            "batchUniqId": "B", "recallHandle": "R", "MSG_REGION": "DefaultRegion", "TRACE_ON": "false",
        ])
    }

    static let propertyLists: [[(String, String)]] = [
        [],
        [("TAGS", "A"), ("KEYS", "k1 k2")],
        [("a", "quote \" backslash \\ tab \t"), ("é", "U+2028 \u{2028} DEL \u{7F} C1 \u{85}"), ("x", "")],
    ]

    /// The properties string spelled from the values is the string of all the entries, escaped alike.
    @Test(arguments: 0..<propertyLists.count)
    func outgoingPropertiesWriteTheirEntriesString(_ index: Int) throws {
        for uniqueKey in ["C0A80002303918B2D35864B760000001", "20010DB8000000000000000000000001303918B2D35864B760000001"] {
            for wait in [true, false] {
                let properties = OutgoingProperties(
                    list: MessageProperties(Self.propertyLists[index]), waitStoreMessageOK: wait, uniqueKey: HexIDText(uniqueKey))
                let all = properties.all
                #expect(all[MessageProperty.uniqueKey] == uniqueKey && all[MessageProperty.waitStoreMessageOK] == String(wait))
                for browserCompatible in [false, true] {
                    var fromValues = JSONByteArray(browserCompatible: browserCompatible)
                    fromValues.writeString(properties)
                    var fromString = JSONByteArray(browserCompatible: browserCompatible)
                    fromString.writeString(all.encoded)
                    #expect(fromValues.bytes == fromString.bytes)
                }
                // The whole V2 request: written from the values, it is the frame of the header with the string.
                var header = SendMessageRequestHeader(
                    producerGroup: "PG", topic: "TopicTest", queueId: 2, bornTimestamp: 1_700_000_000_000, reconsumeTimes: 0,
                    unitMode: false, batch: false, bname: "broker-a")
                let fromValues = RemotingCommand.request(.sendMessageV2, opaque: 5, extFields: header.v2Fields(properties: properties))
                header.properties = all.encoded
                let fromString = RemotingCommand.request(.sendMessageV2, opaque: 5, extFields: header.v2Fields)
                #expect(try RemotingFrame.encode(fromValues) == RemotingFrame.encode(fromString))
                #expect(fromValues.extFields == fromString.extFields)
                let decoded = try SendMessageRequestHeader(
                    v2Fields: try #require(try RemotingFrame.decodeWithLengthPrefix(RemotingFrame.encode(fromValues)).extFields))
                #expect(decoded == header)
            }
        }
    }
}
