import RocketMQWire
import Testing

@testable import RocketMQ

/// The resolver the golden MACHINE_ROOM_NEARBY cases were generated with: a broker's room is its name before `@`; a
/// consumer's room is `"room"` + the third octet of the IP before `@` (`192.168.1.10@4000#...` is in `room1`).
struct GoldenRoomResolver: MachineRoomResolver {
    func brokerDeployIn(_ queue: MessageQueue) -> String? {
        String(queue.brokerName.split(separator: "@", omittingEmptySubsequences: false)[0])
    }

    func consumerDeployIn(_ clientID: String) -> String? {
        let ip = clientID.split(separator: "@", omittingEmptySubsequences: false)[0]
        let octets = ip.split(separator: ".")
        guard octets.count == 4 else { return nil }
        return "room" + octets[2]
    }
}

@Suite("Allocation strategies: golden (Java 5.3.3)")
struct AllocationGoldenTests {
    static let cases = GoldenCase.all("allocation")

    @Test func allCasesLoaded() {
        #expect(Self.cases.count == 47)
        let results = Self.cases.reduce(0) { $0 + ($1.line["results"]?.arrayValue?.count ?? 0) }
        #expect(results == 169)
    }

    static func strategy(for line: JSONValue) throws -> any AllocationStrategy {
        let params = line["params"]
        switch line["strategy_class"]?.stringValue {
        case "AllocateMessageQueueAveragely": return AllocateAveragely()
        case "AllocateMessageQueueAveragelyByCircle": return AllocateAveragelyByCircle()
        case "AllocateMessageQueueConsistentHash":
            return try AllocateConsistentHash(virtualNodes: try #require(params?["virtualNodeCnt"]?.intValue))
        case "AllocateMessageQueueByConfig":
            let list = try #require(params?["messageQueueList"]?.arrayValue)
            return AllocateByConfig(queues: try list.map { try #require($0.messageQueue) })
        case "AllocateMessageQueueByMachineRoom":
            let idcs = try #require(params?["consumeridcs"]?.arrayValue).compactMap(\.stringValue)
            return AllocateByMachineRoom(consumerIDCs: Set(idcs))
        case "AllocateMachineRoomNearby":
            #expect(params?["inner"]?.stringValue == "AllocateMessageQueueAveragely")
            return AllocateMachineRoomNearby(inner: AllocateAveragely(), resolver: GoldenRoomResolver())
        case let other:
            throw GoldenError("unknown strategy class \(other ?? "nil")")
        }
    }

    @Test(arguments: cases)
    func matchesJava(_ golden: GoldenCase) throws {
        let line = golden.line
        let name = line["name"]?.stringValue ?? "?"
        let strategy = try Self.strategy(for: line)
        #expect(strategy.name == line["strategy"]?.stringValue, "\(name)")
        let group = try #require(line["consumer_group"]?.stringValue)
        let queues = try #require(line["mq_all"]?.arrayValue).map { try #require($0.messageQueue) }
        let clientIDs = try #require(line["cid_all"]?.arrayValue).map { try #require($0.stringValue) }
        // The inputs come sorted the way RebalanceImpl sorts them; our Java-order helpers agree.
        #expect(queues.sorted() == queues, "\(name)")
        #expect(JavaStringOrder.sorted(clientIDs) == clientIDs, "\(name)")

        let results = try #require(line["results"]?.arrayValue)
        #expect(!results.isEmpty, "\(name)")
        for result in results {
            let current = try #require(result["current_cid"]?.stringValue)
            #expect(clientIDs.contains(current) == result["in_cid_all"]?.boolValue, "\(name) \(current)")
            if let exception = result["exception"]?.stringValue {
                let message = try #require(exception.split(separator: ": ", maxSplits: 1).last)
                #expect(exception.hasPrefix("IllegalArgumentException: "), "\(name)")
                let error = #expect(throws: RocketMQError.self, "\(name) \(current)") {
                    try strategy.allocate(
                        consumerGroup: group, currentClientID: current, queues: queues, clientIDs: clientIDs)
                }
                #expect(error?.code == .invalidArgument, "\(name)")
                #expect(error?.remark == String(message), "\(name)")
                continue
            }
            let expected = try #require(result["allocated"]?.arrayValue).map { try #require($0.messageQueue) }
            let allocated = try strategy.allocate(
                consumerGroup: group, currentClientID: current, queues: queues, clientIDs: clientIDs)
            #expect(allocated == expected, "\(name) \(current)")
            // The indexes say the same thing (-1: a configured queue that is not in mq_all).
            let indexes = try #require(result["allocated_mq_all_indexes"]?.arrayValue).compactMap(\.intValue)
            #expect(indexes == allocated.map { queues.firstIndex(of: $0) ?? -1 }, "\(name) \(current)")
        }
    }

    /// Every queue goes to exactly one member for the partitioning strategies.
    @Test(arguments: cases.filter {
        ["AVG", "AVG_BY_CIRCLE", "CONSISTENT_HASH"].contains($0.line["strategy"]?.stringValue ?? "")
            && !($0.line["mq_all"]?.arrayValue?.isEmpty ?? true)
    })
    func partitionsQueues(_ golden: GoldenCase) throws {
        let line = golden.line
        let strategy = try Self.strategy(for: line)
        let queues = try #require(line["mq_all"]?.arrayValue).map { try #require($0.messageQueue) }
        let clientIDs = try #require(line["cid_all"]?.arrayValue).map { try #require($0.stringValue) }
        var all: [MessageQueue] = []
        for id in clientIDs {
            all += try strategy.allocate(consumerGroup: "g", currentClientID: id, queues: queues, clientIDs: clientIDs)
        }
        #expect(all.sorted() == queues)
    }
}

@Suite("Allocation strategies: PROTOCOL §8.4 and edge cases")
struct AllocationTests {
    static let queues: [MessageQueue] = ["broker-a", "broker-b"].flatMap { broker in
        (0..<4).map { MessageQueue(topic: "T", brokerName: broker, queueId: Int32($0)) }
    }
    static let ids = ["10.0.0.1@A", "10.0.0.2@B", "10.0.0.3@C"]

    /// `a0 b3` style names for the worked example's queues.
    static func short(_ queues: [MessageQueue]) -> String {
        queues.map { "\($0.brokerName.suffix(1))\($0.queueId)" }.joined(separator: " ")
    }

    static func allocations(_ strategy: some AllocationStrategy) throws -> [String] {
        try ids.map {
            short(try strategy.allocate(consumerGroup: "G", currentClientID: $0, queues: queues, clientIDs: ids))
        }
    }

    @Test func workedExample() throws {
        #expect(try Self.allocations(AllocateAveragely()) == ["a0 a1 a2", "a3 b0 b1", "b2 b3"])
        #expect(try Self.allocations(AllocateAveragelyByCircle()) == ["a0 a3 b2", "a1 b0 b3", "a2 b1"])
        #expect(try Self.allocations(AllocateConsistentHash()) == ["a1 b0 b3", "", "a0 a2 a3 b1 b2"])
    }

    @Test func md5Hashes() {
        #expect(Self.queues[0].description == "MessageQueue [topic=T, brokerName=broker-a, queueId=0]")
        #expect(AllocateConsistentHash.hash(Self.queues[0].description) == 1_630_488_180)
        #expect(AllocateConsistentHash.hash("10.0.0.3@C-0") == 512_342_504)
    }

    @Test func machineRoomExample() throws {
        let queues = (0..<4).map { MessageQueue(topic: "T", brokerName: "room1@broker-a", queueId: Int32($0)) }
            + (0..<4).map { MessageQueue(topic: "T", brokerName: "room2@broker-b", queueId: Int32($0)) }
        let strategy = AllocateByMachineRoom(consumerIDCs: ["room1"])
        let got = try Self.ids.map {
            try strategy.allocate(consumerGroup: "G", currentClientID: $0, queues: queues, clientIDs: Self.ids)
                .map(\.queueId)
        }
        #expect(got == [[0, 3], [1], [2]])
    }

    @Test func javaSplitOnAtSign() {
        func parts(_ s: String) -> [String] { AllocateByMachineRoom.javaSplitAtSign(s).map(String.init) }
        #expect(parts("room1@broker-a") == ["room1", "broker-a"])
        #expect(parts("broker-a") == ["broker-a"])
        #expect(parts("") == [""])
        #expect(parts("room1@x@y") == ["room1", "x", "y"])
        #expect(parts("room1@b@") == ["room1", "b"])  // trailing empty parts dropped: eligible in Java
        #expect(parts("@b") == ["", "b"])
        #expect(parts("@@") == [])
        #expect(parts("room1@") == ["room1"])
        // A combining mark after '@' does not hide the '@' (Java splits code units, not characters).
        #expect(parts("room1@\u{301}b") == ["room1", "\u{301}b"])
    }

    @Test func trailingAtSignIsEligibleLikeJava() throws {
        let queues = [MessageQueue(topic: "T", brokerName: "room1@b@", queueId: 0)]
        let got = try AllocateByMachineRoom(consumerIDCs: ["room1"]).allocate(
            consumerGroup: "G", currentClientID: "c", queues: queues, clientIDs: ["c"])
        #expect(got == queues)
    }

    static let checked: [any AllocationStrategy] = [
        AllocateAveragely(), AllocateAveragelyByCircle(), (try? AllocateConsistentHash()) ?? AllocateAveragely(),
        AllocateByMachineRoom(consumerIDCs: ["room1"]),
        AllocateMachineRoomNearby(inner: AllocateAveragely(), resolver: GoldenRoomResolver()),
    ]

    @Test(arguments: 0..<checked.count)
    func commonCheck(_ index: Int) throws {
        let strategy = Self.checked[index]
        let q = [MessageQueue(topic: "T", brokerName: "room1@b", queueId: 0)]
        let ids = ["192.168.1.1@1"]
        for (current, queues, clientIDs, message) in [
            ("", q, ids, "currentCID is empty"), (ids[0], [], ids, "mqAll is null or mqAll empty"),
            (ids[0], q, [], "cidAll is null or cidAll empty"),
        ] {
            let error = #expect(throws: RocketMQError.self, "\(strategy.name)") {
                try strategy.allocate(
                    consumerGroup: "G", currentClientID: current, queues: queues, clientIDs: clientIDs)
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.remark == message)
        }
        // Not a member: nothing. Java `equals` is exact, so a canonically-equivalent spelling is not a member.
        let decomposed = "192.168.1.1@e\u{301}"
        let member = "192.168.1.1@\u{e9}"
        #expect(decomposed == member)  // Swift's String equality would say "member"...
        let got = try strategy.allocate(
            consumerGroup: "G", currentClientID: decomposed, queues: q, clientIDs: [member])
        #expect(got.isEmpty, "\(strategy.name)")  // ...Java's does not.
        let mine = try strategy.allocate(consumerGroup: "G", currentClientID: member, queues: q, clientIDs: [member])
        #expect(mine == q, "\(strategy.name)")
    }

    @Test func consistentHashVirtualNodeBounds() throws {
        for bad in [-1, AllocateConsistentHash.maxVirtualNodes + 1] {
            let error = #expect(throws: RocketMQError.self) { try AllocateConsistentHash(virtualNodes: bad) }
            #expect(error?.code == .invalidArgument)
        }
        // Zero virtual nodes: an empty ring, nobody gets anything (Java's router returns null).
        let none = try AllocateConsistentHash(virtualNodes: 0)
        for id in Self.ids {
            let got = try none.allocate(
                consumerGroup: "G", currentClientID: id, queues: Self.queues, clientIDs: Self.ids)
            #expect(got.isEmpty)
        }
    }

    /// A queue hashing above every ring position belongs to the node at the smallest position (the golden cases
    /// never need the wrap with two different owners, so find such a queue here).
    @Test func consistentHashWrapsToSmallestPosition() throws {
        let ids = ["10.0.0.1@A", "10.0.0.2@B"]
        let ring = ids.flatMap { id in (0..<3).map { (AllocateConsistentHash.hash("\(id)-\($0)"), id) } }
        let lowest = try #require(ring.min { $0.0 < $1.0 })
        let highest = try #require(ring.max { $0.0 < $1.0 })
        try #require(lowest.1 != highest.1)
        let queue = try #require(
            (0..<10_000).lazy.map { MessageQueue(topic: "T", brokerName: "b", queueId: Int32($0)) }
                .first { AllocateConsistentHash.hash($0.description) > highest.0 })
        let strategy = try AllocateConsistentHash(virtualNodes: 3)
        for id in ids {
            let got = try strategy.allocate(consumerGroup: "G", currentClientID: id, queues: [queue], clientIDs: ids)
            #expect(got == (id == lowest.1 ? [queue] : []), "\(id)")
        }
    }

