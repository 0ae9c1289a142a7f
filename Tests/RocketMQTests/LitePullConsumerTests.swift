import Foundation
import NIOCore
@testable import RocketMQ
import RocketMQMockBroker
import RocketMQWire
import Synchronization
import RocketMQTestSupport
import Testing

/// A running lite pull consumer and its task.
struct RunningLite {
    let consumer: LitePullConsumer
    let task: Task<Void, Error>

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

func startLite(
    _ cluster: MockCluster, group: String,
    configure: (inout LitePullConsumerConfiguration) -> Void = { _ in },
    _ setup: (LitePullConsumer) throws -> Void
) throws -> RunningLite {
    var config = LitePullConsumerConfiguration(group: group)
    config.startPoint = .firstOffset
    configure(&config)
    var client = ClientConfiguration(nameServer: cluster.nameServerAddress)
    client.heartbeatInterval = .seconds(5)
    let consumer = try LitePullConsumer(configuration: config, client: client)
    try setup(consumer)
    return RunningLite(consumer: consumer, task: Task { try await consumer.run() })
}

/// Polls until `count` messages arrived (failing after `timeout`); returns them in poll order.
func pollMessages(_ consumer: LitePullConsumer, count: Int, timeout: Duration = .seconds(15)) async throws -> [ReceivedMessage] {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var got: [ReceivedMessage] = []
    while got.count < count && clock.now < deadline {
        got += try await consumer.poll(timeout: .milliseconds(200))
    }
    #expect(got.count >= count, "polled \(got.count) of \(count) within \(timeout)")
    return got
}

/// Sends `count` messages to one queue of `topic`; returns their ids in order.
func sendToQueue(_ producer: Producer, topic: String, queueId: Int32, count: Int, prefix: String = "m") async throws -> [String] {
    var ids: [String] = []
    for i in 0..<count {
        let r = try await producer.send(Message(topic: topic, string: "\(prefix)\(i)")) { queues in
            queues.first { $0.queueId == queueId }
        }
        #expect(r.queue.queueId == queueId)
        ids.append(r.messageID)
    }
    return ids
}

@Suite("Lite pull consumer against the mock cluster", .serialized, .heavy)
struct LitePullConsumerTests {
    @Test func subscribePollsEverythingFromTwoBrokersAndCommitsOnShutdown() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("L1", queues: 4)
        let (producer, runner) = try startProducer(cluster)
        var sent = Set<String>()
        for i in 0..<300 { sent.insert(try await producer.send(Message(topic: "L1", string: "m\(i)")).messageID) }
        let lite = try startLite(cluster, group: "GL1") { try $0.subscribe("L1") }
        let got = try await pollMessages(lite.consumer, count: 300)
        #expect(Set(got.map(\.messageID)) == sent)
        #expect(got.count == 300, "no duplicates")
        #expect(got.allSatisfy { $0.topic == "L1" })
        #expect(Set(got.map(\.queue.brokerName)) == Set(cluster.brokers.map(\.name)))
        // Per queue, poll order is offset order.
        for (_, messages) in Dictionary(grouping: got, by: \.queue) {
            #expect(messages.map(\.queueOffset) == messages.map(\.queueOffset).sorted())
        }
        #expect(lite.consumer.assignment.count == 8)
        #expect(try await lite.consumer.poll(timeout: .milliseconds(100)).isEmpty)
        // The broker saw a pulling consumer (no subscription needed for lite pulls).
        #expect(cluster.brokers.allSatisfy { $0.consumerIDs(group: "GL1") == [lite.consumer.clientID] })
        // autoCommit: shutdown commits what poll returned.
        await lite.stop()
        let committed = cluster.brokers.flatMap { b in (0..<4).compactMap { b.committedOffset(group: "GL1", topic: "L1", queueId: $0) } }
        #expect(committed.reduce(0, +) == 300)
        await #expect(throws: RocketMQError.self) { _ = try await lite.consumer.poll(timeout: .zero) }
        runner.cancel()
        await cluster.shutdown()
    }

