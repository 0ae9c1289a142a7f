// Read-only views of client internals for fault tests and the reliability suite. Not public API: import with
// `@_spi(Diagnostics) import RocketMQ`.

@_spi(Diagnostics)
extension Producer {
    /// Requests awaiting a response on this producer's connections (sends in flight, heartbeats, route look-ups).
    public var pendingRequestCount: Int { core.remoting.pendingRequestCount }

    /// Background jobs of this client queued or running (reactions, pull loops, retries): 0 once ``run()`` returned.
    public var backgroundTaskCount: Int { core.tasks.count }
}

@_spi(Diagnostics)
extension PushConsumer {
    /// Requests awaiting a response on this consumer's connections (held long-polling pulls included).
    public var pendingRequestCount: Int { core.remoting.pendingRequestCount }

    /// Rebalance rounds run so far (whether or not they changed anything), and the longest one.
    public var rebalanceRounds: (count: Int, longest: Duration) {
        state.withLock { ($0.rebalanceRounds, $0.longestRebalanceRound) }
    }

    /// Connections re-established to an address this consumer had been connected to before.
    public var reconnectCount: Int { core.counters.reconnects }

    /// Background jobs of this client queued or running (reactions, pull loops, retries): 0 once ``run()`` returned.
    public var backgroundTaskCount: Int { core.tasks.count }
}

@_spi(Diagnostics)
extension LitePullConsumer {
    /// Requests awaiting a response on this consumer's connections (held long-polling pulls included).
    public var pendingRequestCount: Int { core.remoting.pendingRequestCount }

    /// Background jobs of this client queued or running (reactions, pull loops, retries): 0 once ``run()`` returned.
    public var backgroundTaskCount: Int { core.tasks.count }
}
