import ArgumentParser
import Foundation
import RocketMQ
import RocketMQWire

/// `rocketmq lag`: a consumer group's progress, as `mqadmin consumerProgress`.
struct LagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag",
        abstract: "Print a consumer group's broker offset, consumer offset, lag and last consume time per queue.",
        discussion: """
            GET_CONSUME_STATS on every broker of the group. The last line is RESULT group=G lag=N queues=K, where lag \
            is the sum of broker offset - consumer offset ("Consume Diff Total" in mqadmin consumerProgress).
            """)

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The consumer group.") var group: String
    @Option(help: "Only this topic.") var topic: String?

    func validate() throws {
        guard !group.isEmpty else { throw ValidationError("--group is empty") }
        if let topic, topic.isEmpty { throw ValidationError("--topic is empty") }
    }

    func run() async throws {
        let progress = try await withAdmin(cluster) { try await $0.progress(group: group, topic: topic) }
        var table = OperatorTable(["#Topic", "#Broker", "#Queue", "#BrokerOffset", "#ConsumerOffset", "#Lag", "#LastConsumeTime"])
        for q in progress.queues {
            table.add(
                [q.queue.topic, q.queue.brokerName, String(q.queue.queueId), String(q.brokerOffset), String(q.consumerOffset), String(q.lag),
                 timeText(q.lastConsumeTimestamp)],
                json: [
                    ("topic", .string(q.queue.topic)), ("brokerName", .string(q.queue.brokerName)), ("queueId", .int(q.queue.queueId)),
                    ("brokerOffset", .int(q.brokerOffset)), ("consumerOffset", .int(q.consumerOffset)), ("pullOffset", .int(q.pullOffset)),
                    ("lag", .int(q.lag)), ("lastTimestamp", .int(q.lastConsumeTimestamp)),
                ])
        }
        table.print(json: output.json)
        print("RESULT group=\(group) lag=\(progress.totalLag) queues=\(progress.queues.count) consume_tps=\(String(format: "%.1f", progress.consumeTPS))")
    }
}

/// `rocketmq group`: consumer group inspection.
struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Consumer group inspection.", subcommands: [GroupConnectionsCommand.self])
}

/// `rocketmq group connections`: who consumes for a group, as `mqadmin consumerConnection`.
struct GroupConnectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connections",
        abstract: "Print a consumer group's connected clients (id, address, language, version) and subscriptions.",
        discussion: "GET_CONSUMER_CONNECTION_LIST. The last line is RESULT group=G connections=N subscriptions=M.")

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The consumer group.") var group: String

    func validate() throws {
        guard !group.isEmpty else { throw ValidationError("--group is empty") }
    }

    func run() async throws {
        let info = try await withAdmin(cluster) { try await $0.connections(group: group) }
        var table = OperatorTable(["#ClientId", "#Address", "#Language", "#Version"])
        let subscriptions = info.subscriptions.sorted { $0.key < $1.key }
        for client in info.clients {
            table.add(
                [client.clientID, client.address, client.language, client.version.description],
                json: [
                    ("clientId", .string(client.clientID)), ("clientAddr", .string(client.address)), ("language", .string(client.language)),
                    ("version", .int(client.version.rawValue)), ("versionDesc", .string(client.version.description)),
                    ("consumeType", .text(info.consumeType)), ("messageModel", .text(info.messageModel)),
                    ("consumeFromWhere", .text(info.consumeFromWhere)),
                    ("subscriptions", .object(subscriptions.map { JSONValue.Member(key: .string($0.key), value: .string($0.value)) })),
                ])
        }
        table.print(json: output.json)
        if !output.json {
            for (topic, expression) in subscriptions { print("SUBSCRIPTION topic=\(topic) expression=\(expression)") }
            print("CONSUME type=\(info.consumeType ?? "-") model=\(info.messageModel ?? "-") from=\(info.consumeFromWhere ?? "-")")
        }
        print("RESULT group=\(group) connections=\(info.clients.count) subscriptions=\(subscriptions.count)")
    }
}

/// `rocketmq topic list`: every topic of the name server.
struct TopicListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the name server's topics.",
        discussion: "GET_ALL_TOPIC_LIST_FROM_NAMESERVER. The last line is RESULT topics=N.")

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let topics = try await withAdmin(cluster) { try await $0.topics() }
        var table = OperatorTable(["#Topic"])
        for topic in topics { table.add([topic], json: [("topic", .string(topic))]) }
        table.print(json: output.json)
        print("RESULT topics=\(topics.count)")
    }
}

/// `rocketmq topic stats`: a topic's queues, as `mqadmin topicStatus`.
struct TopicStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Print a topic's min/max offset and last update time per queue.",
        discussion: "GET_TOPIC_STATS_INFO on each broker. The last line is RESULT topic=T queues=K messages=N (the sum of max-min).")

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The topic.") var topic: String

    func validate() throws {
        guard !topic.isEmpty else { throw ValidationError("--topic is empty") }
    }

    func run() async throws {
        let stats = try await withAdmin(cluster) { try await $0.stats(topic: topic) }
        var table = OperatorTable(["#Broker", "#Queue", "#MinOffset", "#MaxOffset", "#LastUpdated"])
        var messages: Int64 = 0
        for q in stats {
            messages += q.maxOffset - q.minOffset
            table.add(
                [q.queue.brokerName, String(q.queue.queueId), String(q.minOffset), String(q.maxOffset), timeText(q.lastUpdateTimestamp)],
                json: [
                    ("brokerName", .string(q.queue.brokerName)), ("queueId", .int(q.queue.queueId)), ("minOffset", .int(q.minOffset)),
                    ("maxOffset", .int(q.maxOffset)), ("lastUpdateTimestamp", .int(q.lastUpdateTimestamp)),
                ])
        }
        table.print(json: output.json)
        print("RESULT topic=\(topic) queues=\(stats.count) messages=\(messages)")
    }
}