    @Test func tagExpressionFiltersAndCommitsPastFilteredMessages() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("LT", queues: 1)
        let (producer, runner) = try startProducer(cluster)
        for i in 0..<60 { _ = try await producer.send(Message(topic: "LT", string: "t\(i)", tags: i % 3 == 0 ? "A" : "B")) }
        let lite = try startLite(cluster, group: "GLT") { try $0.subscribe("LT", expression: "A") }
        let got = try await pollMessages(lite.consumer, count: 20)
        #expect(got.map { String(buffer: $0.body) } == (0..<20).map { "t\($0 * 3)" })
        #expect(got.allSatisfy { $0.tags == "A" })
        // Once the consumer waits at the queue's end (its long poll held there), everything below was either polled
        // or not for this subscription: that is what gets committed.
        try await eventually(timeout: .seconds(60), "long poll held at the end") { cluster.brokers[0].heldPullCount == 1 }
        await lite.stop()
        #expect(cluster.brokers[0].committedOffset(group: "GLT", topic: "LT", queueId: 0) == 60)
        runner.cancel()
        await cluster.shutdown()
    }

    @Test func assignOneQueueAndSeek() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("L2", queues: 4)
        let (producer, runner) = try startProducer(cluster)
        let broker = cluster.brokers[1].name
        var ids: [String] = []
        for i in 0..<40 {
            let r = try await producer.send(Message(topic: "L2", string: "a\(i)")) { qs in
                qs.first { $0.brokerName == broker && $0.queueId == 1 }
            }
            ids.append(r.messageID)
        }
        for i in 0..<20 {  // other queues have messages too
            _ = try await producer.send(Message(topic: "L2", string: "other\(i)")) { qs in
                qs.first { $0.brokerName != broker || $0.queueId != 1 }
            }
        }
        let queue = MessageQueue(topic: "L2", brokerName: broker, queueId: 1)
        let lite = try startLite(cluster, group: "GL2") { c in
            #expect(throws: RocketMQError.self) { try c.assign([]) }
            try c.assign([queue])
            #expect(throws: RocketMQError.self) { try c.subscribe("L2") }  // modes are exclusive
        }
        #expect(try await lite.consumer.messageQueues(of: "L2").count == 8)
        let first = try await pollMessages(lite.consumer, count: 40)
        #expect(first.map(\.messageID) == ids, "exactly the assigned queue, in order")
        #expect(first.map(\.queueOffset) == (0..<40).map { Int64($0) })
        #expect(lite.consumer.assignment == [queue])

        try await lite.consumer.seek(queue, to: 25)
        let again = try await pollMessages(lite.consumer, count: 15)
        #expect(again.map(\.queueOffset) == (25..<40).map { Int64($0) })

        try await lite.consumer.seekToBeginning(queue)
        let fromStart = try await pollMessages(lite.consumer, count: 40)
        #expect(fromStart.map(\.queueOffset) == (0..<40).map { Int64($0) })

        try await lite.consumer.seekToEnd(queue)
        #expect(try await lite.consumer.poll(timeout: .milliseconds(300)).isEmpty)
        let late = try await producer.send(Message(topic: "L2", string: "late")) { qs in
            qs.first { $0.brokerName == broker && $0.queueId == 1 }
        }
        let tail = try await pollMessages(lite.consumer, count: 1)
        #expect(tail.map(\.messageID) == [late.messageID])
        #expect(tail.first?.queueOffset == 40)

        // Out of range, and a queue that is not assigned.
        await #expect {
            try await lite.consumer.seek(queue, to: 42)
        } throws: { ($0 as? RocketMQError)?.code == .invalidArgument }
        await #expect {
            try await lite.consumer.seek(MessageQueue(topic: "L2", brokerName: broker, queueId: 2), to: 0)
        } throws: { ($0 as? RocketMQError)?.code == .invalidArgument }
        await lite.stop()
        #expect(cluster.brokers[1].committedOffset(group: "GL2", topic: "L2", queueId: 1) == 41)
        #expect(cluster.brokers[1].committedOffset(group: "GL2", topic: "L2", queueId: 0) == nil)
        runner.cancel()
        await cluster.shutdown()
    }

    @Test func manualCommitPersistsExactlyThePolledOffsets() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("L3", queues: 2)
        let (producer, runner) = try startProducer(cluster)
        _ = try await sendToQueue(producer, topic: "L3", queueId: 0, count: 50)
        _ = try await sendToQueue(producer, topic: "L3", queueId: 1, count: 50)
        let broker = cluster.brokers[0]
        let manual: (inout LitePullConsumerConfiguration) -> Void = {
            $0.autoCommit = false
            $0.autoCommitInterval = .milliseconds(100)  // retries of failed commits only: must not commit polls
        }
        let lite = try startLite(cluster, group: "GL3", configure: manual) { try $0.subscribe("L3") }
        var polled = try await pollMessages(lite.consumer, count: 25)
        func next(_ messages: [ReceivedMessage]) -> [Int32: Int64] {
            Dictionary(grouping: messages, by: \.queue.queueId).mapValues { ($0.map(\.queueOffset).max() ?? -1) + 1 }
        }
        let expected = next(polled)
        await lite.consumer.commit()
        for q in Int32(0)..<2 {
            #expect(broker.committedOffset(group: "GL3", topic: "L3", queueId: q) == expected[q], "queue \(q)")
        }
        // Polled after the commit, never committed: neither the periodic task nor shutdown writes it.
        polled += try await pollMessages(lite.consumer, count: 10)
        #expect(next(polled) != expected)
        await lite.stop()
        for q in Int32(0)..<2 {
            #expect(broker.committedOffset(group: "GL3", topic: "L3", queueId: q) == expected[q], "queue \(q) after shutdown")
        }
        // A new member of the group resumes exactly there.
        let successor = try startLite(cluster, group: "GL3", configure: manual) { try $0.subscribe("L3") }
        let rest = try await pollMessages(successor.consumer, count: 100 - expected.values.reduce(0, +).asInt)
        #expect(rest.count == 100 - expected.values.reduce(0, +).asInt)
        for (q, messages) in Dictionary(grouping: rest, by: \.queue.queueId) {
            #expect(messages.first?.queueOffset == expected[q] ?? 0)
        }
        // Nothing committed for a queue reads as 0 while it still starts at 0 (Java's QUERY_CONSUMER_OFFSET): on a loaded
        // machine the first 25 polls can all come from queue 1.
        #expect(try await successor.consumer.committedOffset(MessageQueue(topic: "L3", brokerName: broker.name, queueId: 0)) == expected[0] ?? 0)
        await successor.stop()
        runner.cancel()
        await cluster.shutdown()
    }

    @Test func twoLiteConsumersSplitTheQueuesAndTakeOverOnLeave() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("L4", queues: 4)
        let members = try (0..<2).map { _ in try startLite(cluster, group: "GL4") { try $0.subscribe("L4") } }
        try await eventually(timeout: .seconds(60), "two members own disjoint halves of 8 queues") {
            let all = members.flatMap(\.consumer.assignment)
            return all.count == 8 && Set(all).count == 8 && members.allSatisfy { $0.consumer.assignment.count == 4 }
        }
        let (producer, runner) = try startProducer(cluster)
        var sent = Set<String>()
        for i in 0..<400 { sent.insert(try await producer.send(Message(topic: "L4", string: "s\(i)")).messageID) }
        let received = Received()
        let foreign = Received()
        let pollers = members.map { member in
            let consumer = member.consumer
            return Task {
                while !Task.isCancelled {
                    guard let batch = try? await consumer.poll(timeout: .milliseconds(200)) else { return }
                    let owned = Set(consumer.assignment)
                    foreign.record(batch.filter { !owned.contains($0.queue) })
                    received.record(batch)
                }
            }
        }
        try await eventually(timeout: .seconds(60), "all 400 polled") { received.unique == 400 }
        #expect(received.ids == sent)
        #expect(received.duplicates == 0, "each message polled by one member once")
        #expect(foreign.total == 0, "only owned queues are polled")
        for p in pollers { p.cancel() }
        // One leaves: the other takes all 8.
        await members[0].stop()
        let clock = ContinuousClock()
        let t0 = clock.now
        try await eventually(timeout: .seconds(60), "the remaining member owns all 8") { members[1].consumer.assignment.count == 8 }
        print("LITE takeover=\(clock.now - t0)")  // a figure, not an assertion
        await members[1].stop()
        runner.cancel()
        await cluster.shutdown()
    }

    @Test func bufferIsBoundedPerQueue() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("L5", queues: 1)
        let (producer, runner) = try startProducer(cluster)
        _ = try await sendToQueue(producer, topic: "L5", queueId: 0, count: 200)
        let lite = try startLite(cluster, group: "GL5", configure: {
            $0.pullThresholdForQueue = 30
            $0.pullBatchSize = 10
        }) { try $0.subscribe("L5") }
        // Nobody polls: pulling stops at the threshold (30), never more than one batch over it.
        try await eventually(timeout: .seconds(60), "buffer filled to the threshold") { lite.consumer.bufferedMessageCount >= 30 }
        try await stays(for: .milliseconds(200), "fewer than 40 buffered") { lite.consumer.bufferedMessageCount < 40 }
        // Polling makes room and pulling resumes, in order, to the end.
        let all = try await pollMessages(lite.consumer, count: 200)
        #expect(all.map(\.queueOffset) == (0..<200).map { Int64($0) })
        await lite.stop()
        runner.cancel()
        await cluster.shutdown()
    }

    @Test func pollWithoutAnythingToConsumeWaitsForItsTimeout() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("L6", queues: 2)
        let lite = try startLite(cluster, group: "GL6") { try $0.subscribe("L6") }
        try await eventually(timeout: .seconds(60)) { lite.consumer.assignment.count == 2 }
        let clock = ContinuousClock()
        let t0 = clock.now
        #expect(try await lite.consumer.poll(timeout: .milliseconds(300)).isEmpty)
        #expect(clock.now - t0 >= .milliseconds(300))
        // A waiting poll wakes as soon as a message arrives (long polling on the broker, then the buffer).
        let (producer, runner) = try startProducer(cluster)
        let waiting = Task { try await lite.consumer.poll(timeout: .seconds(30)) }
        let sent = try await producer.send(Message(topic: "L6", string: "wake"))
        let got = try await waiting.value
        #expect(got.map(\.messageID) == [sent.messageID])
        // A cancelled poll ends at once.
        let cancelled = Task { try await lite.consumer.poll(timeout: .seconds(60)) }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { _ = try await cancelled.value }
        await lite.stop()
        runner.cancel()
        await cluster.shutdown()
    }
}

