// Waiting helpers shared by the test targets: wait for an event with a deadline, never sleep to synchronise.
import Foundation

/// A wait that ran out of time.
public struct TimedOut: Error, CustomStringConvertible {
    /// What was awaited.
    public var what: String
    /// Creates the error.
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(what)" }
}

/// Runs `body`, failing with ``TimedOut`` if it has not finished within `timeout` (a deadline, not a sleep).
public func withTimeout<T: Sendable>(
    _ timeout: Duration = .seconds(20), _ what: String = "an event", _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TimedOut(what: what)
        }
        return value
    }
}

/// Polls `condition` (every 5 ms) until it holds; throws ``TimedOut`` after `timeout`. For state that offers no
/// event to await (e.g. "every queue owned by exactly one member"). The default deadline is generous (10x and more
/// what a quiet run needs): it only bounds how long a failing test takes, and a loaded machine is slow.
public func eventually(
    timeout: Duration = .seconds(30), _ what: String = "condition", _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    if try await condition() { return }
    throw TimedOut(what: "\(what) within \(timeout)")
}

/// Checks that `condition` keeps holding while `duration` passes (sampling every 10 ms): for bounds such as
/// "the buffer never grows past the threshold".
public func stays(
    for duration: Duration, _ what: String = "condition", _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let end = clock.now + duration
    while clock.now < end {
        guard try await condition() else { throw TimedOut(what: "\(what) to keep holding (it stopped)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}
