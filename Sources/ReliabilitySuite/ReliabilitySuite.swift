// ReliabilitySuite: the client's promises under faults, one subcommand per scenario. Each prints progress lines, a
// table of figures, its goals, and one machine-readable line
//   RESULT scenario=NAME key=value ... pass=true|false
// and exits non-zero when a goal is missed. Scripts/soak.sh runs them all (quick or full lengths).
import ArgumentParser
import Foundation
import Logging

@main
struct ReliabilitySuite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ReliabilitySuite",
        abstract: "Fault scenarios against the mock broker, with figures and goals.",
        subcommands: [
            RollingRestart.self, Kill9.self, DropsAndPause.self, Churn.self, BadInput.self, Leaks.self, Soak.self,
        ])
}

/// Options every scenario takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "Library log level on stderr (trace ... critical).")
    var logLevel = "critical"

    @Option(help: "Seed for the scenario's random choices.")
    var seed: UInt64 = 42

    func bootstrapLogging() {
        let level = Logger.Level(rawValue: logLevel) ?? .critical
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// A scenario: runs, returns its figures; the shared `run()` prints them and sets the exit status.
protocol Scenario: AsyncParsableCommand {
    var common: CommonOptions { get }
    func measure() async throws -> Figures
}

extension Scenario {
    func run() async throws {
        common.bootstrapLogging()
        let figures = try await measure()
        if !figures.print() { throw ExitCode(1) }
    }
}

/// A deterministic PRNG so a scenario's choices repeat from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
