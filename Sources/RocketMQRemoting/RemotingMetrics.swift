import Atomics
import CoreMetrics

/// The remoting layer's swift-metrics instruments, shared by all connections of one client.
final class RemotingMetrics: Sendable {
    /// Requests awaiting a response, across all connections of the client.
    let pendingGauge: Gauge
    /// Requests sent (oneway included).
    let requests: Counter
    /// Requests failed by their deadline.
    let timeouts: Counter
    /// Connect attempts to an address that had a connection before.
    let reconnects: Counter
    /// GO_AWAY responses received.
    let goAways: Counter
    /// Time from writing a request to its response.
    let latency: CoreMetrics.Timer

    private let pending = ManagedAtomic<Int>(0)

    init(dimensions: [(String, String)] = []) {
        pendingGauge = Gauge(label: "rocketmq_remoting_pending_requests", dimensions: dimensions)
        requests = Counter(label: "rocketmq_remoting_requests_total", dimensions: dimensions)
        timeouts = Counter(label: "rocketmq_remoting_timeouts_total", dimensions: dimensions)
        reconnects = Counter(label: "rocketmq_remoting_reconnects_total", dimensions: dimensions)
        goAways = Counter(label: "rocketmq_remoting_go_aways_total", dimensions: dimensions)
        latency = CoreMetrics.Timer(label: "rocketmq_remoting_request_duration", dimensions: dimensions)
    }

    /// Requests awaiting a response right now.
    var pendingCount: Int { pending.load(ordering: .relaxed) }

    func requestRegistered() {
        let now = pending.wrappingIncrementThenLoad(ordering: .relaxed)
        pendingGauge.record(now)
    }

    func requestsCompleted(_ count: Int = 1) {
        guard count > 0 else { return }
        let now = pending.wrappingDecrementThenLoad(by: count, ordering: .relaxed)
        pendingGauge.record(now)
    }
}
