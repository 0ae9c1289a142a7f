import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import RocketMQMockBroker
import UnixSignals

/// `mock-broker`: a name server and N brokers in one process, speaking RocketMQ's remoting protocol.
@main
struct MockBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-broker",
        abstract: "A RocketMQ name server and brokers in one process (remoting protocol, V5_3_3).",
        discussion: """
            When ready it prints one line to stdout and flushes it:
              READY namesrv=HOST:PORT brokers=NAME@HOST:PORT,NAME@HOST:PORT
            Logs go to stderr. SIGTERM or SIGINT drains gracefully: the brokers leave the routes, answer GO_AWAY to
            clients above V5_3_1 for --grace-period seconds, then the process exits 0.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .customLong("namesrv-port"), help: "Name server port (0 = pick a free port).")
    var namesrvPort = 9876

    @Option(help: "Number of brokers (broker-a, broker-b, ...).")
    var brokers = 1

    @Option(name: .customLong("broker-port"), help: "First broker's port; broker i listens on this port + i (0 = free ports).")
    var brokerPort = 10911

    @Option(help: "Queues per topic per broker for auto-created topics.")
    var queues: Int32 = 4

    @Option(name: .customLong("data-dir"), help: "Persist messages, topics and consumer offsets here (default: memory only).")
    var dataDir: String?

    @Option(name: .customLong("grace-period"), help: "Seconds to answer GO_AWAY while draining.")
    var gracePeriod: Double = 5

    @Option(help: "Cluster name.")
    var cluster = "DefaultCluster"

    @Option(name: .customLong("delay-scale"), help: "Multiplier for delay levels and transaction checks (e.g. 0.01 for tests).")
    var delayScale: Double = 1

    @Option(name: .customLong("transaction-check-interval-ms"), help: "How often half messages are checked (transactionCheckInterval; scaled by --delay-scale).")
    var transactionCheckIntervalMs: Int64 = 30_000

    @Option(name: .customLong("transaction-timeout-ms"), help: "Age at which a half message is first checked (transactionTimeOut; scaled by --delay-scale).")
    var transactionTimeoutMs: Int64 = 6_000

    @Option(name: .customLong("transaction-check-max"), help: "Checks before a half message is discarded to TRANS_CHECK_MAX_TIME_TOPIC (transactionCheckMax).")
    var transactionCheckMax = 15

    @Flag(name: .customLong("no-auto-create"), help: "Do not auto-create topics on first send (autoCreateTopicEnable=false).")
    var noAutoCreate = false

    @Flag(name: .customLong("disable-property-filter"), help: "Refuse SQL92 subscriptions like a broker with enablePropertyFilter=false (Java's default).")
    var disablePropertyFilter = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard brokers >= 1, brokers <= 64 else { throw ValidationError("--brokers must be between 1 and 64") }
        guard (0...65535).contains(namesrvPort), (0...65535).contains(brokerPort) else {
            throw ValidationError("ports must be between 0 and 65535")
        }
        guard brokerPort == 0 || brokerPort + brokers - 1 <= 65535 else {
            throw ValidationError("--broker-port + --brokers exceeds 65535")
        }
        guard queues >= 1, queues <= 1024 else { throw ValidationError("--queues must be between 1 and 1024") }
        guard gracePeriod >= 0, delayScale > 0 else { throw ValidationError("--grace-period and --delay-scale must be positive") }
        guard transactionCheckIntervalMs > 0, transactionTimeoutMs >= 0, transactionCheckMax >= 0 else {
            throw ValidationError("--transaction-check-interval-ms must be positive; --transaction-timeout-ms and --transaction-check-max not negative")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mock-broker")
        var config = MockCluster.Configuration(
            brokers: brokers, firstBrokerPort: brokerPort, queues: queues,
            dataDirectory: dataDir.map { URL(fileURLWithPath: $0, isDirectory: true) })
        config.host = host
        config.nameServerPort = namesrvPort
        config.forEachBroker {
            $0.clusterName = cluster
            $0.delayScale = delayScale
            $0.autoCreateTopics = !noAutoCreate
            $0.enablePropertyFilter = !disablePropertyFilter
            $0.transactionCheckInterval = .milliseconds(transactionCheckIntervalMs)
            $0.transactionTimeout = .milliseconds(transactionTimeoutMs)
            $0.transactionCheckMax = transactionCheckMax
        }
        // Trap the signals before announcing readiness, so a SIGTERM right after READY is never lost.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let mock = try await MockCluster.start(config, logger: logger)
        let brokerList = mock.brokers.map { "\($0.name)@\($0.address)" }.joined(separator: ",")
        FileHandle.standardOutput.write(Data("READY namesrv=\(mock.nameServerAddress) brokers=\(brokerList)\n".utf8))
        for await signal in signals {
            logger.notice("received \(signal); draining for \(gracePeriod) s")
            break
        }
        let grace = Duration.milliseconds(Int64(gracePeriod * 1000))
        await withTaskGroup(of: Void.self) { group in
            for broker in mock.brokers {
                group.addTask { await broker.drain(grace: grace) }
            }
        }
        await mock.shutdown()
        logger.notice("drained; exiting")
    }
}
