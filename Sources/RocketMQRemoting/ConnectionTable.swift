import NIOCore

/// The connection table's logic: one connection per address, single-flight connects, reconnect backoff, and the
/// GO_AWAY swap / draining rules. A plain value with no I/O; every `mutating` method returns what the
/// ``RemotingClient`` must do. Generic over the connection and the shared connect attempt so it is unit-tested
/// without sockets.
///
/// GO_AWAY (DESIGN.md §2): a GO_AWAY on an address's ordinary connection swaps it for a fresh one (the old one is
/// retired: it finishes its in-flight requests, then closes) and the request is retried there. A GO_AWAY on that
/// fresh connection means the server itself is draining, so the address is marked draining: no further swaps, and
/// requests fail at once, until a connection opened after the mark answers normally.
struct ConnectionTable<Connection, Attempt> {
    enum Slot {
        case none
        /// A connect is in flight; every caller shares `attempt`.
        case connecting(id: UInt64, attempt: Attempt)
        case ready(id: UInt64, connection: Connection)
    }

    struct Entry {
        var slot: Slot = .none
        /// Connections swapped out after GO_AWAY, still finishing their in-flight requests.
        var retired: [UInt64: Connection] = [:]
        /// Consecutive failures (connect failures, broken connections) since the last healthy connection.
        var failureStreak = 0
        /// No connect before this instant (reconnect backoff).
        var gate: NIODeadline?
        var lastFailure: RemotingError?
        /// The address is draining; set to the id of the newest connection that answered GO_AWAY while draining.
        var drainingSince: UInt64?
        /// The connection opened by the last GO_AWAY swap, until it answers normally.
        var freshSwapID: UInt64?
        /// The last connection a `.goAway` event was emitted for (one event per connection).
        var goAwayEventID: UInt64?
        var everConnected = false
    }

    /// A connect the shell must start.
    struct ConnectOrder {
        var id: UInt64
        var attempt: Attempt
        /// The new connection's normal answers must be reported (``answeredNormally(address:connectionID:)``).
        var reportsNormalAnswer: Bool
        /// The address had a connection before (counts as a reconnect).
        var isReconnect: Bool
    }

    private(set) var entries: [String: Entry] = [:]
    private(set) var isShutdown = false
    private var nextID: UInt64 = 1
    let backoff: RemotingClientConfiguration.Backoff

    init(backoff: RemotingClientConfiguration.Backoff) {
        self.backoff = backoff
    }

    // MARK: Acquire

    enum AcquireAction {
        /// Use this connection.
        case use(Connection)
        /// Wait for the connect already in flight.
        case wait(Attempt)
        /// Start this connect, then wait for it.
        case connect(ConnectOrder)
        /// Fail at once.
        case fail(RemotingError)
    }

    mutating func acquire(address: String, now: NIODeadline, makeAttempt: () -> Attempt) -> AcquireAction {
        guard !isShutdown else {
            return .fail(RemotingError(.shutdown, address: address, "the remoting client is shut down"))
        }
        var entry = entries[address] ?? Entry()
        defer { entries[address] = entry }
        switch entry.slot {
        case .ready(let id, let connection):
            if let since = entry.drainingSince, id <= since {
                return .fail(RemotingError(.draining, address: address, "the server is draining (GO_AWAY)"))
            }
            return .use(connection)
        case .connecting(_, let attempt):
            return .wait(attempt)
        case .none:
            if let error = gateError(entry: entry, address: address, now: now) {
                return .fail(error)
            }
            return .connect(startConnect(&entry, isSwap: false, makeAttempt: makeAttempt))
        }
    }

    private func gateError(entry: Entry, address: String, now: NIODeadline) -> RemotingError? {
        guard let gate = entry.gate, now < gate else { return nil }
        let waitMillis = (gate - now).nanoseconds / 1_000_000
        var message = "reconnect backoff: next connect allowed in \(waitMillis) ms"
        if let last = entry.lastFailure { message += " (last failure: \(last.message))" }
        return RemotingError(.reconnectBackoff, address: address, message)
    }

