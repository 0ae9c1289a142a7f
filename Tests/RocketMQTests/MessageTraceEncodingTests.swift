import RocketMQ
import Testing

// Golden vectors of the trace record layout, read off Java 5.3.3's TraceDataEncoder and TraceDataEncoderTest: each
// expected text is written out literally (\u{1} between fields, \u{2} after each record), so a moved field fails.

private let time: Int64 = 1_700_000_000_123

/// The records TraceDataEncoderTest builds, field for field.
private enum Java {
    static var pub: MessageTraceRecord {
        var r = MessageTraceRecord(type: .pub, timestamp: time)
        r.groupName = "PID-test"
        r.regionID = "DefaultRegion"
        r.costTime = 245
        r.success = true
        r.topic = "topic-test"
        r.keys = "Keys"
        r.tags = "Tags"
        r.messageID = "AC1415116D1418B4AAC217FE1B4E0000"
        r.offsetMessageID = "0A9A002600002A9F0000000000002329"
        r.storeHost = "127.0.0.1:10911"
        r.messageType = .normal
        r.bodyLength = 26
        return r
    }

    static var subBefore: MessageTraceRecord {
        var r = MessageTraceRecord(type: .subBefore, timestamp: time)
        r.regionID = "Default-region"
        r.groupName = "GroupName-test"
        r.requestID = "3455848576927"
        r.messageID = "AC1415116D1418B4AAC217FE1B4E0000"
        r.retryTimes = 0
        r.keys = "keys"
        return r
    }

    static var subAfter: MessageTraceRecord {
        var r = MessageTraceRecord(type: .subAfter, timestamp: 1_625_883_640_000)
        r.requestID = "3455848576927"
        r.costTime = 20
        r.success = true
        r.groupName = "GroupName-test"
        r.contextCode = 98_623_046
        r.messageID = "AC1415116D1418B4AAC217FE1B4E0000"
        r.keys = "keys"
        return r
    }

    static var endTransaction: MessageTraceRecord {
        var r = MessageTraceRecord(type: .endTransaction, timestamp: time)
        r.groupName = "PID-test"
        r.regionID = "DefaultRegion"
        r.topic = "topic-test"
        r.keys = "Keys"
        r.tags = "Tags"
        r.messageID = "AC1415116D1418B4AAC217FE1B4E0000"
        r.storeHost = "127.0.0.1:10911"
        r.messageType = .transactionCommit
        r.transactionID = "transactionId"
        r.transactionState = .commit
        r.fromTransactionCheck = false
        return r
    }
}

@Suite("Message trace: Java's TraceDataEncoder layout")
struct MessageTraceEncodingTests {
    @Test("Pub: 14 fields, msgType as its ordinal, offsetMsgId before success (TraceDataEncoderTest's traceData)")
    func pubGolden() throws {
        let expected = "Pub\u{1}1700000000123\u{1}DefaultRegion\u{1}PID-test\u{1}topic-test\u{1}AC1415116D1418B4AAC217FE1B4E0000\u{1}Tags\u{1}Keys\u{1}127.0.0.1:10911\u{1}26\u{1}245\u{1}0\u{1}0A9A002600002A9F0000000000002329\u{1}true\u{2}"
        #expect(MessageTraceCodec.encode(Java.pub) == expected)
        #expect(try MessageTraceCodec.decode(expected) == [Java.pub])
        // TraceTransferBean.transKey: the message id and its keys.
        #expect(MessageTraceCodec.keys(of: [Java.pub]) == ["AC1415116D1418B4AAC217FE1B4E0000", "Keys"])
    }

    @Test("SubBefore: 8 fields ending with the keys")
    func subBeforeGolden() throws {
        let expected = "SubBefore\u{1}1700000000123\u{1}Default-region\u{1}GroupName-test\u{1}3455848576927\u{1}AC1415116D1418B4AAC217FE1B4E0000\u{1}0\u{1}keys\u{2}"
        #expect(MessageTraceCodec.encode(Java.subBefore) == expected)
        #expect(try MessageTraceCodec.decode(expected) == [Java.subBefore])
    }

    @Test("SubAfter: 9 fields (LOCAL access channel), the context code, then timestamp and group")
    func subAfterGolden() throws {
        let expected = "SubAfter\u{1}3455848576927\u{1}AC1415116D1418B4AAC217FE1B4E0000\u{1}20\u{1}true\u{1}keys\u{1}98623046\u{1}1625883640000\u{1}GroupName-test\u{2}"
        #expect(MessageTraceCodec.encode(Java.subAfter) == expected)
        #expect(try MessageTraceCodec.decode(expected) == [Java.subAfter])
    }

