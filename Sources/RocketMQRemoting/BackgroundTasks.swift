import Synchronization

/// Work started by reactions (channel events, pushed requests, timers, rebalances) that belongs to one `run()`.
///
/// ``spawn(_:)`` hands a job to the task group of ``run()``, where it becomes a child task: cancelling `run()` cancels
/// every job and `run()` returns only once all of them have ended. Jobs spawned before `run()` starts wait for it; jobs
/// spawned after it ended (or after ``finish()``) are not run. This is the one way the client starts background work,
/// so nothing of a stopped client keeps running.
package final class BackgroundTasks: Sendable {
    private struct Job: Sendable {
        var body: @Sendable () async -> Void
    }

    private let stream: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation
    private let live = Atomic<Int>(0)

    package init() {
        (stream, continuation) = AsyncStream.makeStream(of: Job.self)
    }

    /// Jobs spawned and not yet ended (queued or running).
    package var count: Int { live.load(ordering: .relaxed) }

    /// Runs `body` as a child task of ``run()``; false when `run()` has ended (the job is dropped).
    @discardableResult
    package func spawn(_ body: @escaping @Sendable () async -> Void) -> Bool {
        live.add(1, ordering: .relaxed)
        let job = Job {
            await body()
            self.live.subtract(1, ordering: .relaxed)
        }
        if case .enqueued = continuation.yield(job) { return true }
        live.subtract(1, ordering: .relaxed)
        return false
    }

    /// Runs `body` as a child task of ``run()`` that can also be stopped on its own (``Job/cancel()``) and awaited
    /// (``Job/finished()``). A job that cannot start (`run()` ended) is returned already finished.
    package func spawnStoppable(_ body: @escaping @Sendable () async -> Void) -> StoppableJob {
        let job = StoppableJob()
        if !spawn({ await job.run(body) }) { job.markFinished() }
        return job
    }

    /// Runs spawned jobs until cancelled or ``finish()``ed, then cancels those still running and waits for them.
    /// Call once.
    package func run() async {
        await withDiscardingTaskGroup { group in
            for await job in stream {
                group.addTask { await job.body() }
            }
            group.cancelAll()
        }
    }

    /// Ends ``run()``: it cancels and awaits its running jobs; later spawns are dropped.
    package func finish() {
        continuation.finish()
    }
}

/// A background job that can be cancelled on its own and awaited (``BackgroundTasks/spawnStoppable(_:)``).
package final class StoppableJob: Sendable {
    private enum State {
        case running(stop: CheckedContinuation<Void, Never>?, finishWaiters: [CheckedContinuation<Void, Never>])
        case stopping(finishWaiters: [CheckedContinuation<Void, Never>])
        case finished
    }

    private let state = Mutex(State.running(stop: nil, finishWaiters: []))

    init() {}

    /// Cancels the job's task (its cancellation handlers run; sleeps and requests end).
    package func cancel() {
        let stop = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard case .running(let stop, let waiters) = s else { return nil }
            s = .stopping(finishWaiters: waiters)
            return stop
        }
        stop?.resume()
    }

    /// Whether the job has ended.
    package var isFinished: Bool {
        state.withLock { if case .finished = $0 { return true } else { return false } }
    }

    /// Returns once the job has ended.
    package func finished() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                switch s {
                case .running(let stop, var waiters):
                    waiters.append(c)
                    s = .running(stop: stop, finishWaiters: waiters)
                    return false
                case .stopping(var waiters):
                    waiters.append(c)
                    s = .stopping(finishWaiters: waiters)
                    return false
                case .finished:
                    return true
                }
            }
            if done { c.resume() }
        }
    }

    /// Runs `body` until it returns or ``cancel()`` is called (or the enclosing task is cancelled).
    fileprivate func run(_ body: @escaping @Sendable () async -> Void) async {
        // The stop watcher throws once stopped, which makes the group cancel `body`; `body` returning stops the watcher.
        try? await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                await self.waitForStop()
                throw CancellationError()
            }
            group.addTask {
                await body()
                self.cancel()
            }
        }
        markFinished()
    }

    private func waitForStop() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let stopNow = state.withLock { s -> Bool in
                    guard case .running(nil, let waiters) = s else { return true }
                    s = .running(stop: c, finishWaiters: waiters)
                    return false
                }
                if stopNow { c.resume() }
            }
        } onCancel: {
            self.cancel()
        }
    }

    fileprivate func markFinished() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            defer { s = .finished }
            switch s {
            case .running(_, let waiters), .stopping(let waiters): return waiters
            case .finished: return []
            }
        }
        for w in waiters { w.resume() }
    }
}
