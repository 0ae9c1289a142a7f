import Foundation
import NIOSSL
import RocketMQWire
import Tracing

/// Settings shared by every producer and consumer of one client instance. Defaults are Java's.
public struct ClientConfiguration: Sendable {
    /// Name servers as `host:port`; the client fails over between them.
    public var nameServers: [String]
    /// The instance name; `"DEFAULT"` becomes `<pid>#<nanotime>` so that each client instance has its own id.
    public var instanceName: String = "DEFAULT"
    /// The IP this client reports in its id (default: the first non-loopback IPv4 address, else 127.0.0.1).
    public var clientIP: String?
    /// Optional unit name appended to the client id.
    public var unitName: String?
    /// A namespace prefixed to topics and groups (`namespace%topic`), as Java's `withNamespace`.
    public var namespace: String?
    /// Timeout of route, heartbeat, unregister and consumer-list requests (`mqClientApiTimeout`, 3 s).
    public var requestTimeout: Duration = .seconds(3)
    /// Connect timeout (3 s).
    public var connectTimeout: Duration = .seconds(3)
    /// Heartbeat interval (`heartbeatBrokerInterval`, 30 s).
    public var heartbeatInterval: Duration = .seconds(30)
    /// Route refresh interval (`pollNameServerInterval`, 30 s).
    public var routeRefreshInterval: Duration = .seconds(30)
    /// A connection idle this long in both directions is closed (120 s).
    public var idleTimeout: Duration = .seconds(120)
    /// Reconnect to a draining broker's address once on GO_AWAY and retry there (`enableReconnectForGoAway`).
    public var reconnectOnGoAway = true
    /// ACL 1.0 credentials; every request is signed when set.
    public var credentials: SessionCredentials?
    /// The language code sent on the wire (see `RemotingCommand.defaultLanguage` for why `JAVA`).
    public var language: LanguageCode = RemotingCommand.defaultLanguage
    /// TLS for every connection (name servers and brokers); `nil` is plaintext. Build it with swift-nio-ssl, e.g.
    /// `TLSConfiguration.makeClientConfiguration()` with your trust roots.
    public var tls: TLSConfiguration?
    /// How often a broker that went away is probed while it is still in the routes.
    public var brokerProbeInterval: Duration = .seconds(1)
    /// How often the routes are refreshed while a broker that left them may come back (for two minutes after it left):
    /// a restarted broker registers with the name server first, so every member of a group sees it back, re-registers
    /// and rebalances within this interval of each other instead of acting on different routes.
    public var brokerReturnWatchInterval: Duration = .milliseconds(250)
    /// The swift-distributed-tracing tracer of this client's producer and consumer spans; `nil` (the default) uses the
    /// one bootstrapped with `InstrumentationSystem.bootstrap` when the client is created. With the no-op tracer (none
    /// bootstrapped) no span is made and nothing is injected into messages.
    public var tracer: (any Tracer)?

    /// Creates a configuration for the given name servers (`"127.0.0.1:9876"`, or `"a:9876;b:9876"` as Java accepts).
    public init(nameServers: [String]) {
        self.nameServers = nameServers.flatMap { $0.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty }
    }

    /// Creates a configuration for one name server.
    public init(nameServer: String) { self.init(nameServers: [nameServer]) }

    /// Validates the settings.
    func validate() throws {
        guard !nameServers.isEmpty else { throw RocketMQError(.invalidArgument, "no name server address configured") }
        for address in nameServers {
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
                (1...65535).contains(port), colon != address.startIndex
            else { throw RocketMQError(.invalidArgument, "name server address \(address.debugDescription) is not host:port") }
        }
        guard requestTimeout > .zero, connectTimeout > .zero, heartbeatInterval > .zero, routeRefreshInterval > .zero,
            brokerProbeInterval > .zero, brokerReturnWatchInterval > .zero
        else {
            throw RocketMQError(.invalidArgument, "timeouts and intervals must be positive")
        }
    }

    /// The client id: `ip@instance[@unit]`, with `DEFAULT` instance replaced by `pid#nanotime` (unique per instance).
    func makeClientID() -> String {
        let ip = clientIP ?? Self.localIPv4() ?? "127.0.0.1"
        var instance = instanceName
        if instance == "DEFAULT" {
            instance = "\(ProcessInfo.processInfo.processIdentifier)#\(DispatchTime.now().uptimeNanoseconds)"
        }
        var id = "\(ip)@\(instance)"
        if let unitName, !unitName.isEmpty { id += "@\(unitName)" }
        return id
    }

    /// Java's system topics (`TopicValidator`'s set; `rmq_sys_*` and `CID_RMQ_SYS_*` groups are matched by prefix).
    static let systemTopics: Set<String> = [
        "TBW102", "SCHEDULE_TOPIC_XXXX", "BenchmarkTest", "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRACE_TOPIC",
        "RMQ_SYS_TRANS_OP_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC", "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT", "CHECKPOINT_TOPIC",
    ]

    /// Wraps a resource (topic or group) in the namespace, as Java's `NamespaceUtil.wrapNamespace`: system topics and
    /// system groups stay as they are.
    func wrap(_ resource: String) -> String {
        guard let namespace, !namespace.isEmpty, !resource.isEmpty else { return resource }
        if Self.systemTopics.contains(resource) || resource.hasPrefix("rmq_sys_") || resource.hasPrefix("CID_RMQ_SYS_") {
            return resource
        }
        for prefix in ["%RETRY%", "%DLQ%"] where resource.hasPrefix(prefix) {
            let rest = resource.dropFirst(prefix.count)
            return rest.hasPrefix("\(namespace)%") ? resource : "\(prefix)\(namespace)%\(rest)"
        }
        return resource.hasPrefix("\(namespace)%") ? resource : "\(namespace)%\(resource)"
    }

    /// Strips the namespace from a resource name.
    func unwrap(_ resource: String) -> String {
        guard let namespace, !namespace.isEmpty else { return resource }
        for prefix in ["%RETRY%", "%DLQ%"] where resource.hasPrefix(prefix + namespace + "%") {
            return prefix + resource.dropFirst(prefix.count + namespace.count + 1)
        }
        return resource.hasPrefix(namespace + "%") ? String(resource.dropFirst(namespace.count + 1)) : resource
    }

    /// The first non-loopback IPv4 address of this host.
    static func localIPv4() -> String? {
        var addresses: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&addresses) == 0, let first = addresses else { return nil }
        defer { freeifaddrs(addresses) }
        var result: String?
        for pointer in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let addr = pointer.pointee.ifa_addr, addr.pointee.sa_family == UInt8(AF_INET) else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(addr, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0
            else { continue }
            let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("127.") { continue }
            result = text
            break
        }
        return result
    }
}