/// The buffer state machine alone: no sockets, no clocks.
@Suite("Lite pull buffer")
struct LitePullBufferTests {
    static let q0 = MessageQueue(topic: "T", brokerName: "b", queueId: 0)
    static let q1 = MessageQueue(topic: "T", brokerName: "b", queueId: 1)

    static func messages(_ queue: MessageQueue, _ offsets: Range<Int64>) -> [ReceivedMessage] {
        let host = MessageHost(ip: [127, 0, 0, 1], port: 10911)
        return offsets.map { o in
            let record = MessageRecord(topic: queue.topic, body: ByteBuffer(string: "m\(o)"), queueId: queue.queueId, queueOffset: o, bornHost: host, storeHost: host)
            return ReceivedMessage(record: record, queue: queue, body: record.body)
        }
    }

    @Test func batchesComeOutInArrivalOrderAndMoveTheConsumedOffset() throws {
        var buffer = LitePullBuffer()
        var ok = buffer.add(Self.q0, offset: 5)
        #expect(ok)
        ok = buffer.add(Self.q0, offset: 9)
        #expect(!ok, "owned already")
        buffer.add(Self.q1, offset: 0)
        let p0 = try #require(buffer.position(Self.q0))
        let p1 = try #require(buffer.position(Self.q1))
        #expect(p0.offset == 5 && p1.offset == 0)
        #expect(buffer.consumedOffsets.isEmpty, "nothing polled yet: nothing to commit")
        ok = buffer.pulled(Self.q0, generation: p0.generation, messages: Self.messages(Self.q0, 5..<8), bytes: 6, nextOffset: 8)
        #expect(ok)
        ok = buffer.pulled(Self.q1, generation: p1.generation, messages: Self.messages(Self.q1, 0..<2), bytes: 4, nextOffset: 2)
        #expect(ok)
        ok = buffer.pulled(Self.q0, generation: p0.generation, messages: Self.messages(Self.q0, 8..<10), bytes: 4, nextOffset: 10)
        #expect(ok)
        #expect(buffer.totalCount == 7)
        #expect(buffer.position(Self.q0)?.offset == 10)
        #expect(buffer.isFlowControlled(Self.q0, maxCount: 5, maxBytes: 100, maxTotal: 100))
        #expect(!buffer.isFlowControlled(Self.q1, maxCount: 5, maxBytes: 100, maxTotal: 100))
        #expect(buffer.isFlowControlled(Self.q1, maxCount: 5, maxBytes: 4, maxTotal: 100))
        #expect(buffer.isFlowControlled(Self.q1, maxCount: 5, maxBytes: 100, maxTotal: 7))

        var batch = buffer.take()
        #expect(batch?.messages.map(\.queueOffset) == [5, 6, 7])
        #expect(buffer.consumedOffsets == [Self.q0: 8])
        batch = buffer.take()
        #expect(batch?.queue == Self.q1)
        batch = buffer.take()
        #expect(batch?.messages.map(\.queueOffset) == [8, 9])
        #expect(buffer.consumedOffsets == [Self.q0: 10, Self.q1: 2])
        batch = buffer.take()
        #expect(batch == nil)
        #expect(buffer.totalCount == 0 && !buffer.hasBatches)
    }

