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

    init(arguments: [String]) throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The READY line is the first line on stdout.
        var line = Data()
        let handle = stdout.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            guard !chunk.isEmpty else { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let fields = Dictionary(
            text.split(separator: " ").dropFirst().compactMap { part -> (String, String)? in
                let kv = part.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
            }, uniquingKeysWith: { a, _ in a })
        guard text.hasPrefix("READY "), let ns = fields["namesrv"], let list = fields["brokers"] else {
            process.terminate()
            throw TestConnection.TimedOut(description: "no READY line, got \(text.debugDescription)")
        }
        self.process = process
        self.namesrv = ns
        self.brokers = list.split(separator: ",").compactMap { entry in
            let parts = entry.split(separator: "@", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
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
        let mock = try MockBrokerProcess(arguments: [
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
        process.waitUntilExit()
        let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(text.contains("--brokers must be between 1 and 64"))
    }
}