    @Test("EndTransaction: 13 fields, msgType 2, the state's Java name, fromTransactionCheck")
    func endTransactionGolden() throws {
        let expected = "EndTransaction\u{1}1700000000123\u{1}DefaultRegion\u{1}PID-test\u{1}topic-test\u{1}AC1415116D1418B4AAC217FE1B4E0000\u{1}Tags\u{1}Keys\u{1}127.0.0.1:10911\u{1}2\u{1}transactionId\u{1}COMMIT_MESSAGE\u{1}false\u{2}"
        #expect(MessageTraceCodec.encode(Java.endTransaction) == expected)
        #expect(try MessageTraceCodec.decode(expected) == [Java.endTransaction])
        var rolledBack = Java.endTransaction
        rolledBack.transactionState = .rollback
        rolledBack.fromTransactionCheck = true
        #expect(MessageTraceCodec.encode(rolledBack).hasSuffix("\u{1}transactionId\u{1}ROLLBACK_MESSAGE\u{1}true\u{2}"))
        rolledBack.transactionState = .unknown
        #expect(MessageTraceCodec.encode(rolledBack).hasSuffix("\u{1}transactionId\u{1}UNKNOW\u{1}true\u{2}"))
    }

    @Test("testTraceKeys: space-separated keys become separate trace keys")
    func traceKeys() {
        var r = Java.endTransaction
        r.keys = "Keys Keys2"
        #expect(MessageTraceCodec.keys(of: [r]) == ["AC1415116D1418B4AAC217FE1B4E0000", "Keys", "Keys2"])
        // Several records: no duplicates, first-seen order, no empty keys.
        var other = Java.pub
        other.messageID = "ID2"
        other.keys = "Keys  K3 "
        #expect(MessageTraceCodec.keys(of: [r, other, r]) == ["AC1415116D1418B4AAC217FE1B4E0000", "Keys", "Keys2", "ID2", "K3"])
        other.keys = nil
        #expect(MessageTraceCodec.keys(of: [other]) == ["ID2"])
    }

    @Test("missing tags and keys are written null, as Java's StringBuilder prints a null, and read back as nil")
    func nullTexts() throws {
        var r = Java.pub
        r.tags = nil
        r.keys = nil
        r.success = false
        r.messageType = .delay
        let expected = "Pub\u{1}1700000000123\u{1}DefaultRegion\u{1}PID-test\u{1}topic-test\u{1}AC1415116D1418B4AAC217FE1B4E0000\u{1}null\u{1}null\u{1}127.0.0.1:10911\u{1}26\u{1}245\u{1}3\u{1}0A9A002600002A9F0000000000002329\u{1}false\u{2}"
        #expect(MessageTraceCodec.encode(r) == expected)
        #expect(try MessageTraceCodec.decode(expected) == [r])
        var end = Java.endTransaction
        end.transactionID = nil
        #expect(MessageTraceCodec.encode(end).contains("\u{1}2\u{1}null\u{1}COMMIT_MESSAGE\u{1}"))
    }

    @Test("message type ordinals are Java's MessageType order")
    func messageTypeOrdinals() {
        #expect(MessageTraceMessageType.allCases.map(\.rawValue) == [0, 1, 2, 3, 4])
        #expect(MessageTraceConsumeOutcome.allCases.map(\.rawValue) == [0, 1, 2, 3, 4])
        #expect(MessageTraceType.allCases.map(\.rawValue) == ["Pub", "Recall", "SubBefore", "SubAfter", "EndTransaction"])
    }

    @Test("several records in one body decode in order; Recall records too")
    func batchRoundTrip() throws {
        var recall = MessageTraceRecord(type: .recall, timestamp: time)
        recall.regionID = "DefaultRegion"
        recall.groupName = "PID-test"
        recall.topic = "topic-test"
        recall.messageID = "AC1415116D1418B4AAC217FE1B4E0000"
        recall.success = false
        let records = [Java.pub, Java.subBefore, Java.subAfter, Java.endTransaction, recall]
        let body = MessageTraceCodec.encode(records)
        #expect(MessageTraceCodec.encode(recall) == "Recall\u{1}1700000000123\u{1}DefaultRegion\u{1}PID-test\u{1}topic-test\u{1}AC1415116D1418B4AAC217FE1B4E0000\u{1}false\u{2}")
        #expect(try MessageTraceCodec.decode(body) == records)
        #expect(try MessageTraceCodec.decode(Array(body.utf8)) == records)
    }

