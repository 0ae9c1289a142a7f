import Logging
import NIOCore
import NIOPosix
import RocketMQRemoting
import RocketMQWire
import Synchronization
import Tracing

/// What a consumer contributes to heartbeats and how the core wakes its rebalance.
struct ConsumerRegistration: Sendable {
    /// The group's current heartbeat entry (subscriptions change at run time).
    var data: @Sendable () -> ConsumerData
    /// Called when a rebalance should run at once (ACTIVE, GO_AWAY, NOTIFY_CONSUMER_IDS_CHANGED).
    var rebalanceNow: @Sendable () -> Void
}

/// The shared core of one client id (Java's `MQClientInstance`): connections, name-server failover, the topic route
/// table, the **broker address table**, heartbeats to every broker, and reactions to channel events.
///
/// - On a channel **ACTIVE** event for an address in the broker address table it heartbeats that broker at once and,
///   if that succeeds, asks every consumer to rebalance.
/// - On **GO_AWAY** (and when an address is found draining) it routes producers around that broker, refreshes
///   routes and asks consumers to rebalance.
/// - A broker that left the routes is probed for a while; when it answers again it is re-registered at once.
final class ClientCore: Sendable {
    let configuration: ClientConfiguration
    /// Whether names are namespaced (the configuration is a large struct: reading it per message copies it).
    private let hasNamespace: Bool
    let clientID: String
    let remoting: RemotingClient
    let logger: Logger
    /// Reactions to events (re-register, reconnect, refresh after GO_AWAY) and the owners' background work: child
    /// tasks of ``run()``.
    let tasks = BackgroundTasks()
    /// The tracer of this client's spans: the configured one, else the one bootstrapped when the client was created.
    let tracer: any Tracer
    /// Whether a tracer is bootstrapped (checked once: a dynamic type check per message costs as much as a hash).
    let isTracing: Bool
    private let state: Mutex<State>

    struct State {
        var routes: [String: TopicRouteInfo] = [:]
        var brokerAddresses: [String: [Int64: String]] = [:]
        var producerGroups: Set<String> = []
        var consumers: [String: ConsumerRegistration] = [:]
        var topics: Set<String> = []
        var faults = LatencyFaultTolerance()
        var nameServerIndex = Int.random(in: 0..<999)
        var brokerVersions: [String: Int32] = [:]
        /// Addresses of brokers that left the routes recently, probed until this time (ms).
        var probing: [String: (brokerName: String, until: Int64)] = [:]
        /// Heartbeats under way, by address.
        var heartbeats = SharedCalls<Bool>()
        /// Route requests under way, by topic.
        var routeFetches = SharedCalls<Result<TopicRouteInfo?, any Error>>()
        /// Connections that became active and have not closed yet.
        var activeConnections: Set<UInt64> = []
        var running = false
        var stopped = false
        var rebalances = 0
        var goAways = 0
        var reconnects = 0
        var everConnected: Set<String> = []
    }

    init(configuration: ClientConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger) throws {
        try configuration.validate()
        self.configuration = configuration
        self.hasNamespace = !(configuration.namespace ?? "").isEmpty
        self.clientID = configuration.makeClientID()
        var logger = logger
        logger[metadataKey: "rocketmq.client"] = "\(clientID)"
        self.logger = logger
        var remotingConfig = RemotingClientConfiguration()
        remotingConfig.connectTimeout = configuration.connectTimeout
        remotingConfig.idleTimeout = configuration.idleTimeout
        remotingConfig.retryOnGoAway = configuration.reconnectOnGoAway
        remotingConfig.defaultRequestTimeout = configuration.requestTimeout
        remotingConfig.tls = configuration.tls
        self.remoting = RemotingClient(configuration: remotingConfig, eventLoopGroup: eventLoopGroup, logger: logger)
        self.state = Mutex(State())
        self.tracer = configuration.tracer ?? InstrumentationSystem.tracer
        self.isTracing = !(tracer is NoOpTracer)
    }

    /// `resource` in the namespace (`configuration.wrap`); as it is without one, not copying the configuration.
    func wrap(_ resource: String) -> String { hasNamespace ? configuration.wrap(resource) : resource }
    /// `resource` without the namespace (`configuration.unwrap`).
    func unwrap(_ resource: String) -> String { hasNamespace ? configuration.unwrap(resource) : resource }

