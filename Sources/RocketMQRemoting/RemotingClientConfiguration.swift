import NIOSSL
import RocketMQWire

/// Settings of a ``RemotingClient``. The defaults are the Java client's (`NettyClientConfig`, `ClientConfig`).
public struct RemotingClientConfiguration: Sendable {
    /// How long a TCP connect may take (Java: `com.rocketmq.remoting.client.connect.timeout`, 3 s).
    public var connectTimeout: Duration = .seconds(3)
    /// A connection with no traffic in either direction for this long is closed and an IDLE event emitted
    /// (Java: `clientChannelMaxIdleTimeSeconds`, 120 s). `.zero` disables idle detection.
    public var idleTimeout: Duration = .seconds(120)
    /// The largest inbound frame accepted, length prefix included (Java: `frameMaxLength`, 16 MiB).
    /// A larger frame closes the connection.
    public var maxFrameLength: Int = RemotingFrame.defaultMaxFrameLength
    /// Reconnect backoff after connect failures and broken connections.
    public var reconnectBackoff: Backoff = Backoff()
    /// Capacity of the channel event queue (Java drops events beyond 10,000).
    public var eventQueueCapacity: Int = 10_000
    /// Whether a request answered GO_AWAY (1500) is retried once on a fresh connection
    /// (Java: `enableReconnectForGoAway`, true).
    public var retryOnGoAway: Bool = true
    /// TLS for every connection (`nil`: plaintext). Brokers in their default `permissive` TLS mode accept both.
    public var tls: TLSConfiguration?
    /// Whether a request timing out closes its connection when nothing at all arrived from the peer while it waited
    /// (at least 100 ms): pending requests on it fail with the retryable ``RemotingError/Kind/channelClosed`` and the
    /// next request reconnects at once. Java's client closes on any timeout (`clientCloseSocketIfTimeout`, true);
    /// without either, a peer that stopped answering, or a stream that lost its framing, times out every later
    /// request on the connection for good.
    public var closeOnTimeout: Bool = true
    /// The timeout used by callers that do not give one (Java: `mqClientApiTimeout`, 3 s).
    public var defaultRequestTimeout: Duration = .seconds(3)
    /// Outbound bytes buffered in one event-loop tick before they are handed to the channel without waiting for
    /// the end of the tick. Requests are always flushed once per tick.
    public var writeBatchBytes: Int = 64 * 1024

    /// Creates a configuration with the defaults.
    public init() {}

    /// Exponential reconnect backoff with jitter, capped.
    ///
    /// After `n` consecutive failures to one address the next connect waits
    /// `min(initial * multiplier^(n-1), maximum)`, spread by `±jitter` (a fraction of the delay).
    /// The Java client has no reconnect backoff (it reconnects lazily on the next request); these defaults keep
    /// a restarted broker reachable within about a second while bounding connect storms to a dead one.
    public struct Backoff: Sendable, Hashable {
        /// The delay after the first failure.
        public var initial: Duration = .milliseconds(100)
        /// The cap on the delay (before jitter).
        public var maximum: Duration = .seconds(1)
        /// Growth factor per consecutive failure.
        public var multiplier: Double = 2
        /// Random spread as a fraction of the delay, in `0...1` (0.2 means ±20 %).
        public var jitter: Double = 0.2

        /// Creates a backoff policy.
        public init(
            initial: Duration = .milliseconds(100), maximum: Duration = .seconds(1), multiplier: Double = 2,
            jitter: Double = 0.2
        ) {
            self.initial = initial
            self.maximum = maximum
            self.multiplier = multiplier
            self.jitter = jitter
        }

        /// The delay before the next connect after `failures` consecutive failures (0 means no delay).
        ///
        /// `jitterSample` is a random value in `-1...1`, scaled by ``jitter``; pass 0 for the unjittered delay.
        public func delay(afterFailures failures: Int, jitterSample: Double) -> Duration {
            guard failures > 0 else { return .zero }
            let initialNanos = Self.nanoseconds(initial)
            let maximumNanos = max(Self.nanoseconds(maximum), 0)
            var nanos = Double(max(initialNanos, 0))
            let growth = max(multiplier, 1)
            var step = 1
            while step < failures, nanos < Double(maximumNanos) {
                nanos *= growth
                step += 1
            }
            nanos = min(nanos, Double(maximumNanos))
            let spread = min(max(jitter, 0), 1) * min(max(jitterSample, -1), 1)
            nanos *= 1 + spread
            return .nanoseconds(Int64(nanos.rounded()))
        }

        static func nanoseconds(_ duration: Duration) -> Int64 {
            let (seconds, attoseconds) = duration.components
            let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
            if overflow { return seconds < 0 ? .min : .max }
            return whole.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating: one floating-point division, where `components` divides the
    /// 128-bit attosecond count (every request turns its timeout into a deadline).
    var wholeNanoseconds: Int64 {
        let nanoseconds = self / .nanoseconds(1)
        if nanoseconds >= 9.2e18 { return .max }
        if nanoseconds <= -9.2e18 { return .min }
        return Int64(nanoseconds)
    }
}
