import ArgumentParser
import Foundation
import RocketMQ

/// `rocketmq offsets`: min, max and (for a group) committed offset of every queue of a topic.
struct OffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offsets",
        abstract: "Print min/max (and a group's committed) offsets per queue.",
        discussion: """
            One line per queue: QUEUE broker=B queue=N min=N max=N [committed=N|- lag=N|-]. The last line is
            RESULT topic=T queues=N messages=N (the sum of max-min) and, with --group, committed=N (queues with a \
            committed offset) lag=N (the sum of max-committed over them).
            """)

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "The topic.") var topic: String
    @Option(help: "A consumer group whose committed offsets to show.") var group: String?

    func validate() throws {
        guard !topic.isEmpty else { throw ValidationError("--topic is empty") }
        if let group, group.isEmpty { throw ValidationError("--group is empty") }
    }

    func run() async throws {
        cluster.bootstrapLogging()
        let admin = try Admin(client: cluster.clientConfiguration())
        let offsets: [Admin.QueueOffsets]
        do {
            offsets = try await admin.queueOffsets(topic: topic, group: group)
        } catch {
            await admin.shutdown()
            throw error
        }
        await admin.shutdown()
        var messages: Int64 = 0
        var committedQueues = 0
        var lag: Int64 = 0
        for o in offsets.sorted(by: { ($0.queue.brokerName, $0.queue.queueId) < ($1.queue.brokerName, $1.queue.queueId) }) {
            messages += o.maxOffset - o.minOffset
            var line = "QUEUE broker=\(o.queue.brokerName) queue=\(o.queue.queueId) min=\(o.minOffset) max=\(o.maxOffset)"
            if group != nil {
                if let committed = o.committedOffset {
                    committedQueues += 1
                    lag += max(0, o.maxOffset - committed)
                    line += " committed=\(committed) lag=\(max(0, o.maxOffset - committed))"
                } else {
                    line += " committed=- lag=-"
                }
            }
            print(line)
        }
        var result = "RESULT topic=\(topic) queues=\(offsets.count) messages=\(messages)"
        if group != nil { result += " committed=\(committedQueues) lag=\(lag)" }
        print(result)
    }
}
