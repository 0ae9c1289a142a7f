import RocketMQWire

/// A typed failure of the remoting layer: connecting, waiting for a response, or a connection that died.
///
/// Every error names the peer's `address` (`"host:port"`) and, when a request was involved, its `opaque`.
/// ``isRetryable`` tells the client core whether trying again (possibly on another broker) may help.
public struct RemotingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Hashable, Sendable, CustomStringConvertible {
        /// The TCP connection could not be established (refused, unreachable, connect timeout).
        case connectFailed
        /// A connect to this address failed (or its connection broke) recently; the next attempt waits out the
        /// reconnect backoff. Callers fail fast with this error instead of waiting.
        case reconnectBackoff
        /// The request's deadline passed without a response.
        case timeout
        /// The connection closed (by the peer, an I/O error or idleness) before the response arrived.
        case channelClosed
        /// The peer answered GO_AWAY (1500) and the request could not be retried on a fresh connection
        /// (a second GO_AWAY, or GO_AWAY retry disabled).
        case goAway
        /// The address is draining after a second GO_AWAY: nothing is sent to it until a later connection to it
        /// answers normally.
        case draining
        /// The peer sent bytes that could not be decoded; the connection was closed.
        case protocolError(WireError)
        /// The request itself could not be encoded (for example a code above int16 with the ROCKETMQ header).
        case invalidRequest(WireError)
        /// The address is not of the form `host:port`.
        case invalidAddress
        /// The client has been shut down.
        case shutdown
        /// The waiting task was cancelled.
        case cancelled

        /// A readable summary for logs.
        public var description: String {
            switch self {
            case .connectFailed: return "connectFailed"
            case .reconnectBackoff: return "reconnectBackoff"
            case .timeout: return "timeout"
            case .channelClosed: return "channelClosed"
            case .goAway: return "goAway"
            case .draining: return "draining"
            case .protocolError(let error): return "protocolError(\(error.kind))"
            case .invalidRequest(let error): return "invalidRequest(\(error.kind))"
            case .invalidAddress: return "invalidAddress"
            case .shutdown: return "shutdown"
            case .cancelled: return "cancelled"
            }
        }
    }

    /// The category of the failure.
    public var kind: Kind
    /// The peer's address (`"host:port"`), when known.
    public var address: String?
    /// The opaque of the request that failed, when a request was involved.
    public var opaque: Int32?
    /// A human-readable explanation.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, address: String? = nil, opaque: Int32? = nil, _ message: String) {
        self.kind = kind
        self.address = address
        self.opaque = opaque
        self.message = message
    }

    /// Whether a retry (possibly on another broker or a fresh connection) may succeed.
    ///
    /// Transport failures, timeouts, GO_AWAY and draining are retryable, like Java's `RemotingException`s that the
    /// producer retries; a request that cannot be encoded, a bad address, shutdown and cancellation are not.
    public var isRetryable: Bool {
        switch kind {
        case .connectFailed, .reconnectBackoff, .timeout, .channelClosed, .goAway, .draining, .protocolError:
            return true
        case .invalidRequest, .invalidAddress, .shutdown, .cancelled:
            return false
        }
    }

    /// The same error with `opaque` set.
    func with(opaque: Int32) -> RemotingError {
        var copy = self
        copy.opaque = opaque
        return copy
    }

    /// A readable summary for logs.
    public var description: String {
        var text = "RemotingError.\(kind)"
        if let address { text += " [\(address)]" }
        if let opaque { text += " opaque=\(opaque)" }
        return text + ": \(message)"
    }
}
