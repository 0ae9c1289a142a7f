import NIOCore
import Testing

@testable import RocketMQWire

/// Fields decoded from a JSON frame stay the frame's bytes until read; these tests hold them to what a fully decoded
/// map gives (the `JSONValue` tree of the same text), and the one-pass header decoders to the entry-based ones.
@Suite("extFields read from a JSON frame's bytes")
struct DecodedExtFieldsTests {
    /// A JSON frame whose header's extFields object is `ext` (raw JSON text).
    static func frame(ext: String) -> ByteBuffer {
        let header = #"{"code":310,"extFields":"# + ext + #","flag":0,"language":"JAVA","opaque":9,"serializeTypeCurrentRPC":"JSON","version":479}"#
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(4 + header.utf8.count))
        buffer.writeInteger(Int32(header.utf8.count))
        buffer.writeString(header)
        return buffer
    }

    static func decodedFields(_ ext: String) throws -> ExtFields {
        try #require(try RemotingFrame.decodeWithLengthPrefix(frame(ext: ext)).extFields)
    }

    /// What the map holds, from the general parser: last non-null value per key, scalars as text.
    static func reference(_ ext: String) throws -> [String: String] {
        guard case .object(let members) = try JSONParser.parse(ext) else { throw WireError(.malformedJSON, "not an object") }
        var map: [String: String] = [:]
        for m in members {
            guard let key = m.key.scalarText, let value = m.value.scalarText else { continue }
            map[key] = value
        }
        return map
    }

    static let objects = [
        #"{}"#,
        #"{"a":"PG","b":"Topic","d":4,"e":"-1","k":true,"m":false,"n":null}"#,
        #"{"i":"TAGS\u0001A\u0002KEYS\u0001k1 k2\u0002","msgId":"C0A8000A00002A9F0000000000001000","x":"h\u00e9 \"q\" \\ \/"}"#,
        #"{"dup":"first","dup":"second","dup":null,"\u0061":"escaped key","é":"non-ASCII key","v":"naïve"}"#,
        #"{ "spaced" : "value" , "num" : -12.5e3 ,"7":"number-looking key" }"#,
        #"{"long":"0123456789abcdefghijklmnopqrstuvwxyz0123456789","slash":"0123456789\\abcdef\"0123456789"}"#,
    ]

    @Test(arguments: objects)
    func readsLikeTheFullyDecodedMap(ext: String) throws {
        let fields = try Self.decodedFields(ext)
        let expected = try Self.reference(ext)
        #expect(fields.dictionary == expected)
        #expect(fields.count == expected.count)
        for (key, value) in expected { #expect(fields[key] == value) }
        #expect(fields["absent"] == nil)
        #expect(fields == ExtFields(expected.map { ($0.key, $0.value) }))
        // A change turns them into entries and keeps the rest.
        var changed = fields
        changed["added"] = "1"
        #expect(changed.dictionary == expected.merging(["added": "1"]) { $1 })
        // Re-encoded and decoded again: the same map.
        let command = RemotingCommand(code: 310, extFields: fields)
        let again = try RemotingFrame.decodeWithLengthPrefix(try RemotingFrame.encode(command))
        #expect(again.extFields?.dictionary == expected)
    }

    @Test func v2HeaderAndSendAnswerDecodeFromBytesAsFromEntries() throws {
        let v2 = #"{"a":"PG","b":"TopicTest","c":"TBW102","d":4,"e":"+3","f":"0","g":"1700000000000","h":"-0","i":"UNIQ_KEY\u0001ABC\u0002WAIT\u0001true\u0002","j":"0","k":"TRUE","l":"16","m":"false","n":"broker-a"}"#
        let fromBytes = try SendMessageRequestHeader(v2Fields: try Self.decodedFields(v2))
        let fromEntries = try SendMessageRequestHeader(v2Fields: ExtFields(try Self.reference(v2).map { ($0.key, $0.value) }))
        #expect(fromBytes == fromEntries)
        #expect(fromBytes.queueId == 3 && fromBytes.flag == 0 && fromBytes.unitMode == true && fromBytes.batch == false)
        #expect(fromBytes.properties == "UNIQ_KEY\u{1}ABC\u{2}WAIT\u{1}true\u{2}" && fromBytes.bname == "broker-a")

        let answer = #"{"queueId":"2","TRACE_ON":"true","MSG_REGION":"DefaultRegion","msgId":"C0A8000A00002A9F0000000000001000","queueOffset":"7","transactionId":"C0A80002303918B2D35864B76000001"}"#
        let decoded = try SendMessageResponseHeader.decodeAnswer(try Self.decodedFields(answer))
        let reference = try SendMessageResponseHeader(fields: ExtFields(try Self.reference(answer).map { ($0.key, $0.value) }))
        #expect(decoded.header == reference)
        #expect(decoded.region == "DefaultRegion" && decoded.traceOn == "true")
        #expect(decoded.header.transactionId == "C0A80002303918B2D35864B76000001")
    }

    @Test(arguments: [
        (#"{"msgId":"m","queueId":"x","queueOffset":"1"}"#, "queueId"),
        (#"{"msgId":"m","queueId":1.5,"queueOffset":"1"}"#, "queueId"),
        (#"{"msgId":"m","queueId":"2147483648","queueOffset":"1"}"#, "queueId"),
        (#"{"msgId":"m","queueId":"","queueOffset":"1"}"#, "queueId"),
        (#"{"msgId":"m","queueId":"-","queueOffset":"1"}"#, "queueId"),
        (#"{"msgId":"m","queueId":"1"}"#, "queueOffset"),
        (#"{"msgId":null,"queueId":"1","queueOffset":"1"}"#, "msgId"),
    ])
    func badAnswerFieldsAreNamedErrors(ext: String, field: String) throws {
        let fields = try Self.decodedFields(ext)
        do {
            _ = try SendMessageResponseHeader(fields: fields)
            Issue.record("decoded \(ext)")
        } catch let error as WireError {
            #expect(error.kind == .invalidHeaderField)
            #expect(error.message.hasPrefix(field))
        }
    }

    @Test func integersKeepJavaRangesAtTheEdges() throws {
        let ext = #"{"msgId":"m","queueId":"-2147483648","queueOffset":"9223372036854775807"}"#
        let header = try SendMessageResponseHeader(fields: try Self.decodedFields(ext))
        #expect(header.queueId == Int32.min && header.queueOffset == Int64.max)
    }

    @Test(arguments: [
        #"{"a":["x"]}"#, #"{"a":{"b":"c"}}"#, #"{{"k":1}:"v"}"#, #"{"a":"\q"}"#, #"{"a":"\u12"}"#, #"{"a":"unterminated}"#,
        #"{"a":tru}"#, #"{"a":-}"#, #"{"a":"x",}"#, #"{"a" "x"}"#,
    ])
    func malformedObjectsFailWhenTheFrameIsDecoded(ext: String) {
        #expect(throws: WireError.self) { try RemotingFrame.decodeWithLengthPrefix(Self.frame(ext: ext)) }
    }

    @Test func invalidUTF8InAValueFailsWhenTheFrameIsDecoded() {
        var header = Array(#"{"code":1,"extFields":{"a":"ok","b":"x"#.utf8)
        header += [0xC3, 0x28]  // an invalid two-byte sequence
        header += Array(#""},"flag":0}"#.utf8)
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(4 + header.count))
        buffer.writeInteger(Int32(header.count))
        buffer.writeBytes(header)
        #expect(throws: WireError.self) { try RemotingFrame.decodeWithLengthPrefix(buffer) }
    }

    /// The string scanner reads eight bytes at a time: put a quote, an escape or a non-ASCII character at every
    /// position of strings around that width and compare with the expected text.
    @Test func stringsDecodeWhateverSitsAtEachPosition() throws {
        let specials: [(json: String, text: String)] = [(#"\""#, "\""), (#"\\"#, "\\"), ("é", "é"), (#"\u0001"#, "\u{1}"), ("€", "€")]
        for length in 0...20 {
            for position in 0...length {
                for special in specials {
                    let before = String(repeating: "a", count: position)
                    let after = String(repeating: "b", count: length - position)
                    let json = #"{"k":""# + before + special.json + after + #"","z":"1"}"#
                    let fields = try Self.decodedFields(json)
                    #expect(fields["k"] == before + special.text + after, "\(json)")
                    #expect(fields["z"] == "1")
                    #expect(try JSONParser.parse(#"""# + before + special.json + after + #"""#).scalarText == before + special.text + after)
                }
            }
        }
    }

    /// The frame's header writer skips plain bytes eight at a time: put every character fastjson escapes at each
    /// position and compare the frame's bytes with the array-backed writer's, and the decoded text with the input.
    @Test func headerStringsEncodeWhateverSitsAtEachPosition() throws {
        let specials = ["\"", "\\", "\u{1}", "\u{1F}", "\u{7F}", "\u{85}", "\u{2028}", "é", "€", "😀", "\n"]
        for length in 0...18 {
            for position in 0...length {
                for special in specials {
                    let text = String(repeating: "a", count: position) + special + String(repeating: "b", count: length - position)
                    let command = RemotingCommand(code: 11, remark: text, extFields: ["k": text])
                    let frame = try RemotingFrame.encode(command)
                    var writer = JSONWriter()
                    writer.writeString(text)
                    let quoted = writer.bytes
                    let bytes = Array(frame.readableBytesView)
                    #expect(bytes.count > quoted.count && bytes.indices.contains { bytes[$0...].starts(with: quoted) })
                    let decoded = try RemotingFrame.decodeWithLengthPrefix(frame)
                    #expect(decoded.extFields?["k"] == text && decoded.remark == text)
                }
            }
        }
    }
}
