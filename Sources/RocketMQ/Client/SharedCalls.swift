/// At most one call in flight per key; callers that ask while it runs wait for it and share its outcome (a thousand
/// sends to a topic whose route is not cached yet make one name-server request, not a thousand).
struct SharedCalls<Outcome: Sendable> {
    private var waiting: [String: [CheckedContinuation<Outcome, Never>]] = [:]
    /// The outcome of the last call per key, for a caller that arrived just as it ended.
    private(set) var last: [String: Outcome] = [:]

    /// Whether the caller leads a new call for `key` (none is in flight).
    mutating func begin(_ key: String) -> Bool {
        guard waiting[key] == nil else { return false }
        waiting[key] = []
        return true
    }

    /// Queues `waiter` behind the call in flight for `key`; returns the last outcome instead when it has ended.
    mutating func join(_ key: String, _ waiter: CheckedContinuation<Outcome, Never>) -> Outcome?? {
        guard waiting[key] != nil else { return .some(last[key]) }
        waiting[key]?.append(waiter)
        return .none
    }

    /// Ends the call for `key` with `outcome`; returns the callers to resume with it.
    mutating func end(_ key: String, _ outcome: Outcome) -> [CheckedContinuation<Outcome, Never>] {
        last[key] = outcome
        return waiting.removeValue(forKey: key) ?? []
    }
}
