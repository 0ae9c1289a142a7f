import Logging
import NIOCore
import RocketMQWire
import Synchronization

/// The brokers a name server routes to: the live, registered ones.
final class BrokerDirectory: Sendable {
    private let brokers = Mutex<[String: MockBroker]>([:])

    func register(_ broker: MockBroker) { brokers.withLock { $0[broker.name] = broker } }
    func unregister(_ broker: MockBroker) { _ = brokers.withLock { $0.removeValue(forKey: broker.name) } }
    func routesChanged() {}

    /// Live brokers sorted by name.
    var live: [MockBroker] { brokers.withLock { $0.values.sorted { $0.name < $1.name } } }
}

/// The name server role: topic routes built from the live brokers' topic tables.
public final class MockNameServer: RequestProcessor, Sendable {
    let server: MockServer
    let directory: BrokerDirectory
    let version: Int32

    init(host: String, group: EventLoopGroup, directory: BrokerDirectory, logger: Logger, version: Int32 = 479) {
        self.server = MockServer(host: host, group: group, logger: logger)
        self.directory = directory
        self.version = version
    }

    /// `host:port`.
    public var address: String { server.address }
    /// The bound port.
    public var port: Int { server.port }

    func start(port: Int) async throws { try await server.start(port: port, processor: self) }
    func stop() async { await server.stop() }

    func supports(_ code: RequestCode) -> Bool {
        code == .getRouteInfoByTopic || code == .getBrokerClusterInfo || code == .getAllTopicListFromNameServer
    }

    func connectionClosed(_ connection: MockConnection) {}

    /// The route of `topic` over the live brokers, or nil when no live broker has it.
    public func route(for topic: String) -> TopicRouteData? {
        var queueDatas: [QueueData] = []
        var brokerDatas: [BrokerData] = []
        for broker in directory.live {
            guard let config = broker.topicConfig(topic) else { continue }
            queueDatas.append(QueueData(
                brokerName: broker.name, readQueueNums: config.readQueueNums, writeQueueNums: config.writeQueueNums,
                perm: config.perm.rawValue, topicSysFlag: config.topicSysFlag))
            brokerDatas.append(BrokerData(
                cluster: broker.configuration.clusterName, brokerName: broker.name, brokerAddrs: [0: broker.address]))
        }
        guard !queueDatas.isEmpty else { return nil }
        return TopicRouteData(queueDatas: queueDatas, brokerDatas: brokerDatas)
    }

    /// Every topic a live broker holds, sorted.
    public var allTopics: [String] {
        Set(directory.live.flatMap { $0.topics.map(\.name) }).sorted()
    }

    func process(_ request: RemotingCommand, from connection: MockConnection) -> ProcessResult {
        if request.requestCode == .getBrokerClusterInfo {
            return .respond(clusterInfo(request))
        }
        if request.requestCode == .getAllTopicListFromNameServer {
            // Java (enableAllTopicList, on by default): every topic the registered brokers hold.
            var r = reply(to: request, .success, nil)
            r.body = TopicList(topicList: allTopics).encodedBuffer()
            return .respond(r)
        }
        let header: GetRouteInfoRequestHeader
        do { header = try GetRouteInfoRequestHeader(fields: request.extFields ?? ExtFields()) } catch {
            return .respond(reply(to: request, .systemError, "\(error)"))
        }
        guard let route = route(for: header.topic) else {
            return .respond(reply(
                to: request, .topicNotExist,
                "No topic route info in name server for the topic: \(header.topic)\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details."))
        }
        // Java: standard JSON for clients >= V4_9_4 or when asked; the legacy unquoted-key form otherwise.
        let standard = request.version >= MQVersion.v4_9_4.rawValue || header.acceptStandardJsonOnly == true
        let body = standard ? route.encoded(format: .standard) : route.encoded(format: .legacy)
        var r = reply(to: request, .success, nil)
        r.body = ByteBuffer(bytes: body)
        return .respond(r)
    }

    private func clusterInfo(_ request: RemotingCommand) -> RemotingCommand {
        var brokerTable: [JSONValue.Member] = []
        var clusters: [String: [String]] = [:]
        for broker in directory.live {
            let data = BrokerData(cluster: broker.configuration.clusterName, brokerName: broker.name, brokerAddrs: [0: broker.address])
            brokerTable.append(.init(key: .string(broker.name), value: data.json))
            clusters[broker.configuration.clusterName, default: []].append(broker.name)
        }
        let json = JSONValue.object([
            "brokerAddrTable": .object(brokerTable),
            "clusterAddrTable": .object(orderedPairs: clusters.sorted { $0.key < $1.key }.map { ($0.key, .array($0.value.map { .string($0) })) }),
        ])
        var r = reply(to: request, .success, nil)
        r.body = ByteBuffer(bytes: JSONWriter.encode(json))
        return r
    }

    private func reply(to request: RemotingCommand, _ code: ResponseCode, _ remark: String?) -> RemotingCommand {
        var r = RemotingCommand.response(to: request, code: code, remark: remark, version: version)
        r.serializeType = .json
        return r
    }

    // MARK: faults

    /// Stop answering (requests are read and dropped) until resumed.
    public func pause(_ paused: Bool = true) { server.updateFaults { $0.paused = paused } }
    /// Delay every answer.
    public func setResponseDelay(_ delay: TimeAmount?) { server.updateFaults { $0.responseDelay = delay } }
    /// Close every client connection.
    public func dropConnections() { server.dropConnections() }
}
