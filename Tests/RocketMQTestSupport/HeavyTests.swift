// One heavy scenario at a time: tests that run clusters, brokers, subprocesses or real sockets with deadlines take
// turns, while the pure tests (codecs, state machines) keep running in parallel beside them.
//
// Swift Testing runs every test of every target in parallel. On a 2-core machine, twenty cluster scenarios at once
// (each with its brokers, producers and consumers) starve each other for seconds, so deadlines that are part of the
// product's contract (a send's 3 s) are crossed for reasons that have nothing to do with the product. `.heavy` gives
// each such test the machine's cores for the time it runs: what it then asserts holds on a busy machine too.
import Foundation
import Synchronization
import Testing

/// A FIFO async semaphore.
final class AsyncGate: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(width: Int) { state = Mutex(State(available: max(width, 1))) }

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// How many heavy tests may run at once: `ROCKETMQ_HEAVY_TESTS` (default 1).
private let heavyGate = AsyncGate(
    width: ProcessInfo.processInfo.environment["ROCKETMQ_HEAVY_TESTS"].flatMap { Int($0) } ?? 1)

/// The `.heavy` trait: each test (each case of a parameterized test) of the suite or test it is applied to runs
/// while holding the heavy-test gate.
public struct HeavyTestTrait: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> HeavyTestTrait? {
        // Per test case only: a suite holding the gate while its tests wait for it would deadlock.
        testCase == nil ? nil : self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await heavyGate.acquire()
        defer { heavyGate.release() }
        try await function()
    }
}

extension Trait where Self == HeavyTestTrait {
    /// Runs each test alone among the heavy tests (clusters, brokers, subprocesses, sockets with deadlines).
    public static var heavy: Self { HeavyTestTrait() }
}
