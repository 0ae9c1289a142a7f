import NIOCore
import Testing

@testable import RocketMQWire

@Suite("Message properties")
struct MessagePropertiesTests {
    @Test func parsesWithJavasRules() {
        let cases: [(String, [String: String], Int)] = [
            ("a\u{1}b\u{2}", ["a": "b"], 1),
            ("a\u{1}b", ["a": "b"], 1),  // last pair without terminator
            ("\u{1}b\u{2}", [:], 0),  // empty name
            ("a\u{1}\u{2}", [:], 0),  // empty value
            ("ab\u{2}", [:], 0),  // no separator
            ("\u{1}\u{1}x\u{2}", [:], 0),  // first \u{1} is first
            ("ab\u{1}\u{2}", [:], 0),  // first \u{1} is last
            ("a\u{1}b\u{1}c\u{2}", ["a": "b\u{1}c"], 1),  // value keeps later \u{1}
            ("x\u{2}\u{2}k\u{1}v\u{2}", ["k": "v"], 1),
            ("k\u{1}1\u{2}k\u{1}2\u{2}", ["k": "2"], 2),  // last value wins on read
            ("", [:], 0),
            ("\u{2}\u{2}\u{2}", [:], 0),
            ("名\u{1}値🚀\u{2}", ["名": "値🚀"], 1),
        ]
        for (text, expected, count) in cases {
            let properties = MessageProperties(parsing: text)
            #expect(properties.dictionary == expected, "\(text.debugDescription)")
            #expect(properties.count == count, "\(text.debugDescription)")
        }
    }

    @Test func keepsOrderAndDuplicatesForReencoding() {
        let text = "UNIQ_KEY\u{1}A\u{2}WAIT\u{1}true\u{2}UNIQ_KEY\u{1}B\u{2}"
        var properties = MessageProperties(parsing: text)
        #expect(properties.encoded == text)
        #expect(properties.encodedByteCount == text.utf8.count)
        #expect(properties["UNIQ_KEY"] == "B")
        #expect(properties.map(\.key) == ["UNIQ_KEY", "WAIT", "UNIQ_KEY"])
        properties["UNIQ_KEY"] = "C"  // replaces the first in place, drops the duplicate
        #expect(properties.encoded == "UNIQ_KEY\u{1}C\u{2}WAIT\u{1}true\u{2}")
        properties["NEW"] = "n"
        #expect(properties.keys == ["UNIQ_KEY", "WAIT", "NEW"])
        #expect(properties.removeValue(forKey: "WAIT") == "true")
        #expect(properties.keys == ["UNIQ_KEY", "NEW"])
        properties.append(key: "NEW", value: "m")
        #expect(properties["NEW"] == "m" && properties.count == 3)
        properties["NEW"] = nil
        #expect(properties.keys == ["UNIQ_KEY"])
    }

    @Test func literalAndEquality() {
        let a: MessageProperties = ["A": "1", "B": "2"]
        let b = MessageProperties([("A", "1"), ("B", "2")])
        #expect(a == b)
        #expect(a != MessageProperties([("B", "2"), ("A", "1")]))  // order is part of the wire form
        #expect(MessageProperties().isEmpty)
        #expect(MessageProperties(parsing: a.encoded) == a)
    }

    @Test func goldenPropertiesStringsRoundTrip() throws {
        for line in MessageRecordTests.records {
            let text = try #require(line["input"]?["properties_string"]?.stringValue)
            let properties = MessageProperties(parsing: text)
            #expect(properties.encoded == text)
            #expect(properties.dictionary == MessageTestSupport.properties(line["input"]?["properties"]))
            let hex = line["input"]?["properties_string_hex"]?.stringValue
            #expect(Golden.hex(Array(properties.encoded.utf8)) == hex)
        }
    }

