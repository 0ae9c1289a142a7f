import ArgumentParser
import Foundation
import RocketMQ
import RocketMQWire

/// `rocketmq trace`: a message's RocketMQ message-trace records, as `mqadmin queryMsgTraceById`.
struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Print the message-trace records (Pub, SubBefore, SubAfter, EndTransaction) of a message id.",
        discussion: """
            Looks the id up in the trace topic's key index (trace messages carry the traced ids as keys) and decodes \
            the records Java's and this library's clients write. The last line is \
            RESULT id=ID records=N pub=N sub_before=N sub_after=N end_transaction=N undecodable=N.
            """)

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The message id (UNIQ_KEY, what a send returns).") var id: String
    @Option(name: .customLong("trace-topic"), help: "The trace topic.") var traceTopic = MessageTraceConfiguration.defaultTraceTopic

    func validate() throws {
        guard !id.isEmpty else { throw ValidationError("--id is empty") }
        guard !traceTopic.isEmpty else { throw ValidationError("--trace-topic is empty") }
    }

    func run() async throws {
        let messages = try await withAdmin(cluster) { try await $0.queryMessages(topic: traceTopic, key: id) }
        var records: [MessageTraceRecord] = []
        var undecodable = 0
        for message in messages {
            do {
                records += try MessageTraceCodec.decode(message.body.readableBytesView)
            } catch {
                undecodable += 1
                note("rocketmq: skipping an undecodable trace message \(message.messageID): \(error)")
            }
        }
        records = records.filter { $0.messageID == id }.sorted { $0.timestamp < $1.timestamp }
        if records.isEmpty && undecodable > 0 {
            throw CLIFailure("no decodable trace record of \(id): \(undecodable) trace message(s) could not be decoded")
        }
        var table = OperatorTable(["#Type", "#Time", "#Group", "#ClientHost", "#CostMs", "#Status", "#Topic", "#Tags", "#Keys", "#StoreHost"])
        for r in records {
            let status = r.type == .endTransaction ? "\(r.transactionState)" : (r.success ? "success" : "failed")
            table.add(
                [r.type.rawValue, timeText(r.timestamp), r.groupName, r.clientHost, String(r.costTime), status, r.topic, r.tags ?? "-",
                 r.keys ?? "-", r.storeHost],
                json: [
                    ("type", .string(r.type.rawValue)), ("timestamp", .int(r.timestamp)), ("regionId", .string(r.regionID)),
                    ("groupName", .string(r.groupName)), ("requestId", .string(r.requestID)), ("topic", .string(r.topic)),
                    ("msgId", .string(r.messageID)), ("offsetMsgId", .string(r.offsetMessageID)), ("tags", .text(r.tags)),
                    ("keys", .text(r.keys)), ("storeHost", .string(r.storeHost)), ("clientHost", .string(r.clientHost)),
                    ("bodyLength", .int(r.bodyLength)), ("costTime", .int(r.costTime)), ("success", .bool(r.success)),
                    ("retryTimes", .int(r.retryTimes)), ("contextCode", .int(r.contextCode)), ("status", .string(status)),
                ])
        }
        table.print(json: output.json)
        func count(_ type: MessageTraceType) -> Int { records.filter { $0.type == type }.count }
        print(
            "RESULT id=\(id) records=\(records.count) pub=\(count(.pub)) sub_before=\(count(.subBefore)) sub_after=\(count(.subAfter)) "
                + "end_transaction=\(count(.endTransaction)) undecodable=\(undecodable)")
    }
}
