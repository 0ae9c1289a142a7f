import Logging
import NIOCore
import NIOPosix
import RocketMQRemoting
import RocketMQWire

/// Administrative look-ups and changes: routes, queue offsets, topic creation.
public final class Admin: Sendable {
    let core: ClientCore

    /// Offsets of one queue.
    public struct QueueOffsets: Sendable, Hashable {
        /// The queue.
        public var queue: MessageQueue
        /// The oldest offset still stored.
        public var minOffset: Int64
        /// The next offset to be written.
        public var maxOffset: Int64
        /// The group's committed offset, if it has one.
        public var committedOffset: Int64?
    }

    /// Creates an admin client; nothing connects until the first call.
    public init(
        client: ClientConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "rocketmq.admin")
    ) throws {
        core = try ClientCore(configuration: client, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    /// The topic's route, or nil when the name server does not know it.
    public func route(topic: String) async throws -> TopicRouteData? {
        do { return try await core.fetchRoute(core.wrap(topic)) } catch { throw Producer.map(error) }
    }

    /// The topic's route as (standard) JSON text, or nil.
    public func routeJSON(topic: String) async throws -> String? {
        guard let route = try await route(topic: topic) else { return nil }
        return String(decoding: route.encoded(), as: UTF8.self)
    }

    /// Min, max and (for `group`) committed offsets of every readable queue of `topic`.
    public func queueOffsets(topic: String, group: String? = nil) async throws -> [QueueOffsets] {
        let wrapped = core.wrap(topic)
        guard let info = try await core.routeInfo(wrapped) else {
            throw RocketMQError(.topicNotFound, "no route for topic \(topic)")
        }
        var result: [QueueOffsets] = []
        for queue in info.subscribeQueues {
            guard let address = core.masterAddress(queue.brokerName) else { continue }
            let q: ExtFields = ["topic": queue.topic, "queueId": String(queue.queueId), "bname": queue.brokerName]
            async let minR = ask(.getMinOffset, q, address)
            async let maxR = ask(.getMaxOffset, q.merged(["committed": "true"]), address)
            var committed: Int64?
            if let group {
                // Without setZeroIfNotFound=false a broker answers 0 for a group that never committed while the queue still
                // starts at offset 0 in memory; an admin view must show "no committed offset" instead.
                let fields = q.merged(["consumerGroup": core.wrap(group), "setZeroIfNotFound": "false"])
                let r = try await core.invoke(.request(.queryConsumerOffset, extFields: fields), address: address, timeout: core.configuration.requestTimeout)
                if r.responseCode == .success { committed = r.field("offset").flatMap { Int64($0) } }
            }
            var shown = queue
            shown.topic = topic
            result.append(QueueOffsets(queue: shown, minOffset: try await minR, maxOffset: try await maxR, committedOffset: committed))
        }
        return result
    }

    private func ask(_ code: RequestCode, _ fields: ExtFields, _ address: String) async throws -> Int64 {
        let r = try await core.invoke(.request(code, extFields: fields), address: address, timeout: core.configuration.requestTimeout)
        guard r.responseCode == .success, let offset = r.field("offset").flatMap({ Int64($0) }) else {
            throw RocketMQError(.brokerError, r.remark ?? "offset query failed", responseCode: r.code)
        }
        return offset
    }

    /// Creates (or updates) `topic` with `queues` read/write queues on every broker of the cluster (or the named
    /// brokers), as `mqadmin updateTopic` does.
    public func createTopic(_ topic: String, queues: Int32 = 4, brokers: [String]? = nil) async throws -> [String] {
        try Validators.checkTopic(topic)
        let addresses = try await brokerAddresses()
        let targets = addresses.filter { brokers == nil || brokers?.contains($0.key) == true }
        guard !targets.isEmpty else { throw RocketMQError(.invalidArgument, "no such broker in the cluster") }
        let fields: ExtFields = [
            "topic": core.wrap(topic), "defaultTopic": "TBW102", "readQueueNums": String(queues),
            "writeQueueNums": String(queues), "perm": "6", "topicFilterType": "SINGLE_TAG", "topicSysFlag": "0", "order": "false",
        ]
        for (name, address) in targets.sorted(by: { $0.key < $1.key }) {
            let r = try await core.invoke(.request(.updateAndCreateTopic, extFields: fields), address: address, timeout: core.configuration.requestTimeout)
            guard r.responseCode == .success else {
                throw RocketMQError(.brokerError, "\(name): \(r.remark ?? "refused")", responseCode: r.code)
            }
        }
        return targets.keys.sorted()
    }

    /// Broker name → master address, from the name server's cluster info.
    public func brokerAddresses() async throws -> [String: String] {
        let response = try await core.invokeNameServer(.request(.getBrokerClusterInfo, extFields: nil))
        guard response.responseCode == .success, let body = response.body else {
            throw RocketMQError(.brokerError, response.remark ?? "cluster info failed", responseCode: response.code)
        }
        let json = try body.withUnsafeReadableBytes { try JSONParser.parse($0) }
        var result: [String: String] = [:]
        for member in json["brokerAddrTable"]?.objectMembers ?? [] {
            guard let name = member.key.stringValue, let addr = member.value["brokerAddrs"]?["0"]?.stringValue else { continue }
            result[name] = addr
        }
        return result
    }

    /// Closes connections.
    public func shutdown() async { await core.shutdown() }
}

extension ExtFields {
    func merged(_ other: ExtFields) -> ExtFields {
        var copy = self
        for (k, v) in other { copy[k] = v }
        return copy
    }
}
