import Atomics
import Logging

/// Something that happened to a connection, for the client core (Java's `NettyEvent`).
///
/// Events of one connection arrive in the order they happened: `connect`, `active`, then at most one of `idle` /
/// `exception`, then `close`.
public struct RemotingChannelEvent: Sendable, Hashable, CustomStringConvertible {
    /// What happened.
    public enum Kind: Sendable, Hashable {
        /// A connect attempt started.
        case connect
        /// The connection is established (Java 5.x `ACTIVE`): the client core heartbeats the broker at once.
        case active
        /// The connection closed.
        case close
        /// The connection was closed because it carried no traffic for the idle timeout.
        case idle
        /// The connection failed (I/O error, malformed frame) and was closed.
        case exception
        /// The peer answered GO_AWAY; the address's connection is being swapped for a fresh one.
        case goAway
        /// The fresh connection answered GO_AWAY too: the server itself is draining. Nothing is sent to the address
        /// until a later connection to it answers normally (``drainingEnded``).
        case draining
        /// A connection established after the address was marked draining answered normally.
        case drainingEnded
    }

    /// What happened.
    public var kind: Kind
    /// The peer's address, `"host:port"` as the connection table knows it.
    public var address: String
    /// The connection concerned (unique within one client); 0 when not tied to one connection.
    public var connectionID: UInt64
    /// The cause, for `exception` (and `close` after a failure).
    public var error: RemotingError?
    /// For `close`: whether the peer or the network ended the connection (EOF, reset, I/O error, bad frame) rather
    /// than this client (idle timeout, a request timing out on it, GO_AWAY retirement, shutdown).
    public var closedByPeer: Bool

    /// Creates an event.
    public init(
        _ kind: Kind, address: String, connectionID: UInt64 = 0, error: RemotingError? = nil, closedByPeer: Bool = false
    ) {
        self.kind = kind
        self.address = address
        self.connectionID = connectionID
        self.error = error
        self.closedByPeer = closedByPeer
    }

    /// A readable summary for logs.
    public var description: String {
        var text = "\(kind)(\(address)#\(connectionID))"
        if let error { text += ": \(error)" }
        return text
    }
}

/// One bounded queue of channel events. A full queue drops the new event with a warning; emitting never blocks.
final class ChannelEventQueue: Sendable {
    let stream: AsyncStream<RemotingChannelEvent>
    private let continuation: AsyncStream<RemotingChannelEvent>.Continuation
    private let dropped = ManagedAtomic<Int>(0)
    private let logger: Logger

    init(capacity: Int, logger: Logger) {
        (stream, continuation) = AsyncStream.makeStream(
            of: RemotingChannelEvent.self, bufferingPolicy: .bufferingOldest(max(capacity, 1)))
        self.logger = logger
    }

    /// The number of events dropped because the queue was full.
    var droppedCount: Int { dropped.load(ordering: .relaxed) }

    func emit(_ event: RemotingChannelEvent) {
        switch continuation.yield(event) {
        case .enqueued, .terminated:
            break
        case .dropped:
            let count = dropped.wrappingIncrementThenLoad(ordering: .relaxed)
            // Warn on the 1st, 2nd, 4th, 8th, ... drop so a stuck consumer cannot flood the log.
            if count & (count - 1) == 0 {
                logger.warning(
                    "channel event queue full; event dropped",
                    metadata: [
                        "remoting.address": "\(event.address)", "remoting.event": "\(event.kind)",
                        "remoting.droppedEvents": "\(count)",
                    ])
            }
        @unknown default:
            break
        }
    }

    func finish() {
        continuation.finish()
    }
}
