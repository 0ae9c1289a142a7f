import ArgumentParser
import Foundation
import Logging
import RocketMQ

/// `rocketmq`: the everyday command-line tool. Every command ends with one `RESULT key=value ...` line on stdout.
@main
struct RocketMQCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rocketmq",
        abstract: "Produce, consume and inspect Apache RocketMQ (remoting protocol) from the command line.",
        subcommands: [ProduceCommand.self, ConsumeCommand.self, RouteCommand.self])
}

/// Options every command shares.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Name server address(es), host:port[;host:port].")
    var namesrv: String

    @Option(name: .customLong("log-level"), help: "Log level on stderr (trace ... critical).")
    var logLevel: String = "warning"

    func clientConfiguration() throws -> ClientConfiguration {
        let config = ClientConfiguration(nameServer: namesrv)
        guard !config.nameServers.isEmpty else { throw ValidationError("--namesrv is empty") }
        for address in config.nameServers {
            guard let colon = address.lastIndex(of: ":"), Int(address[address.index(after: colon)...]) != nil else {
                throw ValidationError("--namesrv \(address) is not host:port")
            }
        }
        return config
    }

    func bootstrapLogging() {
        let level = Logger.Level(rawValue: logLevel) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes a line to stderr.
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// A one-line error (no stack trace) and a non-zero exit.
struct CLIFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension RocketMQError {
    /// A short human line for the CLI.
    var cliText: String {
        switch code {
        case .connectionFailed: return "cannot reach the server: \(remark)"
        case .timeout: return "timed out: \(remark)"
        case .topicNotFound: return "topic not found: \(remark)"
        default: return "\(code): \(remark)"
        }
    }
}