    static func nowMillis() -> Int64 {
        Int64(wallClockNanoseconds() / 1_000_000)
    }

    // MARK: registration

    func registerProducer(group: String) { _ = state.withLock { $0.producerGroups.insert(group) } }
    func unregisterProducer(group: String) { _ = state.withLock { $0.producerGroups.remove(group) } }
    func registerConsumer(group: String, _ registration: ConsumerRegistration) {
        state.withLock { $0.consumers[group] = registration }
    }
    func unregisterConsumer(group: String) { _ = state.withLock { $0.consumers.removeValue(forKey: group) } }
    func addTopic(_ topic: String) { _ = state.withLock { $0.topics.insert(topic) } }

    /// Statistics for logs and summaries.
    var counters: (rebalanceRequests: Int, goAways: Int, reconnects: Int) {
        state.withLock { ($0.rebalances, $0.goAways, $0.reconnects) }
    }

    // MARK: requests

    /// Sends a request (signed when credentials are configured) to `address`.
    func invoke(_ request: RemotingCommand, address: String, timeout: Duration) async throws -> RemotingCommand {
        var request = request
        prepare(&request)
        do {
            return try await remoting.invoke(request, address: address, timeout: timeout)
        } catch let error as RemotingError {
            if case .draining = error.kind { markDraining(address: address) }
            if case .goAway = error.kind { markDraining(address: address) }
            throw error
        }
    }

    /// Sends a oneway request.
    func invokeOneway(_ request: RemotingCommand, address: String, timeout: Duration) async throws {
        var request = request
        prepare(&request)
        try await remoting.invokeOneway(request, address: address, timeout: timeout)
    }

    private func prepare(_ request: inout RemotingCommand) {
        request.language = configuration.language
        request.version = RemotingCommand.defaultVersion
        if let credentials = configuration.credentials {
            ACLSigner.sign(&request, credentials: credentials)
        }
    }

    /// Sends to the name servers, starting with the current one and failing over on transport errors.
    func invokeNameServer(_ request: RemotingCommand) async throws -> RemotingCommand {
        let servers = configuration.nameServers
        let start = state.withLock { $0.nameServerIndex }
        var lastError: Error?
        for i in 0..<servers.count {
            let index = (start + i) % servers.count
            do {
                let response = try await invoke(request, address: servers[index], timeout: configuration.requestTimeout)
                if i > 0 { state.withLock { $0.nameServerIndex = index } }
                return response
            } catch let error as RemotingError where error.isRetryable {
                lastError = error
                continue
            }
        }
        throw lastError ?? RemotingError(.connectFailed, "no name server reachable")
    }

    // MARK: routes and the broker address table

    /// Refreshes `topic`'s route and the broker address table; returns the new route info (nil: no such topic).
    @discardableResult
    func updateRoute(_ topic: String) async throws -> TopicRouteInfo? {
        guard let route = try await fetchRoute(topic) else {
            state.withLock { _ = $0.routes.removeValue(forKey: topic) }
            return nil
        }
        let info = TopicRouteInfo(topic: topic, route: route)
        let (revived, added) = state.withLock { s -> ([String], [String]) in
            s.routes[topic] = info
            let known = Set(s.brokerAddresses.values.flatMap(\.values))
            var revived: [String] = []
            var added: [String] = []
            for broker in route.brokerDatas {
                s.brokerAddresses[broker.brokerName, default: [:]].merge(broker.brokerAddrs) { _, new in new }
                for (id, address) in broker.brokerAddrs {
                    if s.probing.removeValue(forKey: address) != nil {
                        revived.append(address)
                    } else if !known.contains(address) && (id == 0 || !s.consumers.isEmpty) {
                        added.append(address)
                    }
                }
            }
            return (revived, added)
        }
        // A broker new to the address table learns this client's groups now, not at the next periodic heartbeat.
        for address in added {
            tasks.spawn { await self.heartbeat(address: address) }
        }
        if !revived.isEmpty {
            logger.info("brokers are back in the routes", metadata: ["addresses": "\(revived)"])
            // Back before a probe reached it: re-register now (a restarted broker has forgotten us, and group
            // members asking it who is in the group must find us), then rebalance.
            for address in revived {
                // The name server says it is back: connect now rather than after the backoff its downtime built up.
                remoting.resetReconnectBackoff(address: address)
                tasks.spawn { await self.reRegister(address: address, reason: "broker back in the routes", attempts: 10) }
            }
        }
        cleanOfflineBrokers()
        return info
    }

