import ArgumentParser
import Foundation
import RocketMQ

/// `rocketmq route`: a topic's route as JSON.
struct RouteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "route", abstract: "Print a topic's route (queue and broker data) as JSON.")

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "The topic.") var topic: String

    func run() async throws {
        cluster.bootstrapLogging()
        let admin = try Admin(client: cluster.clientConfiguration())
        defer { Task { await admin.shutdown() } }
        do {
            guard let json = try await admin.routeJSON(topic: topic) else {
                note("rocketmq: topic \(topic) has no route")
                print("RESULT found=false")
                throw ExitCode(1)
            }
            print(json)
            print("RESULT found=true")
        } catch let error as RocketMQError {
            note("rocketmq: \(error.cliText)")
            throw ExitCode(1)
        }
        await admin.shutdown()
    }
}
