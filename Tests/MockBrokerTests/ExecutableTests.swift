import Foundation
import NIOCore
import RocketMQWire
import RocketMQTestSupport
import Testing

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