    /// The cached route info of `topic`, fetching it when unknown.
    func routeInfo(_ topic: String) async throws -> TopicRouteInfo? {
        if let cached = state.withLock({ $0.routes[topic] }) { return cached }
        addTopic(topic)
        // Sends that find no route share one request (Java serialises them behind its name-server lock).
        let outcome = await sharing(topic, in: \.routeFetches, ended: .success(cachedRoute(topic))) {
            do { return .success(try await updateRoute(topic)) } catch { return .failure(error) }
        }
        // The caller that fetched was cancelled: that is not this caller's outcome.
        if case .failure(let error) = outcome, error is CancellationError, !Task.isCancelled {
            return try await updateRoute(topic)
        }
        return try outcome.get()
    }

    func cachedRoute(_ topic: String) -> TopicRouteInfo? { state.withLock { $0.routes[topic] } }

    /// The master address of `brokerName`.
    func masterAddress(_ brokerName: String) -> String? {
        state.withLock { $0.brokerAddresses[brokerName]?[0] }
    }

    /// Any address of `brokerName`, preferring `brokerID`.
    func address(of brokerName: String, preferring brokerID: Int64 = 0) -> String? {
        state.withLock { s in
            guard let addrs = s.brokerAddresses[brokerName] else { return nil }
            return addrs[brokerID] ?? addrs[0] ?? addrs.values.first
        }
    }

    /// The broker name of an address in the table.
    func brokerName(of address: String) -> String? {
        state.withLock { s in
            for (name, addrs) in s.brokerAddresses where addrs.values.contains(address) { return name }
            return s.probing[address]?.brokerName
        }
    }

    /// Removes brokers that are in no cached route any more (Java's `cleanOfflineBroker`); keeps probing them.
    func cleanOfflineBrokers() {
        let now = Self.nowMillis()
        state.withLock { s in
            var live: Set<String> = []
            for info in s.routes.values {
                for b in info.route.brokerDatas { live.formUnion(b.brokerAddrs.values) }
            }
            for (name, addrs) in s.brokerAddresses {
                var kept = addrs
                for (id, address) in addrs where !live.contains(address) {
                    kept[id] = nil
                    s.probing[address] = (name, now + 120_000)
                }
                s.brokerAddresses[name] = kept.isEmpty ? nil : kept
            }
            s.probing = s.probing.filter { $0.value.until > now }
        }
    }

    // MARK: fault tolerance and draining

    func isBrokerAvailable(_ brokerName: String) -> Bool {
        let now = Self.nowMillis()
        let (available, address) = state.withLock { ($0.faults.isAvailable(brokerName, now: now), $0.brokerAddresses[brokerName]?[0]) }
        guard available else { return false }
        if let address, remoting.isDraining(address: address) { return false }
        return true
    }

    func recordSend(broker: String, latencyMillis: Int64, failed: Bool) {
        let now = Self.nowMillis()
        state.withLock { $0.faults.update(broker: broker, latencyMillis: latencyMillis, isolation: failed, now: now) }
    }

    /// GO_AWAY from `address`: avoid its broker, refresh routes, rebalance.
    func markDraining(address: String) {
        let now = Self.nowMillis()
        let name = brokerName(of: address)
        state.withLock { s in
            s.goAways += 1
            if let name { s.faults.avoid(broker: name, forMillis: 30_000, now: now) }
        }
    }

    // MARK: heartbeats

    func heartbeatData() -> HeartbeatData {
        let (producers, consumers) = state.withLock { ($0.producerGroups, Array($0.consumers.values)) }
        var producerData = producers.sorted().map { ProducerData(groupName: $0) }
        producerData.append(ProducerData(groupName: "CLIENT_INNER_PRODUCER"))
        return HeartbeatData(
            clientID: clientID, producerDataSet: producerData, consumerDataSet: consumers.map { $0.data() })
    }

