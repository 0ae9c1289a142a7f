import ArgumentParser
import Foundation
import Logging
import RocketMQ
import RocketMQRemoting

/// `rocketmq`: the everyday command-line tool. Every command ends with one `RESULT key=value ...` line on stdout.
@main
struct RocketMQCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rocketmq",
        abstract: "Produce, consume and inspect Apache RocketMQ (remoting protocol) from the command line.",
        subcommands: [
            ProduceCommand.self, ConsumeCommand.self, RouteCommand.self, OffsetsCommand.self, TopicCommand.self,
            BenchCommand.self, RequestCommand.self, ReplyCommand.self, PopCommand.self, MessageCommand.self, LagCommand.self,
            GroupCommand.self, TraceCommand.self,
        ])

    /// Parses and runs; any failure is one line on stderr (`rocketmq: ...`) and a non-zero exit, never a trace.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if let code = error as? ExitCode { Foundation.exit(code.rawValue) }
            let exitCode = Self.exitCode(for: error)
            // Help and version requests print their text and exit 0.
            if exitCode == .success { Self.exit(withError: error) }
            note("rocketmq: " + oneLine(describe(error)))
            Foundation.exit(exitCode.rawValue)
        }
    }

    /// A human description of any error the commands throw.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let e as RocketMQError: return e.cliText
        case let e as RemotingError: return e.cliText
        case let e as CLIFailure: return e.description
        default: return message(for: error)
        }
    }

    /// The first line of `text`, trimmed (argument-parser messages can carry a help block).
    static func oneLine(_ text: String) -> String {
        let first = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        return first.trimmingCharacters(in: .whitespaces)
    }
}

/// Options every command shares.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Name server address(es), host:port[;host:port].")
    var namesrv: String

    @Option(name: .customLong("log-level"), help: "Log level on stderr (trace ... critical).")
    var logLevel: String = "warning"

    @Option(
        name: .customLong("request-timeout"),
        help: "Seconds to wait for each answer to a name server request (route, cluster info) and to heartbeats (Java's mqClientApiTimeout, 3).")
    var requestTimeout: Double = 3

    func validate() throws {
        _ = try Self.parse(nameServer: namesrv)
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        try Self.validateSeconds(requestTimeout, "--request-timeout")
    }

    func clientConfiguration() throws -> ClientConfiguration {
        var config = try Self.parse(nameServer: namesrv)
        config.requestTimeout = Self.duration(seconds: requestTimeout)
        return config
    }

    /// A positive number of seconds, at most a day.
    static func validateSeconds(_ seconds: Double, _ option: String) throws {
        guard seconds > 0, seconds <= 86_400 else { throw ValidationError("\(option) must be in (0, 86400] seconds") }
    }

    static func duration(seconds: Double) -> Duration { .milliseconds(Int64((seconds * 1000).rounded())) }

    /// A client configuration for `host:port[;host:port]`, or a validation error naming the bad part.
    static func parse(nameServer: String) throws -> ClientConfiguration {
        let config = ClientConfiguration(nameServer: nameServer)
        guard !config.nameServers.isEmpty else { throw ValidationError("--namesrv is empty") }
        for address in config.nameServers {
            guard let colon = address.lastIndex(of: ":"), colon != address.startIndex,
                let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port)
            else {
                throw ValidationError("--namesrv \(address) is not host:port")
            }
        }
        return config
    }

    func bootstrapLogging() { Self.bootstrapLogging(level: logLevel) }

    /// Log lines at `level` and above go to stderr.
    static func bootstrapLogging(level: String) {
        let level = Logger.Level(rawValue: level) ?? .warning
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
        case .connectionFailed: return "cannot reach \(peerAddress(in: remark) ?? "the server"): \(shortReason(remark))"
        case .invalidArgument: return "invalid argument: \(remark)"
        case .timeout: return "timed out: \(remark)"
        case .topicNotFound: return "topic not found: \(remark)"
        case .protocolError:
            let peer = peerAddress(in: remark) ?? "the server"
            return "\(peer) does not answer like a RocketMQ server (\(remark))"
        default: return "\(code): \(remark)"
        }
    }
}

extension RemotingError {
    /// A short human line for the CLI.
    var cliText: String {
        let peer = address ?? "the server"
        switch kind {
        case .connectFailed, .reconnectBackoff, .channelClosed: return "cannot reach \(peer): \(shortReason(message))"
        case .timeout: return "timed out waiting for \(peer): \(message)"
        case .invalidAddress: return "bad address \(peer): \(message)"
        default: return "\(kind) from \(peer): \(message)"
        }
    }
}

/// The `host:port` inside the first `[...]` of a remoting error text.
func peerAddress(in text: String) -> String? {
    guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else { return nil }
    let inside = text[text.index(after: open)..<close]
    return inside.contains(":") && !inside.contains(" ") ? String(inside) : nil
}

/// The operating system's reason inside a (long, nested) connect error, when it names a common one.
func shortReason(_ text: String) -> String {
    let known = [
        "Connection refused", "No route to host", "Network is unreachable", "Connection reset by peer",
        "Host is down", "Name or service not known", "nodename nor servname provided",
    ]
    for reason in known where text.contains(reason) { return reason.lowercased() }
    if text.contains("connectTimeout") || text.contains("timed out") { return "connect timed out" }
    if text.contains("channelClosed") || text.contains("closed") { return "connection closed" }
    return text
}

/// Fails fast, with one clear error, when no name server answers (GET_BROKER_CLUSTER_INFO).
func checkNameServer(_ configuration: ClientConfiguration) async throws {
    let admin = try Admin(client: configuration)
    do {
        _ = try await admin.brokerAddresses()
    } catch {
        await admin.shutdown()
        throw error
    }
    await admin.shutdown()
}
