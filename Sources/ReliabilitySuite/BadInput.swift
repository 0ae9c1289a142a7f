import ArgumentParser
import Foundation
import Logging
import RocketMQ
import RocketMQMockBroker
import RocketMQRemoting
import RocketMQWire
import Synchronization

/// Log records kept in memory, to check that a failure was logged.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    let entries = Mutex<[Entry]>([])

    func logger(label: String) -> Logger {
        Logger(label: label) { _ in RecordingLogHandler(recorder: self) }
    }

    /// Entries at `level` or above whose `remoting.address` is `address`.
    func count(atLeast level: Logger.Level, address: String) -> Int {
        entries.withLock { $0.filter { $0.level >= level && $0.metadata["remoting.address"] == address }.count }
    }

    func first(atLeast level: Logger.Level, address: String) -> Entry? {
        entries.withLock { $0.first { $0.level >= level && $0.metadata["remoting.address"] == address } }
    }
}

struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all: [String: String] = [:]
        for (k, v) in metadata { all[k] = "\(v)" }
        for (k, v) in event.metadata ?? [:] { all[k] = "\(v)" }
        let entry = LogRecorder.Entry(level: event.level, message: event.message.description, metadata: all)
        recorder.entries.withLock { $0.append(entry) }
    }
}

/// Scenario 5 (the live half; the fuzzing half is Scripts/fuzz.sh): a server answers a live client connection with
/// random bytes, oversize lengths, bad headers and truncated frames. Only that connection may close, with a logged
/// error; every request must end by its deadline; the client keeps working.
struct BadInput: Scenario {
    static let configuration = CommandConfiguration(
        commandName: "bad-input",
        abstract: "Answer a live client connection with garbage; only that connection may close, the client keeps working.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Requests answered with each kind of garbage.")
    var rounds = 20

    @Option(name: .customLong("timeout-ms"), help: "Deadline of each request to the garbage server (ms).")
    var timeoutMs = 1000

    @Option(help: "Producers sending through a name-server list whose first entry answers garbage.")
    var producers = 5