    @Test func consistentHashDuplicateIDGetsFurtherReplicas() throws {
        // Java's router numbers a repeated client's replicas after those it already has, so with [A, A, B] the ring
        // holds A-0 ... A-19 and B-0 ... B-9.
        let a = "10.0.0.1@A"
        let b = "10.0.0.2@B"
        var ring: [UInt32: String] = [:]
        for r in 0..<20 { ring[AllocateConsistentHash.hash("\(a)-\(r)")] = a }
        for r in 0..<10 { ring[AllocateConsistentHash.hash("\(b)-\(r)")] = b }
        let positions = ring.keys.sorted()
        let many = (0..<64).map { MessageQueue(topic: "T", brokerName: "b", queueId: Int32($0)) }
        let expected = many.filter { queue in
            let h = AllocateConsistentHash.hash(queue.description)
            return ring[positions.first { $0 >= h } ?? positions[0]] == a
        }
        let strategy = try AllocateConsistentHash(virtualNodes: 10)
        let got = try strategy.allocate(consumerGroup: "G", currentClientID: a, queues: many, clientIDs: [a, a, b])
        #expect(got == expected)
        let once = try strategy.allocate(consumerGroup: "G", currentClientID: a, queues: many, clientIDs: [a, b])
        #expect(got != once)
    }

