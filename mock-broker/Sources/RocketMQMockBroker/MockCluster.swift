import Foundation
import Logging
import NIOCore
import NIOPosix
import RocketMQWire

/// A small but real RocketMQ in one process: a name server and N brokers on loopback ports, with controls for tests.
///
/// ```swift
/// let cluster = try await MockCluster.start(.init(brokers: 2))
/// // point a client at cluster.nameServerAddress ...
/// try await cluster.brokers[0].drain(grace: .seconds(1))   // GO_AWAY, then gone
/// try await cluster.brokers[0].restart()                    // back on the same port
/// await cluster.shutdown()
/// ```
public final class MockCluster: Sendable {
    /// How to start a cluster.
    public struct Configuration: Sendable {
        /// The address every server listens on.
        public var host = "127.0.0.1"
        /// The name server's port (0 = ephemeral).
        public var nameServerPort = 0
        /// The brokers.
        public var brokers: [MockBrokerConfiguration]

        /// `count` brokers named `broker-a`, `broker-b`, ... on ephemeral ports (or `firstBrokerPort + i`).
        public init(brokers count: Int = 1, firstBrokerPort: Int = 0, queues: Int32 = 4, dataDirectory: URL? = nil) {
            brokers = (0..<max(1, count)).map { i in
                var b = MockBrokerConfiguration(name: "broker-" + MockCluster.letterName(i))
                b.port = firstBrokerPort == 0 ? 0 : firstBrokerPort + i
                b.defaultQueueNums = queues
                b.dataDirectory = dataDirectory
                return b
            }
        }

        /// Applies `body` to every broker's configuration.
        public mutating func forEachBroker(_ body: (inout MockBrokerConfiguration) -> Void) {
            for i in brokers.indices { body(&brokers[i]) }
        }
    }

    /// The name server.
    public let nameServer: MockNameServer
    /// The brokers, in configuration order.
    public let brokers: [MockBroker]

    /// `host:port` of the name server.
    public var nameServerAddress: String { nameServer.address }

    private init(nameServer: MockNameServer, brokers: [MockBroker]) {
        self.nameServer = nameServer
        self.brokers = brokers
    }

    /// Starts the name server and every broker; returns when all listen.
    public static func start(
        _ configuration: Configuration = Configuration(),
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "rocketmq.mock")
    ) async throws -> MockCluster {
        let directory = BrokerDirectory()
        let nameServer = MockNameServer(
            host: configuration.host, group: eventLoopGroup, directory: directory, logger: logger)
        try await nameServer.start(port: configuration.nameServerPort)
        var brokers: [MockBroker] = []
        do {
            for var b in configuration.brokers {
                b.host = configuration.host
                let broker = MockBroker(configuration: b, group: eventLoopGroup, directory: directory, logger: logger)
                try await broker.start(port: b.port)
                brokers.append(broker)
            }
        } catch {
            for b in brokers { await b.stop() }
            await nameServer.stop()
            throw error
        }
        return MockCluster(nameServer: nameServer, brokers: brokers)
    }

    /// The broker called `name`.
    public func broker(named name: String) -> MockBroker? { brokers.first { $0.name == name } }

    /// Creates `name` with `queues` queues on every broker (as `mqadmin updateTopic` would).
    public func createTopic(_ name: String, queues: Int32 = 4) {
        for b in brokers { b.createTopic(TopicConfig(name: name, queues: queues)) }
    }

    /// Stops every broker and the name server.
    public func shutdown() async {
        for b in brokers where b.isRunning { await b.stop() }
        await nameServer.stop()
    }

    /// `a`, `b`, ..., `z`, `aa`, ...
    static func letterName(_ i: Int) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        return i < 26 ? String(letters[i]) : letterName(i / 26 - 1) + String(letters[i % 26])
    }
}

extension MockBroker {
    /// Graceful shutdown as Apache RocketMQ 5.3 does it: leave the routes, answer GO_AWAY to clients above V5_3_1 for
    /// `grace`, then close.
    public func drain(grace: Duration) async {
        await drain(grace: TimeAmount.nanoseconds(Int64(grace.components.seconds) * 1_000_000_000 + grace.components.attoseconds / 1_000_000_000))
    }

    /// Crash: close the listener and every connection at once, no GO_AWAY.
    public func kill() async { await stop() }

    /// Starts again on the same port (after `drain` or `kill`). Messages and offsets are kept (replayed from the
    /// data directory when there is one); client registrations are not.
    public func restart() async throws {
        try await start(port: port)
    }

    /// Closes every client connection but keeps serving.
    public func dropConnections() { server.dropConnections() }
    /// Stop answering (requests are read and dropped) until resumed.
    public func pause(_ paused: Bool = true) { server.updateFaults { $0.paused = paused } }
    /// Delay every answer by `delay` (nil: no delay).
    public func setResponseDelay(_ delay: Duration?) {
        let amount = delay.map { TimeAmount.nanoseconds(Int64($0.components.seconds) * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000) }
        server.updateFaults { $0.responseDelay = amount }
    }
    /// Answer the next `count` requests (not oneway) with `code`.
    public func failNextRequests(_ count: Int, with code: ResponseCode, remark: String = "injected failure") {
        server.updateFaults { $0.failNext = count > 0 ? (count, code, remark) : nil }
    }
    /// Every stored message of `topic` on this broker, decoded, in queue then offset order (for test assertions).
    public func storedRecords(topic: String) -> [MessageRecord] {
        state.withLock { s in
            guard let store = s.store else { return [] }
            return store.queues.keys.filter { $0.topic == topic }.sorted { $0.queueId < $1.queueId }.flatMap { key in
                (store.queues[key] ?? []).compactMap { entry -> MessageRecord? in
                    var buffer = entry.record
                    return try? MessageRecord.decode(from: &buffer)
                }
            }
        }
    }
    /// The producer groups registered by heartbeats.
    public var producerGroups: Set<String> { state.withLock { Set($0.registry.producers.keys) } }
    /// Pulls currently held by long polling.
    public var heldPullCount: Int { state.withLock { $0.holds.values.reduce(0) { $0 + $1.count } } }
    /// The client connections currently open.
    public var connectionCount: Int { server.connections.count }
    /// The client ids registered in a consumer group (one per connection).
    public func consumerIDs(group: String) -> [String] { state.withLock { $0.registry.consumerIDs(group) } }
    /// The committed offset of a group on a queue, if any.
    public func committedOffset(group: String, topic: String, queueId: Int32) -> Int64? {
        state.withLock { $0.offsets[offsetKey(group: group, topic: topic)]?[queueId] }
    }
    /// The next offset to be written on a queue (the message count, queues start at 0).
    public func maxOffset(topic: String, queueId: Int32) -> Int64 {
        state.withLock { $0.store?.maxOffset(QueueKey(topic: topic, queueId: queueId)) ?? 0 }
    }
}