    @Test func filteredPullsMoveTheConsumedOffsetOnlyWhenNothingIsBuffered() throws {
        var buffer = LitePullBuffer()
        buffer.add(Self.q0, offset: 0)
        let g = try #require(buffer.position(Self.q0)).generation
        // Nothing polled yet: an empty pull moves the pull position, not the (absent) consumed offset.
        var ok = buffer.pulled(Self.q0, generation: g, messages: [], bytes: 0, nextOffset: 3)
        #expect(ok)
        #expect(buffer.consumedOffsets.isEmpty)
        ok = buffer.pulled(Self.q0, generation: g, messages: Self.messages(Self.q0, 3..<4), bytes: 2, nextOffset: 4)
        // Filtered-out messages after a buffered one: the consumed offset waits for the poll...
        ok = ok && buffer.pulled(Self.q0, generation: g, messages: [], bytes: 0, nextOffset: 9)
        #expect(ok)
        #expect(buffer.consumedOffsets.isEmpty)
        // ...which then covers everything below the pull position.
        let batch = buffer.take()
        #expect(batch?.messages.count == 1)
        #expect(buffer.consumedOffsets == [Self.q0: 9])
        ok = buffer.pulled(Self.q0, generation: g, messages: [], bytes: 0, nextOffset: 12)
        #expect(ok)
        #expect(buffer.consumedOffsets == [Self.q0: 12])
    }

