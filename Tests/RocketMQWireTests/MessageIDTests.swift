import Testing

@testable import RocketMQWire

@Suite("Message ids (golden ids.jsonl)")
struct MessageIDTests {
    static let offsetIDs: [JSONValue] = (try? Golden.lines("ids", where: "kind", is: "offset_msg_id")) ?? []
    static let fixedUniqueIDs: [JSONValue] = (try? Golden.lines("ids", where: "kind", is: "uniq_id_fixed")) ?? []
    static let sampleUniqueIDs: [JSONValue] = (try? Golden.lines("ids", where: "kind", is: "uniq_id_sample")) ?? []
    typealias Support = MessageTestSupport

    @Test func allLinesLoaded() throws {
        #expect(Self.offsetIDs.count == 30)
        #expect(Self.fixedUniqueIDs.count == 3)
        #expect(Self.sampleUniqueIDs.count == 5)
        #expect(try Golden.lines("ids").count == 39)
    }

    @Test(arguments: offsetIDs.compactMap { $0["name"]?.stringValue })
    func offsetMessageIDBothWays(_ name: String) throws {
        let line = try #require(Self.offsetIDs.first { $0["name"]?.stringValue == name })
        let input = try #require(line["input"])
        let ip = try Golden.bytes(hex: try #require(input["ip_bytes_hex"]?.stringValue))
        let port = try #require(input["store_port"]?.int32Value)
        let offset = try #require(input["commit_log_offset"]?.int64Value)
        let host = MessageHost(ip: ip, port: port)
        let id = try #require(line["msg_id"]?.stringValue)
        #expect(MessageID.offsetMessageID(storeHost: host, commitLogOffset: offset) == id)
        #expect(id.count == line["msg_id_len"]?.intValue)
        // The store_ip text parses to the same bytes.
        let text = try #require(input["store_ip"]?.stringValue)
        #expect(MessageHost(ip.count == 16 ? "[\(text)]:\(port)" : "\(text):\(port)") == host)

        let decoded = try MessageID.decodeOffsetMessageID(id)
        #expect(decoded.storeHost == host)
        #expect(decoded.commitLogOffset == offset)
        let java = try #require(line["decodeMessageId"])
        #expect(decoded.storeHost.javaIPString == java["ip"]?.stringValue)
        #expect(decoded.storeHost.port == java["port"]?.int32Value)
        #expect(decoded.commitLogOffset == java["offset"]?.int64Value)
        #expect(try MessageID.decodeOffsetMessageID(id.lowercased()) == decoded)
    }

    @Test func lowerCaseOffsetIDIsAccepted() throws {
        let line = try #require(try Golden.lines("ids", where: "kind", is: "offset_msg_id_decode").first)
        let decoded = try MessageID.decodeOffsetMessageID(try #require(line["msg_id"]?.stringValue))
        let java = try #require(line["decodeMessageId"])
        #expect(decoded.storeHost.javaIPString == java["ip"]?.stringValue)
        #expect(decoded.storeHost.port == java["port"]?.int32Value)
        #expect(decoded.commitLogOffset == java["offset"]?.int64Value)
    }

    @Test func malformedOffsetIDsThrow() {
        for id in [
            "", "7F00000100002A9F000000000000040", "7F00000100002A9F00000000000004000", "7G00000100002A9F0000000000000400",
            "7F000001FFFFFFFF0000000000000400",  // port -1
            "7F00000100010000" + "0000000000000400",  // port 65536
            "7F00000100002A9F000000000000040é", String(repeating: "0", count: 54),
        ] {
            Support.expectWireError(.invalidIdentifier, "\(id)") { _ = try MessageID.decodeOffsetMessageID(id) }
        }
    }

    @Test(arguments: fixedUniqueIDs.compactMap { $0["name"]?.stringValue })
    func fixedUniqueIDLayoutAndDecoding(_ name: String) throws {
        let line = try #require(Self.fixedUniqueIDs.first { $0["name"]?.stringValue == name })
        let text = try #require(line["uniq_id"]?.stringValue)
        let layout = try #require(line["layout"])
        let id = try UniqueID(parsing: text)
        #expect(text.count == line["len"]?.intValue)
        #expect(id.ip == (try Golden.bytes(hex: layout["ip_hex"]?.stringValue ?? "")))
        #expect(Int(id.pid) == layout["pid"]?.intValue)
        #expect(id.classLoaderHash == layout["classloader_hash"]?.int32Value)
        #expect(id.timeSinceMonthStart == layout["ms_since_month_start"]?.int32Value)
        #expect(Int(id.counter) == layout["counter"]?.intValue)
        #expect(id.description == text)
        #expect(try UniqueID(parsing: text.lowercased()) == id)
        let decoded = try #require(line["decoded"])
        #expect(id.ipString == decoded["getIPStrFromID"]?.stringValue)
        #expect(Int(id.pid) == decoded["getPidFromID"]?.intValue)
        // getNearlyTimeFromID ran with the clock at generated_at_ms (UTC).
        let now = try #require(line["generated_at_ms"]?.int64Value)
        #expect(id.nearlyTime(nowMillis: now) == decoded["getNearlyTimeFromID_ms"]?.int64Value)
    }

    @Test(arguments: sampleUniqueIDs.compactMap { $0["name"]?.stringValue })
    func liveSampleStructure(_ name: String) throws {
        let line = try #require(Self.sampleUniqueIDs.first { $0["name"]?.stringValue == name })
        let text = try #require(line["uniq_id"]?.stringValue)
        let id = try UniqueID(parsing: text)
        #expect(text.count == 56 && id.ip.count == 16)
        #expect(id.description == text)
        let layout = try #require(line["layout"])
        #expect(Golden.hex(id.ip) == layout["ip_hex"]?.stringValue)
        #expect(Int(id.pid) == layout["pid"]?.intValue)
        #expect(id.classLoaderHash == layout["classloader_hash"]?.int32Value)
        #expect(id.timeSinceMonthStart == layout["ms_since_month_start"]?.int32Value)
        #expect(Int(id.counter) == layout["counter"]?.intValue)
        #expect(id.ipString == line["decoded"]?["getIPStrFromID"]?.stringValue)
        // Decoded just after creation, the time is the creation time.
        let created = try #require(line["created_between_ms"]?.arrayValue?.last?.int64Value)
        #expect(id.nearlyTime(nowMillis: created + 1) == line["decoded"]?["getNearlyTimeFromID_ms"]?.int64Value)
        #expect(line["decoded"]?["getNearlyTimeFromID_ms"]?.int64Value == created)
    }

    @Test func malformedUniqueIDsThrow() {
        for id in ["", "C0A80002", "C0A8000230391B6D358647B76000000", "C0A8000230391B6D358647B76000000X",
                   "C0A8000230391B6D358647B7600000010"]
        {
            Support.expectWireError(.invalidIdentifier, "\(id)") { _ = try UniqueID(parsing: id) }
        }
    }
}

@Suite("UNIQ_KEY generator")
struct UniqueIDGeneratorTests {
    @Test func reproducesTheFixedGoldenIDs() throws {
        // uniq_fixed_ipv4: born 1700000000000 = 2023-11-14T22:13:20Z, 1203200000 ms after 2023-11-01.
        let v4 = UniqueIDGenerator(ip: [0xC0, 0xA8, 0, 2], pid: 12345, seed: 0x1B6D_3586, initialCounter: 1)
        #expect(v4.prefix == "C0A8000230391B6D3586")
        #expect(v4.next(nowMillis: 1_700_000_000_000) == "C0A8000230391B6D358647B760000001")
        #expect(v4.next(nowMillis: 1_700_000_000_000) == "C0A8000230391B6D358647B760000002")

        // uniq_fixed_ipv6: 123456789 ms after a month start, counter 65534, then wrapping.
        let ip6 = try Golden.bytes(hex: "20010db8000000000000000000000002")
        let v6 = UniqueIDGenerator(ip: ip6, pid: 54321, seed: 0x2A13_9A55, initialCounter: 65534)
        let monthStart: Int64 = 1_698_796_800_000  // 2023-11-01T00:00:00Z
        #expect(v6.next(nowMillis: monthStart + 123_456_789) == "20010DB8000000000000000000000002D4312A139A55075BCD15FFFE")
        #expect(v6.next(nowMillis: monthStart + 123_456_789).hasSuffix("075BCD15FFFF"))
        #expect(v6.next(nowMillis: monthStart + 123_456_789).hasSuffix("075BCD150000"))

        // A pid over 32767 keeps its low 16 bits.
        let high = UniqueIDGenerator(ip: [10, 0, 0, 7], pid: 0x1_9F01, seed: -1)
        #expect(high.prefix == "0A0000079F01FFFFFFFF")
        #expect(try UniqueID(parsing: high.next(nowMillis: monthStart)).pid == 40705)
    }

    @Test func lateInTheMonthTheTimeFieldGoesNegativeAndStillDecodes() throws {
        let generator = UniqueIDGenerator(ip: [1, 2, 3, 4], pid: 1, seed: 1)
        let october1: Int64 = 1_696_118_400_000  // 2023-10-01T00:00:00Z
        let created = october1 + 30 * 86_400_000 + 3_600_000  // 2023-10-31T01:00Z
        let id = try UniqueID(parsing: generator.next(nowMillis: created))
        #expect(id.timeSinceMonthStart < 0)
        #expect(id.timeSinceMonthStart == Int32(truncatingIfNeeded: created - october1))
        #expect(id.nearlyTime(nowMillis: created + 5) == created)
        // Decoded after the month changed: Java steps back one month.
        #expect(id.nearlyTime(nowMillis: october1 + 31 * 86_400_000 + 1_800_000) == created)
    }

    @Test func nearlyTimeAcrossTheYearBoundary() throws {
        let december1: Int64 = 1_701_388_800_000  // 2023-12-01T00:00:00Z
        let january1: Int64 = 1_704_067_200_000  // 2024-01-01T00:00:00Z
        let created = january1 - 60_000
        let id = try UniqueID(parsing: UniqueIDGenerator(ip: [1, 2, 3, 4], pid: 1, seed: 1).next(nowMillis: created))
        #expect(Int64(UInt32(bitPattern: id.timeSinceMonthStart)) == created - december1)
        #expect(id.nearlyTime(nowMillis: january1 + 1000) == created)
    }

    @Test func monthStarts() {
        #expect(CivilTime.monthStart(containing: 1_700_000_000_000) == 1_698_796_800_000)
        #expect(CivilTime.monthStart(containing: 1_709_164_800_000) == 1_706_745_600_000)  // 2024-02-29 -> 02-01
        #expect(CivilTime.monthStart(containing: 0) == 0)
        #expect(CivilTime.monthStart(containing: -1) == -2_678_400_000)  // 1969-12-01
        #expect(CivilTime.previousMonthStart(1_704_067_200_000) == 1_701_388_800_000)
        #expect(CivilTime.previousMonthStart(1_709_251_200_000) == 1_706_745_600_000)  // 2024-03-01 -> 02-01
    }

    @Test func concurrentCallersGetDistinctIDs() async {
        let generator = UniqueIDGenerator(ip: [1, 2, 3, 4], pid: 7, seed: 7)
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<1000).map { _ in generator.next(nowMillis: 1_700_000_000_000) } }
            }
            var all: [String] = []
            for await part in group { all += part }
            return all
        }
        #expect(ids.count == 8000)
        #expect(Set(ids).count == 8000)
    }

    @Test func fakeIP() {
        #expect(UniqueIDGenerator.fakeIP(nowMillis: 0x0102_0304_0506_0708) == [5, 6, 7, 8])
    }
}
