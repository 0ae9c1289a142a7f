import Foundation
import NIOCore
import NIOPosix

/// The `mock-broker` executable run as a subprocess: started, killed with SIGKILL or drained with SIGTERM, restarted
/// with the same arguments (same ports, same data directory).
final class BrokerProcess: @unchecked Sendable {
    // @unchecked: `process` is replaced only by start(), which the scenario calls from one task at a time.
    let executable: URL
    let arguments: [String]
    let logFile: URL
    private(set) var process: Process?
    private(set) var nameServer = ""
    private(set) var brokers: [(name: String, address: String)] = []

    init(executable: URL, arguments: [String], logFile: URL) {
        self.executable = executable
        self.arguments = arguments
        self.logFile = logFile
    }

    /// The `mock-broker` built next to this executable (SwiftPM puts all products of a build in one folder).
    /// The `mock-broker` executable (`path`, else the one next to this one) with `brokers` brokers on ephemeral ports,
    /// no grace period, logging to `rmq-<name>-broker.log` in the temporary directory; started.
    static func startEphemeral(brokers: Int, name: String, path: String?) async throws -> BrokerProcess {
        let broker = BrokerProcess(
            executable: path.map { URL(fileURLWithPath: $0) } ?? defaultExecutable(),
            arguments: [
                "--namesrv-port", "0", "--broker-port", "0", "--brokers", String(brokers), "--grace-period", "0",
                "--log-level", "warning",
            ],
            logFile: FileManager.default.temporaryDirectory.appendingPathComponent("rmq-\(name)-broker.log"))
        try await broker.start()
        return broker
    }

    static func defaultExecutable() -> URL {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return own.deletingLastPathComponent().appendingPathComponent("mock-broker")
    }

    /// Launches the process and waits for its READY line (or its exit).
    func start() async throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw SuiteError("mock-broker executable not found at \(executable.path) (build it, or pass --mock-broker)")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        if !FileManager.default.fileExists(atPath: logFile.path) {
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logFile)
        log.seekToEndOfFile()
        process.standardError = log
        try process.run()
        self.process = process
        // Only the child writes to the pipe: a child that dies before READY then ends the read below with EOF.
        try? stdout.fileHandleForWriting.close()
        // A child that neither prints READY nor exits within 30 s is killed (which also ends the read).
        let pid = process.processIdentifier
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            kill(pid, SIGKILL)
        }
        defer { watchdog.cancel() }
        let handle = stdout.fileHandleForReading
        let line: String? = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var data = Data()
                while !data.contains(UInt8(ascii: "\n")) {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    data.append(chunk)
                }
                continuation.resume(returning: data.isEmpty ? nil : String(decoding: data, as: UTF8.self))
            }
        }
        try? log.close()
        guard let text = line?.split(separator: "\n").first.map(String.init), text.hasPrefix("READY ") else {
            process.terminate()
            throw SuiteError("mock-broker printed no READY line within 30 s (exit status \(process.isRunning ? "none" : String(process.terminationStatus)); log: \(logFile.path))")
        }
        let fields = Dictionary(
            text.split(separator: " ").dropFirst().compactMap { part -> (String, String)? in
                let kv = part.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
            }, uniquingKeysWith: { a, _ in a })
        nameServer = fields["namesrv"] ?? ""
        brokers = (fields["brokers"] ?? "").split(separator: ",").compactMap { entry in
            let parts = entry.split(separator: "@", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
    }

    /// SIGKILL: no drain, no flush beyond what the broker already wrote. Waits for the process to be gone.
    func kill9() async {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        await Self.waitForExit(process)
    }

    /// SIGTERM (graceful drain) and wait for the exit status.
    @discardableResult
    func terminate() async -> Int32 {
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        process.terminate()
        await Self.waitForExit(process)
        return process.terminationStatus
    }

    private static func waitForExit(_ process: Process) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                process.waitUntilExit()
                c.resume()
            }
        }
    }

    /// A TCP port nothing listens on right now, such that `count` consecutive ports from it are free.
    static func freePorts(count: Int) async throws -> Int {
        for _ in 0..<50 {
            let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            let base = probe.localAddress?.port ?? 0
            try await probe.close().get()
            guard base > 0, base + count < 65535 else { continue }
            var ok = true
            for p in base..<(base + count) {
                do {
                    let c = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .bind(host: "127.0.0.1", port: p).get()
                    try await c.close().get()
                } catch {
                    ok = false
                    break
                }
            }
            if ok { return base }
        }
        throw SuiteError("no \(count) consecutive free ports found")
    }
}

/// A failure of the suite itself (setup, missing executable), as opposed to a missed goal.
struct SuiteError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