    func measure() async throws -> Figures {
        let cluster = try await MockCluster.start(.init(brokers: 1, queues: 4))
        cluster.createTopic("BadInputTopic", queues: 4)
        let good = cluster.nameServerAddress
        let garbage = try await GarbageServer.start(garbage: .randomBytes, seed: common.seed)
        let bad = garbage.address
        say("good peer \(good) (the mock name server), garbage server \(bad)")

        let recorder = LogRecorder()
        let client = RemotingClient(logger: recorder.logger(label: "bad-input"))
        let events = Mutex<[RemotingChannelEvent]>([])
        let eventTask = Task { for await e in client.events { events.withLock { $0.append(e) } } }
        let route = RemotingCommand.request(.getRouteInfoByTopic, extFields: GetRouteInfoRequestHeader(topic: "TBW102").fields)
        let timeout = Duration.milliseconds(timeoutMs)
        let clock = ContinuousClock()

        var goodOK = 0
        var goodFailed: [String] = []
        func askGood() async {
            do {
                let r = try await client.invoke(route, address: good, timeout: .seconds(3))
                if r.responseCode == .success { goodOK += 1 } else { goodFailed.append("code \(r.code)") }
            } catch {
                goodFailed.append("\(error)")
            }
        }
        await askGood()

        var outcomes: [String: [String: Int]] = [:]
        var accepted = 0
        var slowest = Duration.zero
        var backoffWaits = 0
        for kind in GarbageServer.Garbage.allCases {
            garbage.answer(with: kind)
            for _ in 0..<rounds {
                // A closed connection gates the next connect behind the reconnect backoff: wait it out.
                while true {
                    let began = clock.now
                    do {
                        _ = try await client.invoke(route, address: bad, timeout: timeout)
                        accepted += 1
                        outcomes[kind.rawValue, default: [:]]["answered", default: 0] += 1
                    } catch let error as RemotingError {
                        if case .reconnectBackoff = error.kind {
                            backoffWaits += 1
                            await pause(.milliseconds(50))
                            continue
                        }
                        slowest = max(slowest, clock.now - began)
                        outcomes[kind.rawValue, default: [:]][error.kind.description, default: 0] += 1
                    }
                    break
                }
                await askGood()
            }
        }
        say("garbage rounds done; producers with the garbage server first in their name-server list")

        // The public API on top: name-server failover past the garbage server.
        garbage.answer(with: .corruptHeader)
        var producerOK = 0
        var producerFailed: [String] = []
        for i in 0..<max(0, producers) {
            var config = ClientConfiguration(nameServers: [bad, good])
            config.instanceName = "bad-input-\(i)"
            let producer = try Producer(configuration: ProducerConfiguration(group: "BadInputProducer"), client: config)
            for n in 0..<20 {
                do {
                    _ = try await producer.send(Message(topic: "BadInputTopic", string: "m\(n)"))
                    producerOK += 1
                } catch {
                    producerFailed.append("\(error)")
                }
            }
            await producer.shutdown()
        }

        let pending = client.pendingRequestCount
        // Events up to here (shutdown closes every connection, and says so; the producers phase gave the event
        // task ample time to take in everything before it).
        let beforeShutdown = events.withLock { $0 }
        await client.shutdown()
        _ = await eventTask.value
        await garbage.stop()
        await cluster.shutdown()

        let all = events.withLock { $0 }
        // The good peer's connection must never have been replaced: one ACTIVE, no close before shutdown.
        let goodActives = all.filter { $0.address == good && $0.kind == .active }.count
        let goodCloses = beforeShutdown.filter { $0.address == good && $0.kind == .close }.count
        let badCloses = all.filter { $0.address == bad && $0.kind == .close }.count
        let badExceptions = all.filter { $0.address == bad && $0.kind == .exception }.count
        let logged = recorder.count(atLeast: .warning, address: bad)
        let total = rounds * GarbageServer.Garbage.allCases.count
        let timeouts = outcomes.values.reduce(0) { $0 + ($1["timeout"] ?? 0) }

        var f = Figures("bad-input")
        f.set("garbage_requests", total)
        for kind in GarbageServer.Garbage.allCases {
            let o = outcomes[kind.rawValue] ?? [:]
            f.set("outcome_\(kind.rawValue)", o.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))
        }
        f.set("garbage_accepted", accepted)
        f.set("garbage_connections_closed", badCloses)
        f.set("garbage_exceptions", badExceptions)
        f.set("garbage_errors_logged", logged)
        f.set("slowest_failure_ms", ms: slowest)
        f.set("backoff_waits", backoffWaits)
        f.set("good_requests_ok", goodOK)
        f.set("good_requests_failed", goodFailed.count)
        f.set("good_connections_opened", goodActives)
        f.set("good_connection_closes", goodCloses)
        f.set("pending_after", pending)
        f.set("producer_sends_ok", producerOK)
        f.set("producer_sends_failed", producerFailed.count)
        if let first = recorder.first(atLeast: .warning, address: bad) {
            say("example of the logged error: [\(first.level)] \(first.message) \(first.metadata["remoting.error"] ?? "")")
        }

        f.goal("no garbage accepted", accepted == 0, "\(accepted) garbage answers were taken as responses")
        f.goal(
            "deadlines honoured", slowest <= timeout + .milliseconds(250),
            String(format: "slowest failed request %.0f ms against a %d ms deadline", slowest.milliseconds, timeoutMs))
        f.goal(
            "only that connection closes", goodActives == 1 && goodCloses == 0 && goodFailed.isEmpty && goodOK == total + 1,
            "\(goodOK)/\(total + 1) requests to the good peer answered on \(goodActives) connection(s), closed \(goodCloses) times before shutdown"
                + (goodFailed.isEmpty ? "" : "; failures: \(goodFailed.prefix(3))"))
        // Every garbage answer ends its connection: at once when it cannot be a frame, at the request's deadline when
        // it leaves the decoder waiting for the rest of one (the stall closes the connection too).
        f.goal(
            "each bad connection closed with a logged error", badCloses == total && logged >= total,
            "\(total) garbage answers (\(timeouts) of them stalls): \(badCloses) connections closed, \(logged) warnings logged for \(bad)")
        f.goal("pending back to 0", pending == 0, "\(pending) requests pending at the end")
        f.goal(
            "client keeps working", producerFailed.isEmpty && producerOK == 20 * max(0, producers),
            "\(producerOK) producer sends succeeded past the garbage name server" + (producerFailed.isEmpty ? "" : "; failures: \(producerFailed.prefix(3))"))
        return f
    }
}