    /// Heartbeats one broker address; true when it answered SUCCESS. Concurrent calls for one address share one
    /// request (so an ACTIVE event during a periodic heartbeat still learns the outcome).
    @discardableResult
    func heartbeat(address: String, data: HeartbeatData? = nil) async -> Bool {
        await sharing(address, in: \.heartbeats, ended: false) {
            await sendHeartbeat(address: address, data: data ?? heartbeatData())
        }
    }

    /// Runs `call` for `key` unless one is in flight (then waits for its outcome); `fallback` stands in for the
    /// outcome of a call that ended between the two checks without leaving one.
    private func sharing<Outcome: Sendable>(
        _ key: String, in calls: WritableKeyPath<State, SharedCalls<Outcome>>, ended fallback: Outcome,
        _ call: () async -> Outcome
    ) async -> Outcome {
        guard state.withLock({ $0[keyPath: calls].begin(key) }) else {
            return await withCheckedContinuation { (waiter: CheckedContinuation<Outcome, Never>) in
                if let ended = state.withLock({ $0[keyPath: calls].join(key, waiter) }) {
                    waiter.resume(returning: ended ?? fallback)
                }
            }
        }
        let outcome = await call()
        for waiter in state.withLock({ $0[keyPath: calls].end(key, outcome) }) { waiter.resume(returning: outcome) }
        return outcome
    }

    private func sendHeartbeat(address: String, data: HeartbeatData) async -> Bool {
        let request = RemotingCommand.request(.heartBeat, extFields: ExtFields(), body: data.encodedBuffer())
        do {
            let response = try await invoke(request, address: address, timeout: configuration.requestTimeout)
            guard response.responseCode == .success else {
                logger.warning("heartbeat refused", metadata: ["broker": "\(address)", "code": "\(response.responseCode)", "remark": "\(response.remark ?? "")"])
                return false
            }
            // It answered normally: it is alive and not draining, so producers may use it again.
            let name = brokerName(of: address)
            state.withLock { s in
                s.brokerVersions[address] = response.version
                if let name { s.faults.clear(broker: name) }
            }
            return true
        } catch {
            logger.debug("heartbeat failed", metadata: ["broker": "\(address)", "error": "\(error)"])
            return false
        }
    }

    /// Heartbeats every broker in the address table (every broker id when there are consumers, masters otherwise).
    func heartbeatAll() async {
        let targets = state.withLock { s -> [String] in
            let all = !s.consumers.isEmpty
            var out: [String] = []
            for addrs in s.brokerAddresses.values {
                for (id, address) in addrs where all || id == 0 { out.append(address) }
            }
            return out
        }
        let data = heartbeatData()
        await withTaskGroup(of: Void.self) { group in
            for address in targets where !remoting.isDraining(address: address) {
                group.addTask { await self.heartbeat(address: address, data: data) }
            }
        }
    }

    /// Asks every consumer of this client to rebalance now.
    func requestRebalance(reason: String) {
        let consumers = state.withLock { s -> [ConsumerRegistration] in
            s.rebalances += 1
            return Array(s.consumers.values)
        }
        guard !consumers.isEmpty else { return }
        logger.debug("rebalance requested", metadata: ["reason": "\(reason)"])
        for c in consumers { c.rebalanceNow() }
    }

    // MARK: background work

