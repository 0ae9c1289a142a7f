/// Which brokers to avoid for a while after slow or failed sends (Java's `MQFaultStrategy` with 5.3's tables),
/// and brokers marked draining by GO_AWAY.
///
/// A plain value: the owner keeps it under its own lock.
struct LatencyFaultTolerance: Sendable {
    /// Latency thresholds (ms) and the time a broker is avoided when a send took at least that long.
    static let latencyMax: [Int64] = [50, 100, 550, 1800, 3000, 5000, 15000]
    static let notAvailableDuration: [Int64] = [0, 0, 2000, 5000, 6000, 10000, 30000]
    /// A failed send counts as this latency (5.3: 10 s → avoided for 10 s... tables give 30 s past 15 s).
    static let isolationLatency: Int64 = 10_000

    private var unavailableUntil: [String: Int64] = [:]

    /// Records the outcome of a send to `broker` that took `latencyMillis` (or failed, `isolation`).
    mutating func update(broker: String, latencyMillis: Int64, isolation: Bool, now: Int64) {
        let latency = isolation ? Self.isolationLatency : latencyMillis
        var duration: Int64 = 0
        for (i, threshold) in Self.latencyMax.enumerated().reversed() where latency >= threshold {
            duration = Self.notAvailableDuration[i]
            break
        }
        if duration > 0 {
            unavailableUntil[broker] = max(unavailableUntil[broker] ?? 0, now + duration)
        } else if !unavailableUntil.isEmpty {  // (nothing to forget, no hash to compute: the usual case)
            unavailableUntil[broker] = nil
        }
    }

    /// Avoid `broker` for `millis` (e.g. after GO_AWAY).
    mutating func avoid(broker: String, forMillis millis: Int64, now: Int64) {
        unavailableUntil[broker] = max(unavailableUntil[broker] ?? 0, now + millis)
    }

    /// Forget about `broker` (it answered normally again).
    mutating func clear(broker: String) { unavailableUntil[broker] = nil }

    /// Whether `broker` may take traffic now.
    func isAvailable(_ broker: String, now: Int64) -> Bool {
        guard !unavailableUntil.isEmpty, let until = unavailableUntil[broker] else { return true }
        return now >= until
    }
}
