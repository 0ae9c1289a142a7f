import Foundation

struct EventuallyTimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Waits until `condition` holds, checking every few milliseconds, failing after `timeout`.
func eventually(
    timeout: Duration = .seconds(5), _ what: String = "condition", _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    if try await condition() { return }
    throw EventuallyTimedOut(description: "\(what) not met within \(timeout)")
}