    /// Runs route refresh, heartbeats, channel events and broker probing until cancelled.
    func run() async {
        state.withLock { $0.running = true }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.tasks.run() }
            group.addTask { await self.remoting.run() }
            group.addTask { await self.handleEvents() }
            group.addTask {
                await self.every(self.configuration.routeRefreshInterval, initialDelay: .milliseconds(10)) {
                    await self.refreshAllRoutes()
                }
            }
            group.addTask {
                await self.every(self.configuration.heartbeatInterval, initialDelay: .seconds(1)) {
                    self.cleanOfflineBrokers()
                    await self.heartbeatAll()
                }
            }
            group.addTask {
                await self.every(self.configuration.brokerProbeInterval, initialDelay: self.configuration.brokerProbeInterval) {
                    await self.probeGoneBrokers()
                }
            }
            group.addTask {
                await self.every(self.configuration.brokerReturnWatchInterval, initialDelay: self.configuration.brokerReturnWatchInterval) {
                    await self.watchForReturningBrokers()
                }
            }
            // Cancelling run() cancels these children: the timers' sleeps throw, the event iteration and the background
            // tasks end.
        }
        state.withLock { $0.running = false }
    }

    /// Calls `body` every `interval` until the task is cancelled.
    static func tick(every interval: Duration, _ body: @Sendable () -> Void) async {
        while true {
            do { try await Task.sleep(for: interval) } catch { return }
            body()
        }
    }

    private func every(_ interval: Duration, initialDelay: Duration, _ body: @Sendable () async -> Void) async {
        do {
            try await Task.sleep(for: initialDelay)
            while !Task.isCancelled {
                await body()
                try await Task.sleep(for: interval)
            }
        } catch {}
    }

    /// Refreshes every known topic's route; returns whether any cached route changed.
    @discardableResult
    func refreshAllRoutes() async -> Bool {
        let (topics, before) = state.withLock { ($0.topics, $0.routes.mapValues(\.route)) }
        for topic in topics {
            do { try await updateRoute(topic) } catch {
                logger.debug("route refresh failed", metadata: ["topic": "\(topic)", "error": "\(error)"])
            }
        }
        return state.withLock { $0.routes.mapValues(\.route) } != before
    }

    private func handleEvents() async {
        for await event in remoting.events {
            switch event.kind {
            case .active:
                state.withLock { s in
                    if !s.everConnected.insert(event.address).inserted { s.reconnects += 1 }
                }
                let known = state.withLock { s -> Bool in
                    s.activeConnections.insert(event.connectionID)
                    return s.brokerAddresses.values.contains { $0.values.contains(event.address) } || s.probing[event.address] != nil
                }
                guard known else { continue }
                // A (re)connected broker may have forgotten us: re-register at once, then rebalance.
                tasks.spawn { await self.reRegister(address: event.address, reason: "channel active") }
            case .goAway, .draining:
                markDraining(address: event.address)
                logger.info("broker is draining (GO_AWAY)", metadata: ["broker": "\(event.address)"])
                tasks.spawn {
                    await self.refreshAllRoutes()
                    self.requestRebalance(reason: "GO_AWAY from \(event.address)")
                }
            case .drainingEnded:
                if let name = brokerName(of: event.address) { state.withLock { $0.faults.clear(broker: name) } }
            case .close:
                // A broker's connection closed: it may have left (drained or killed) without a GO_AWAY reaching
                // this client, e.g. when all we had there were long polls it held. Refresh the routes now and
                // rebalance if one changed, instead of owning (or missing) its queues until the periodic refresh.
                let (known, consuming) = state.withLock { s in
                    // Established connections only: a failed connect attempt reports a close too.
                    (s.activeConnections.remove(event.connectionID) != nil && !s.stopped
                        && s.brokerAddresses.values.contains { $0.values.contains(event.address) },
                     !s.consumers.isEmpty)
                }
                guard known else { continue }
                tasks.spawn {
                    if await self.refreshAllRoutes() { self.requestRebalance(reason: "connection to \(event.address) closed") }
                }
                // A broker drops a closed channel's consumers from their groups and tells the other members, which
                // then take this member's queues. When the peer or the network ended the connection and the broker
                // is not leaving (draining), reconnect and re-register now rather than at the next pull, so the group
                // sees this member again before the others act on its absence (the ACTIVE event then rebalances). A
                // broker that is gone just refuses the connect. Not after closes this client chose (a request timed
                // out on a stalled broker, idle): re-registering there would only stall again.
                guard consuming, event.closedByPeer, !remoting.isDraining(address: event.address) else { continue }
                tasks.spawn { await self.reconnect(address: event.address) }
            case .connect, .idle, .exception:
                continue
            }
        }
    }

    /// Reconnects to a broker whose connection dropped by heartbeating it, retrying every 150 ms (for about a
    /// second) while the reconnect backoff refuses or the connect fails; the ACTIVE event of the new connection then
    /// rebalances. Stops early when the client stops or the address leaves the table or starts draining.
    private func reconnect(address: String) async {
        for attempt in 0..<8 {
            if attempt > 0 {
                do { try await Task.sleep(for: .milliseconds(150)) } catch { return }
            }
            let wanted = state.withLock { s in !s.stopped && s.brokerAddresses.values.contains { $0.values.contains(address) } }
            guard wanted, !remoting.isDraining(address: address) else { return }
            if await heartbeat(address: address) { return }
        }
    }

    /// A (re)connected or recovered broker: heartbeat it at once and, if that succeeds, bring it back into the routes
    /// (when it had left them) and rebalance. With `attempts` > 1 a failed heartbeat (say, refused by the reconnect
    /// backoff left from the broker's downtime) is retried every 200 ms.
    func reRegister(address: String, reason: String, attempts: Int = 1) async {
        var ok = false
        for attempt in 0..<max(attempts, 1) {
            if attempt > 0 {
                do { try await Task.sleep(for: .milliseconds(200)) } catch { return }
            }
            if isStopped { return }
            ok = await heartbeat(address: address)
            if ok { break }
        }
        guard ok else { return }
        let wasProbing = state.withLock { $0.probing[address] != nil }
        if wasProbing { await refreshUntilBack(address: address) }
        requestRebalance(reason: "\(reason) \(address)")
    }

    /// After a gone broker reconnects: refresh routes (briefly retrying) until it is back in them.
    private func refreshUntilBack(address: String) async {
        for _ in 0..<10 {
            await refreshAllRoutes()
            let back = state.withLock { s in s.brokerAddresses.values.contains { $0.values.contains(address) } }
            if back { return }
            try? await Task.sleep(for: .milliseconds(300))
        }
    }

    /// Probes brokers that left the routes: a heartbeat that connects triggers ACTIVE, which re-registers us.
    private func probeGoneBrokers() async {
        let now = Self.nowMillis()
        let targets = state.withLock { s -> [String] in
            s.probing = s.probing.filter { $0.value.until > now }
            return Array(s.probing.keys)
        }
        // Draining addresses included: once the old connection is gone, a probe opens a fresh one, and a normal
        // answer there means the broker restarted.
        await withTaskGroup(of: Void.self) { group in
            for address in targets {
                group.addTask { await self.reRegister(address: address, reason: "broker back") }
            }
        }
    }

    /// While a broker that left the routes may come back (it is being probed), refreshes the routes often: a restarted
    /// broker registers with the name server first, and every member of a group learning that within one interval
    /// keeps them from acting on different routes (queues unowned or owned twice). ``updateRoute(_:)`` re-registers
    /// with a broker that is back and rebalances.
    private func watchForReturningBrokers() async {
        let now = Self.nowMillis()
        let watching = state.withLock { s in s.probing.contains { $0.value.until > now } }
        guard watching else { return }
        await refreshAllRoutes()
    }

    /// Sends UNREGISTER_CLIENT for `producerGroup` / `consumerGroup` to every known broker.
    func unregister(producerGroup: String?, consumerGroup: String?) async {
        let addresses = state.withLock { s in s.brokerAddresses.values.flatMap { $0.values } }
        let header = UnregisterClientRequestHeader(clientID: clientID, producerGroup: producerGroup, consumerGroup: consumerGroup)
        await withTaskGroup(of: Void.self) { group in
            for address in addresses where !remoting.isDraining(address: address) {
                group.addTask {
                    let request = RemotingCommand.request(.unregisterClient, extFields: header.fields)
                    _ = try? await self.invoke(request, address: address, timeout: self.configuration.requestTimeout)
                }
            }
        }
    }

    /// Closes every connection and ends the background tasks (``run()`` cancels and awaits those still running).
    func shutdown() async {
        state.withLock { $0.stopped = true }
        tasks.finish()
        await remoting.shutdown()
    }

    var isStopped: Bool { state.withLock { $0.stopped } }


    /// Whether ``run()`` is running (pushed requests are processed) and the client has not shut down.
    var isRunning: Bool { state.withLock { $0.running && !$0.stopped } }
}

/// Wall-clock milliseconds (send timestamps, fault-tolerance windows).
@inline(__always)
func wallClockNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
