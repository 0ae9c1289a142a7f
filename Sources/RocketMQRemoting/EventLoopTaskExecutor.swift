import NIOCore

/// A Swift task executor that runs jobs on one SwiftNIO event loop.
///
/// Code run with this executor as its task executor preference — `withTaskExecutorPreference(executor) { … }` or
/// `group.addTask(executorPreference: executor) { … }` — runs on the loop's thread, and when it awaits a response that
/// a connection on the same loop completes, it resumes on that thread without waking another one. For request loops
/// with one request in flight (a sync send, a request-reply) that removes two thread hops per round trip. The code
/// must not block: it shares the thread with every connection of that loop. Use it only while the loop runs: a loop
/// that has shut down drops new jobs, so a task still preferring it would never resume.
public final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop the jobs run on.
    public let eventLoop: any EventLoop

    /// Creates an executor for `eventLoop`.
    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
