import ArgumentParser
import Foundation
import RocketMQ

/// `rocketmq topic`: topic administration.
struct TopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic", abstract: "Topic administration.",
        subcommands: [TopicCreateCommand.self, TopicListCommand.self, TopicStatsCommand.self])
}

/// `rocketmq topic create`: creates or updates a topic, as `mqadmin updateTopic`.
struct TopicCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create (or update) a topic on every broker of the cluster, or on the named ones.",
        discussion: "The last line is RESULT created=true topic=T queues=N brokers=B1,B2.")

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "The topic.") var topic: String
    @Option(help: "Read and write queues per broker.") var queues: Int32 = 8
    @Option(name: .customLong("broker"), help: "Only this broker (repeatable); default: every broker.")
    var brokers: [String] = []

    func validate() throws {
        guard (1...1024).contains(queues) else { throw ValidationError("--queues must be between 1 and 1024") }
        guard !brokers.contains(where: \.isEmpty) else { throw ValidationError("--broker is empty") }
    }

    func run() async throws {
        cluster.bootstrapLogging()
        let admin = try Admin(client: cluster.clientConfiguration())
        let created: [String]
        do {
            created = try await admin.createTopic(topic, queues: queues, brokers: brokers.isEmpty ? nil : brokers)
        } catch {
            await admin.shutdown()
            throw error
        }
        await admin.shutdown()
        print("RESULT created=true topic=\(topic) queues=\(queues) brokers=\(created.joined(separator: ","))")
    }
}