    private mutating func startConnect(_ entry: inout Entry, isSwap: Bool, makeAttempt: () -> Attempt) -> ConnectOrder {
        let id = nextID
        nextID += 1
        let attempt = makeAttempt()
        entry.slot = .connecting(id: id, attempt: attempt)
        if isSwap { entry.freshSwapID = id }
        return ConnectOrder(
            id: id, attempt: attempt, reportsNormalAnswer: isSwap || entry.drainingSince != nil,
            isReconnect: entry.everConnected)
    }

    // MARK: Connect outcome

    enum ConnectResult {
        /// Complete the shared attempt with the connection.
        case succeed(Attempt)
        /// The table no longer wants this connection (shut down): close it.
        case discard
    }

    mutating func connectSucceeded(address: String, id: UInt64, connection: Connection) -> ConnectResult {
        guard !isShutdown, var entry = entries[address], case .connecting(id, let attempt) = entry.slot else {
            return .discard
        }
        entry.slot = .ready(id: id, connection: connection)
        entry.everConnected = true
        entry.gate = nil
        entries[address] = entry
        return .succeed(attempt)
    }

    /// A connect failed: returns the attempt to fail (nil if the table had already dropped it).
    mutating func connectFailed(
        address: String, id: UInt64, error: RemotingError, now: NIODeadline, jitterSample: Double
    ) -> Attempt? {
        guard var entry = entries[address], case .connecting(id, let attempt) = entry.slot else { return nil }
        entry.slot = .none
        if entry.freshSwapID == id { entry.freshSwapID = nil }
        entry.failureStreak += 1
        entry.gate = now + TimeAmount(backoff.delay(afterFailures: entry.failureStreak, jitterSample: jitterSample))
        entry.lastFailure = error
        entries[address] = entry
        return attempt
    }

    /// A connection closed. A close the client did not decide (peer, error) gates the next connect behind the
    /// backoff: the initial delay after a connection that had answered, growing while connections keep breaking
    /// before any answer.
    ///
    /// Returns the shared attempt to fail when the connection closed before its connect was reported.
    mutating func connectionClosed(
        address: String, id: UInt64, cause: ConnectionCloseCause, receivedResponse: Bool, now: NIODeadline,
        jitterSample: Double
    ) -> Attempt? {
        guard var entry = entries[address] else { return nil }
        defer { entries[address] = entry }
        if entry.retired.removeValue(forKey: id) != nil { return nil }
        var attempt: Attempt?
        switch entry.slot {
        case .ready(id, _): break
        case .connecting(id, let pending): attempt = pending
        default: return nil
        }
        entry.slot = .none
        if entry.freshSwapID == id { entry.freshSwapID = nil }
        if cause.isLocal {
            entry.failureStreak = 0
            entry.gate = nil
        } else {
            entry.failureStreak = receivedResponse ? 1 : entry.failureStreak + 1
            entry.gate = now + TimeAmount(backoff.delay(afterFailures: entry.failureStreak, jitterSample: jitterSample))
            entry.lastFailure = cause.error(address: address)
        }
        return attempt
    }

    // MARK: GO_AWAY

    enum RetryTarget {
        case connection(Connection)
        case attempt(Attempt)
    }

    struct GoAwayAction {
        /// Retry the request here (with a new opaque and the remaining deadline).
        var retryOn: RetryTarget?
        /// Start this connect (the swap).
        var connect: ConnectOrder?
        /// Retire this connection: close it once its in-flight requests finish.
        var retire: Connection?
        /// Fail the request with this error (when there is no retry).
        var error: RemotingError?
        /// Events to emit.
        var events: [RemotingChannelEvent.Kind] = []
    }