    @Test func wellKnownNames() {
        #expect(MessageProperty.uniqueKey == "UNIQ_KEY")
        #expect(MessageProperty.transactionId == "__transactionId__")
        #expect(MessageProperty.shardingKey == "__SHARDINGKEY")
        #expect(MessageProperty.reserved.contains("DELAY"))
        #expect(!MessageProperty.reserved.contains(MessageProperty.transactionId))
    }
}

@Suite("Message hosts")
struct MessageHostTests {
    @Test func parsesAndPrints() throws {
        let cases: [(String, [UInt8], Int32, String)] = [
            ("1.2.3.4:10911", [1, 2, 3, 4], 10911, "1.2.3.4:10911"),
            ("[::1]:10911", [UInt8](repeating: 0, count: 15) + [1], 10911, "[::1]:10911"),
            ("[2001:DB8::10]:0", [0x20, 1, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [0x10], 0, "[2001:db8::10]:0"),
            ("[fe80::1:2:3:4]:30911", [0xFE, 0x80] + [UInt8](repeating: 0, count: 6) + [0, 1, 0, 2, 0, 3, 0, 4], 30911,
             "[fe80::1:2:3:4]:30911"),
            ("[::ffff:10.0.0.7]:65535", [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 10, 0, 0, 7], 65535,
             "[::ffff:10.0.0.7]:65535"),
            ("[1:0:0:2:0:0:0:3]:1", [0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3], 1, "[1:0:0:2::3]:1"),
            ("[1:2:3:4:5:6:7:8]:1", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8], 1, "[1:2:3:4:5:6:7:8]:1"),
        ]
        for (text, ip, port, printed) in cases {
            let host = try #require(MessageHost(text), "\(text)")
            #expect(host.ip == ip, "\(text)")
            #expect(host.port == port)
            #expect(host.description == printed)
            #expect(MessageHost(host.description) == host)
        }
        #expect(MessageHost("[::1]:1")?.javaIPString == "0:0:0:0:0:0:0:1")
        #expect(MessageHost("[::1]:1")?.isIPv6 == true)
        #expect(MessageHost("1.2.3.4:1")?.isIPv6 == false)
    }

    @Test func rejectsMalformedText() {
        for text in [
            "", "1.2.3.4", "1.2.3:1", "1.2.3.4.5:1", "1.2.3.256:1", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+1",
            "1.2.3.4:", "a.b.c.d:1", "::1:80", "[::1]", "[::1]80", "[1::2::3]:1", "[12345::]:1", "[1:2:3:4:5:6:7]:1",
            "[1:2:3:4:5:6:7:8:9]:1", "[::g]:1", "[1.2.3.4]:1", "[::1.2.3]:1", "1.2.3.4:999999",
        ] {
            #expect(MessageHost(text) == nil, "\(text)")
        }
    }

    @Test func validationCatchesABadEntryHoweverItArrived() throws {
        var parsed = MessageProperties(parsing: "UNIQ_KEY\u{1}ABC\u{2}WAIT\u{1}true\u{2}")
        try parsed.validate()
        parsed["CLUSTER"] = "DefaultCluster"
        try parsed.validate()
        parsed["TAGS"] = "a\u{2}b"
        #expect(throws: WireError.self) { try parsed.validate() }
        parsed["TAGS"] = nil
        try parsed.validate()  // still checked in full: stays correct, only slower

        var appended = MessageProperties(parsing: "A\u{1}1\u{2}")
        appended.append(key: "bad\u{1}name", value: "v")
        #expect(throws: WireError.self) { try appended.validate() }
        var emptyName = MessageProperties(parsing: "A\u{1}1\u{2}")
        emptyName[""] = "v"
        #expect(throws: WireError.self) { try emptyName.validate() }
        #expect(throws: WireError.self) { try MessageProperties([("k", "x\u{2}")]).validate() }
        // Equality ignores how the entries were checked.
        #expect(MessageProperties(parsing: "A\u{1}1\u{2}") == MessageProperties([("A", "1")]))
    }
}