    @Test("older and Alibaba Cloud layouts decode as Java decodes them")
    func olderLayouts() throws {
        // 13-field Pub (before offsetMsgId): field 12 is success.
        let old = try MessageTraceCodec.decode("Pub\u{1}1\u{1}R\u{1}G\u{1}T\u{1}ID\u{1}null\u{1}K\u{1}h:1\u{1}5\u{1}6\u{1}1\u{1}false\u{2}")
        #expect(old.count == 1 && old[0].success == false && old[0].offsetMessageID == "" && old[0].tags == nil)
        #expect(old[0].messageType == .transactionHalf && old[0].bodyLength == 5 && old[0].costTime == 6)
        // 15-field Pub: a client host after success.
        let host = try MessageTraceCodec.decode("Pub\u{1}1\u{1}R\u{1}G\u{1}T\u{1}ID\u{1}A\u{1}K\u{1}h:1\u{1}5\u{1}6\u{1}0\u{1}OFF\u{1}TRUE\u{1}10.0.0.1\u{2}")
        #expect(host[0].offsetMessageID == "OFF" && host[0].success && host[0].clientHost == "10.0.0.1")
        // SubAfter of 6 fields (no context code) and of Alibaba Cloud (context code, nothing after).
        let six = try MessageTraceCodec.decode("SubAfter\u{1}REQ\u{1}ID\u{1}3\u{1}false\u{1}K\u{2}")
        #expect(six[0].requestID == "REQ" && six[0].costTime == 3 && !six[0].success && six[0].contextCode == 0 && six[0].timestamp == 0)
        let cloud = try MessageTraceCodec.decode("SubAfter\u{1}REQ\u{1}ID\u{1}3\u{1}true\u{1}K\u{1}4\u{1}\u{2}")
        #expect(cloud[0].contextCode == 4 && cloud[0].timestamp == 0 && cloud[0].groupName == "")
        // Unknown types and empty records are skipped, as Java skips them.
        let mixed = try MessageTraceCodec.decode("Future\u{1}x\u{2}\u{2}" + MessageTraceCodec.encode(Java.subBefore))
        #expect(mixed == [Java.subBefore])
        #expect(try MessageTraceCodec.decode("").isEmpty)
    }

    @Test("malformed records throw a typed error naming the record and field; nothing traps")
    func malformed() {
        func reason(_ text: String) -> MessageTraceDecodingError? {
            do throws(MessageTraceDecodingError) {
                _ = try MessageTraceCodec.decode(text)
                return nil
            } catch {
                return error
            }
        }
        #expect(reason("Pub\u{1}1\u{1}R\u{2}")?.reason == .tooFewFields(needed: 12, found: 3))
        #expect(reason("SubBefore\u{1}1\u{1}R\u{1}G\u{1}Q\u{1}ID\u{1}0\u{2}")?.reason == .tooFewFields(needed: 8, found: 7))
        #expect(reason("SubAfter\u{2}")?.reason == .tooFewFields(needed: 6, found: 1))
        #expect(reason("EndTransaction\u{1}1\u{2}")?.type == .endTransaction)
        #expect(reason("Recall\u{1}1\u{2}")?.reason == .tooFewFields(needed: 7, found: 2))
        let badTime = reason(MessageTraceCodec.encode(Java.subBefore) + "SubBefore\u{1}12x\u{1}R\u{1}G\u{1}Q\u{1}ID\u{1}0\u{1}K\u{2}")
        #expect(badTime?.recordIndex == 1)
        #expect(badTime?.reason == .invalidNumber(field: "timeStamp", text: "12x"))
        #expect(reason("SubAfter\u{1}R\u{1}ID\u{1}99999999999\u{1}true\u{1}K\u{2}")?.reason == .invalidNumber(field: "costTime", text: "99999999999"))
        #expect(reason("Pub\u{1}1\u{1}R\u{1}G\u{1}T\u{1}ID\u{1}A\u{1}K\u{1}h\u{1}5\u{1}6\u{1}5\u{1}O\u{1}true\u{2}")?.reason == .invalidMessageType("5"))
        #expect(reason("Pub\u{1}1\u{1}R\u{1}G\u{1}T\u{1}ID\u{1}A\u{1}K\u{1}h\u{1}5\u{1}6\u{1}-1\u{1}O\u{1}true\u{2}")?.reason == .invalidMessageType("-1"))
        let badState = MessageTraceCodec.encode(Java.endTransaction).replacingOccurrences(of: "COMMIT_MESSAGE", with: "COMMIT")
        #expect(reason(badState)?.reason == .invalidTransactionState("COMMIT"))
        #expect(reason(badState)?.description == "trace record 0 (EndTransaction) has transaction state \"COMMIT\"")
        // Invalid UTF-8 is replaced, as Java's new String(body, UTF_8), and does not trap.
        #expect((try? MessageTraceCodec.decode([0xFF, 0xFE, 0x02, 0x01])) == [])
    }
}