    /// Connection `connectionID` to `address` answered GO_AWAY.
    ///
    /// - Parameters:
    ///   - canRetry: the request has not been retried yet.
    ///   - swapEnabled: ``RemotingClientConfiguration/retryOnGoAway``.
    mutating func goAwayReceived(
        address: String, connectionID: UInt64, canRetry: Bool, swapEnabled: Bool, now: NIODeadline,
        makeAttempt: () -> Attempt
    ) -> GoAwayAction {
        let goAway = RemotingError(.goAway, address: address, "the server answered GO_AWAY")
        guard !isShutdown else {
            return GoAwayAction(error: RemotingError(.shutdown, address: address, "the remoting client is shut down"))
        }
        var entry = entries[address] ?? Entry()
        defer { entries[address] = entry }
        var action = GoAwayAction()
        if entry.goAwayEventID != connectionID {
            entry.goAwayEventID = connectionID
            action.events.append(.goAway)
        }
        guard swapEnabled else {
            action.error = goAway
            return action
        }
        if let since = entry.drainingSince {
            entry.drainingSince = max(since, connectionID)
            action.error = RemotingError(.goAway, address: address, "the server answered GO_AWAY and is draining")
            return action
        }
        switch entry.slot {
        case .ready(let id, let connection) where id == connectionID:
            if entry.freshSwapID == id {
                // The fresh connection answered GO_AWAY too: the server itself is draining.
                entry.drainingSince = id
                entry.freshSwapID = nil
                action.events.append(.draining)
                action.error = RemotingError(.goAway, address: address, "GO_AWAY on the fresh connection too: the server is draining")
                return action
            }
            if let error = gateError(entry: entry, address: address, now: now) {
                action.error = error
                return action
            }
            entry.retired[id] = connection
            action.retire = connection
            let order = startConnect(&entry, isSwap: true, makeAttempt: makeAttempt)
            action.connect = order
            if canRetry {
                action.retryOn = .attempt(order.attempt)
            } else {
                action.error = RemotingError(.goAway, address: address, "the server answered GO_AWAY twice")
            }
        case .ready(_, let connection):
            // Already swapped (or reconnected) since this connection was handed out.
            if canRetry {
                action.retryOn = .connection(connection)
            } else {
                action.error = RemotingError(.goAway, address: address, "the server answered GO_AWAY twice")
            }
        case .connecting(_, let attempt):
            if canRetry {
                action.retryOn = .attempt(attempt)
            } else {
                action.error = RemotingError(.goAway, address: address, "the server answered GO_AWAY twice")
            }
        case .none:
            guard canRetry else {
                action.error = RemotingError(.goAway, address: address, "the server answered GO_AWAY twice")
                return action
            }
            if let error = gateError(entry: entry, address: address, now: now) {
                action.error = error
                return action
            }
            let order = startConnect(&entry, isSwap: true, makeAttempt: makeAttempt)
            action.connect = order
            action.retryOn = .attempt(order.attempt)
        }
        return action
    }

    /// Connection `connectionID` answered something other than GO_AWAY. Returns the events to emit.
    mutating func answeredNormally(address: String, connectionID: UInt64) -> [RemotingChannelEvent.Kind] {
        guard var entry = entries[address] else { return [] }
        defer { entries[address] = entry }
        if entry.freshSwapID == connectionID { entry.freshSwapID = nil }
        if let since = entry.drainingSince, connectionID > since {
            entry.drainingSince = nil
            return [.drainingEnded]
        }
        return []
    }

    /// Opens the reconnect gate of `address` (the caller learned the server is back, say from the name server):
    /// the next request connects at once. Returns whether a gate was closed.
    @discardableResult
    mutating func clearBackoff(address: String) -> Bool {
        guard var entry = entries[address], entry.gate != nil else { return false }
        entry.gate = nil
        entry.failureStreak = 0
        entries[address] = entry
        return true
    }

    func isDraining(address: String) -> Bool {
        entries[address]?.drainingSince != nil
    }

    // MARK: Shutdown

    /// Marks the table shut down; returns every connection to close and every attempt to fail.
    mutating func shutdown() -> (connections: [Connection], attempts: [Attempt]) {
        isShutdown = true
        var connections: [Connection] = []
        var attempts: [Attempt] = []
        for entry in entries.values {
            switch entry.slot {
            case .none: break
            case .connecting(_, let attempt): attempts.append(attempt)
            case .ready(_, let connection): connections.append(connection)
            }
            connections.append(contentsOf: entry.retired.values)
        }
        entries = [:]
        return (connections, attempts)
    }
}

extension ConnectionTable: Sendable where Connection: Sendable, Attempt: Sendable {}
extension ConnectionTable.Slot: Sendable where Connection: Sendable, Attempt: Sendable {}
extension ConnectionTable.Entry: Sendable where Connection: Sendable, Attempt: Sendable {}
extension ConnectionTable.ConnectOrder: Sendable where Attempt: Sendable {}
extension ConnectionTable.RetryTarget: Sendable where Connection: Sendable, Attempt: Sendable {}
extension ConnectionTable.GoAwayAction: Sendable where Connection: Sendable, Attempt: Sendable {}
