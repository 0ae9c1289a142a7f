import Foundation

/// A subprocess that did not get where it should in time.
public struct ProcessTimedOut: Error, CustomStringConvertible {
    public var description: String
}

/// An executable of this package, built next to the test bundle by SwiftPM (or the path in the environment variable
/// `override`).
public func builtExecutable(_ name: String, override: String) -> URL {
    if let path = ProcessInfo.processInfo.environment[override] { return URL(fileURLWithPath: path) }
    // Tests run from the build products folder, where SwiftPM also puts the executables.
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name)
}

/// Runs the built `mock-broker` executable as a subprocess.
public final class MockBrokerProcess: Sendable {
    /// The process.
    public let process: Process
    /// The name server's `host:port`.
    public let namesrv: String
    /// The brokers: name and `host:port`.
    public let brokers: [(name: String, address: String)]

    /// The built `mock-broker` (or `MOCK_BROKER_PATH`).
    public static var executable: URL { builtExecutable("mock-broker", override: "MOCK_BROKER_PATH") }

    private init(process: Process, namesrv: String, brokers: [(name: String, address: String)]) {
        self.process = process
        self.namesrv = namesrv
        self.brokers = brokers
    }

    /// Starts `mock-broker arguments...` and waits (at most `timeout`, then it is killed) for its READY line.
    /// The blocking pipe read runs on a Dispatch thread, not on one of the few cooperative threads the other tests
    /// share.
    public static func start(arguments: [String], timeout: Duration = .seconds(60)) async throws -> MockBrokerProcess {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let killer = Task {
            try await Task.sleep(for: timeout)
            process.terminate()  // closes its stdout: the read below ends without a READY line
        }
        defer { killer.cancel() }
        // The READY line is the first line on stdout.
        let handle = stdout.fileHandleForReading
        let line = await withCheckedContinuation { (c: CheckedContinuation<Data, Never>) in
            DispatchQueue.global().async {
                var line = Data()
                while !line.contains(UInt8(ascii: "\n")) {
                    let chunk = handle.availableData
                    guard !chunk.isEmpty else { break }
                    line.append(chunk)
                }
                c.resume(returning: line)
            }
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let fields = Dictionary(
            text.split(separator: " ").dropFirst().compactMap { part -> (String, String)? in
                let kv = part.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
            }, uniquingKeysWith: { a, _ in a })
        guard text.hasPrefix("READY "), let ns = fields["namesrv"], let list = fields["brokers"] else {
            process.terminate()
            throw ProcessTimedOut(description: "no READY line within \(timeout), got \(text.debugDescription)")
        }
        return MockBrokerProcess(
            process: process, namesrv: ns,
            brokers: list.split(separator: ",").compactMap { entry in
                let parts = entry.split(separator: "@", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            })
    }

    /// Sends SIGTERM and waits for the exit status.
    public func terminate() async -> Int32 {
        process.terminate()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.process.waitUntilExit()
                c.resume()
            }
        }
        return process.terminationStatus
    }
}

