import Foundation
import NIOCore
import RocketMQ
import RocketMQMockBroker
import RocketMQWire
import RocketMQTestSupport
import Synchronization
import Testing

/// A replier: a consumer group member answering each request on `topic` through its own producer, after `gate`
/// lets it (nil: at once).
struct Replier {
    let consumer: RunningConsumer
    let producer: RunningProducer

    init(_ cluster: MockCluster, group: String, topic: String, gate: Gate? = nil) throws {
        let producer = try RunningProducer(cluster, group: group + "-replier", checker: nil)
        self.producer = producer
        consumer = try startConsumer(cluster, group: group, topic: topic, handler: { messages in
            for m in messages {
                if let gate { await gate.wait() }
                var answer = ByteBuffer(string: "re:")
                answer.writeImmutableBuffer(m.body)
                do { try await producer.producer.reply(to: m, body: answer) } catch { return .retryLater }
            }
            return .success
        })
    }

    func stop() async {
        await consumer.stop()
        await producer.stop()
    }
}

/// Opens once; waiters before that park.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let open = state.withLock { s -> Bool in
                if !s.open { s.waiters.append(c) }
                return s.open
            }
            if open { c.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }
}

@Suite("Request-reply against the mock cluster", .heavy)
struct RequestReplyTests {
    @Test("1,000 concurrent requests each get their own reply")
    func concurrentRequests() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 2))
        cluster.createTopic("RQ1", queues: 4)
        let replier = try Replier(cluster, group: "RQG1", topic: "RQ1")
        let requester = try RunningProducer(cluster, group: "RQP1", checker: nil)
        // The replier takes part once its group owns the queues (a request before that would wait for the next pull).
        try await eventually(timeout: .seconds(60), "the replier owns the queues") {
            replier.consumer.consumer.ownedQueues.filter { $0.topic == "RQ1" }.count == 8
        }
        let mismatches = try await withThrowingTaskGroup(of: String?.self) { group in
            for i in 0..<1_000 {
                group.addTask {
                    let reply = try await requester.producer.request(Message(topic: "RQ1", string: "q\(i)"), timeout: .seconds(60))
                    let body = String(buffer: reply.body)
                    if body != "re:q\(i)" { return "q\(i) -> \(body)" }
                    if reply.properties[MessageProperty.messageType] != "reply" { return "q\(i): no MSG_TYPE=reply" }
                    return nil
                }
            }
            return try await group.reduce(into: [String]()) { if let m = $1 { $0.append(m) } }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        let stats = requester.producer.statistics
        #expect(stats.repliesReceived == 1_000)
        #expect(stats.lateReplies == 0)
        await replier.stop()
        await requester.stop()
        await cluster.shutdown()
    }

    @Test("no reply in time: a typed requestTimeout, and the late reply is dropped and counted")
    func timeoutAndLateReply() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("RQ2", queues: 2)
        let gate = Gate()
        let replier = try Replier(cluster, group: "RQG2", topic: "RQ2", gate: gate)
        let requester = try RunningProducer(cluster, group: "RQP2", checker: nil)
        try await eventually(timeout: .seconds(60), "the replier owns the queues") {
            replier.consumer.consumer.ownedQueues.filter { $0.topic == "RQ2" }.count == 2
        }
        do {
            _ = try await requester.producer.request(Message(topic: "RQ2", string: "slow"), timeout: .milliseconds(500))
            Issue.record("a reply arrived although the replier was held")
        } catch let error as RocketMQError {
            #expect(error.code == .requestTimeout, "\(error)")
        }
        // The replier answers now: its reply finds nobody waiting.
        gate.open()
        try await eventually(timeout: .seconds(60), "the late reply dropped and counted") {
            requester.producer.statistics.lateReplies == 1
        }
        #expect(requester.producer.statistics.repliesReceived == 0)
        // The requester still works.
        let reply = try await requester.producer.request(Message(topic: "RQ2", string: "fast"), timeout: .seconds(60))
        #expect(String(buffer: reply.body) == "re:fast")
        await replier.stop()
        await requester.stop()
        await cluster.shutdown()
    }

    @Test("replying to a requester that is gone fails visibly with the broker's error; a plain message is no request")
    func requesterGone() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1))
        cluster.createTopic("RQ3", queues: 1)
        let gate = Gate()
        let failures = Mutex<[RocketMQError]>([])
        let replierProducer = try RunningProducer(cluster, group: "RQG3-replier", checker: nil)
        let consumer = try startConsumer(cluster, group: "RQG3", topic: "RQ3", handler: { messages in
            for m in messages {
                await gate.wait()
                do { try await replierProducer.producer.reply(to: m, body: ByteBuffer(string: "late")) } catch let e as RocketMQError {
                    failures.withLock { $0.append(e) }
                } catch {}
            }
            return .success
        })
        try await eventually(timeout: .seconds(60), "the replier owns the queue") {
            consumer.consumer.ownedQueues.contains { $0.topic == "RQ3" }
        }
        // The requester times out and goes away before the reply is sent.
        let requester = try RunningProducer(cluster, group: "RQP3", checker: nil)
        await #expect(throws: RocketMQError.self) {
            _ = try await requester.producer.request(Message(topic: "RQ3", string: "orphan"), timeout: .milliseconds(300))
        }
        await requester.producer.shutdown()
        await requester.stop()
        try await eventually(timeout: .seconds(60), "the broker forgot the requester") {
            !cluster.brokers[0].producerGroups.contains("RQP3")
        }
        // A plain message next: no request.
        _ = try await replierProducer.producer.send(Message(topic: "RQ3", string: "plain"))
        gate.open()
        try await eventually(timeout: .seconds(60), "both handled") { failures.withLock { $0.count } == 2 }
        // Handled concurrently: in either order.
        let errors = failures.withLock { $0 }
        let gone = try #require(errors.first { $0.code == .brokerError }, "\(errors)")
        #expect(gone.remark.contains("not found"), "\(gone)")
        #expect(errors.contains { $0.code == .invalidArgument }, "\(errors)")
        await consumer.stop()
        await replierProducer.stop()
        await cluster.shutdown()
    }
}
