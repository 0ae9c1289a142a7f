import Foundation
import NIOCore
import RocketMQWire
import RocketMQTestSupport
import Testing

/// Runs the built `mock-broker` executable as a subprocess.
final class MockBrokerProcess: Sendable {
    let process: Process
    let namesrv: String
    let brokers: [(name: String, address: String)]

    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["MOCK_BROKER_PATH"] { return URL(fileURLWithPath: path) }
        // Tests run from the build products folder, where SwiftPM also puts the executable.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("mock-broker")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("mock-broker")
    }

    private init(process: Process, namesrv: String, brokers: [(name: String, address: String)]) {
        self.process = process
        self.namesrv = namesrv
        self.brokers = brokers
    }

    /// Starts `mock-broker arguments...` and waits (at most `timeout`, then it is killed) for its READY line.
    /// The blocking pipe read runs on a Dispatch thread, not on one of the few cooperative threads the other tests
    /// share.
    static func start(arguments: [String], timeout: Duration = .seconds(60)) async throws -> MockBrokerProcess {
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
            throw TestConnection.TimedOut(description: "no READY line within \(timeout), got \(text.debugDescription)")
        }
        return MockBrokerProcess(
            process: process, namesrv: ns,
            brokers: list.split(separator: ",").compactMap { entry in
                let parts = entry.split(separator: "@", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            })
    }

    /// Sends SIGTERM and waits for the exit status.
    func terminate() async -> Int32 {
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

@Suite("mock-broker executable (end to end)", .heavy)
struct ExecutableTests {
    @Test func readyLineServeAndGracefulSigterm() async throws {
        let mock = try await MockBrokerProcess.start(arguments: [
            "--namesrv-port", "0", "--broker-port", "0", "--brokers", "2", "--grace-period", "0.5",
        ])
        #expect(mock.brokers.map(\.name) == ["broker-a", "broker-b"])
        let ns = try await TestConnection.connect(mock.namesrv)
        let route = try await ns.call(.getRouteInfoByTopic, ["topic": "TBW102"])
        #expect(route.responseCode == .success)
        let broker = try await TestConnection.connect(mock.brokers[0].address)
        let sent = try await broker.call(.sendMessageV2, Wire.sendFields(topic: "E2E"), body: ByteBuffer(string: "hello"))
        #expect(sent.responseCode == .success)
        let status = await mock.terminate()
        #expect(status == 0)
        #expect(mock.process.terminationReason == .exit)
        await ns.close()
        await broker.close()
    }

    @Test func badArgumentsExitWithAClearError() async throws {
        let process = Process()
        process.executableURL = MockBrokerProcess.executable
        process.arguments = ["--brokers", "0"]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Read to the end, then reap, off the cooperative threads.
        let text = await withCheckedContinuation { (c: CheckedContinuation<String, Never>) in
            DispatchQueue.global().async {
                let data = stderr.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                c.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
        #expect(process.terminationStatus != 0)
        #expect(text.contains("--brokers must be between 1 and 64"))
    }
}