    @Test func seekDiscardsBufferedMessagesAndDisownsPullsInFlight() throws {
        var buffer = LitePullBuffer()
        buffer.add(Self.q0, offset: 0)
        buffer.add(Self.q1, offset: 0)
        let old = try #require(buffer.position(Self.q0)).generation
        var ok = buffer.pulled(Self.q0, generation: old, messages: Self.messages(Self.q0, 0..<4), bytes: 8, nextOffset: 4)
        let g1 = try #require(buffer.position(Self.q1)).generation
        ok = ok && buffer.pulled(Self.q1, generation: g1, messages: Self.messages(Self.q1, 0..<1), bytes: 2, nextOffset: 1)
        ok = ok && buffer.seek(Self.q0, to: 2)
        #expect(ok)
        ok = buffer.seek(MessageQueue(topic: "T", brokerName: "b", queueId: 9), to: 0)
        #expect(!ok, "not owned")
        #expect(buffer.totalCount == 1)
        #expect(buffer.consumedOffsets == [Self.q0: 2], "a seek is committable at once")
        let now = try #require(buffer.position(Self.q0))
        #expect(now.offset == 2 && now.generation != old)
        // A pull started before the seek answers late: ignored.
        ok = buffer.pulled(Self.q0, generation: old, messages: Self.messages(Self.q0, 4..<6), bytes: 4, nextOffset: 6)
        #expect(!ok)
        #expect(buffer.position(Self.q0)?.offset == 2)
        var batch = buffer.take()
        #expect(batch?.queue == Self.q1)
        batch = buffer.take()
        #expect(batch == nil)
        // Removing a queue drops its buffer; owning it again starts a new generation.
        ok = buffer.pulled(Self.q0, generation: now.generation, messages: Self.messages(Self.q0, 2..<3), bytes: 2, nextOffset: 3)
        #expect(ok)
        let removed = buffer.remove(Self.q0)
        let last = try #require(removed)
        #expect(last.consumedOffset == 2 && last.bufferedCount == 1)
        batch = buffer.take()
        #expect(buffer.totalCount == 0 && batch == nil)
        buffer.add(Self.q0, offset: 3)
        #expect(buffer.position(Self.q0)?.generation != now.generation)
        ok = buffer.pulled(Self.q0, generation: now.generation, messages: [], bytes: 0, nextOffset: 7)
        #expect(!ok)
    }
}

extension Int64 {
    fileprivate var asInt: Int { Int(self) }
}