    @Test func nearbyNamesAndFailures() throws {
        let nearby = AllocateMachineRoomNearby(inner: AllocateAveragelyByCircle(), resolver: GoldenRoomResolver())
        #expect(nearby.name == "MACHINE_ROOM_NEARBY-AVG_BY_CIRCLE")
        let error = #expect(throws: RocketMQError.self) {
            try nearby.allocate(
                consumerGroup: "G", currentClientID: "192.168.1.1@1",
                queues: [MessageQueue(topic: "T", brokerName: "", queueId: 0)], clientIDs: ["192.168.1.1@1"])
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.remark == "Machine room is null for mq MessageQueue [topic=T, brokerName=, queueId=0]")
        let noRoom = #expect(throws: RocketMQError.self) {
            try nearby.allocate(
                consumerGroup: "G", currentClientID: "bad",
                queues: [MessageQueue(topic: "T", brokerName: "room1@b", queueId: 0)], clientIDs: ["bad"])
        }
        #expect(noRoom?.remark == "Machine room is null for consumer id bad")
    }

    @Test func byConfigIgnoresEverything() throws {
        let configured = [MessageQueue(topic: "X", brokerName: "y", queueId: 9)]
        let strategy = AllocateByConfig(queues: configured)
        #expect(try strategy.allocate(consumerGroup: "", currentClientID: "", queues: [], clientIDs: []) == configured)
    }
}
