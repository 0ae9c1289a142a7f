import ArgumentParser
import Foundation
import NIOCore
import RocketMQ
import RocketMQWire

/// `rocketmq message`: find messages by key or id, as `mqadmin queryMsgByKey` / `queryMsgById` / `queryMsgByUniqueKey`.
struct MessageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "message",
        abstract: "Find messages by key (--topic T --key K) or by id (--id ID [--topic T]).",
        discussion: """
            --key asks every broker of the topic's key index (QUERY_MESSAGE). --id takes an offset message id (store \
            host + commit-log offset: VIEW_MESSAGE_BY_ID on that broker) or, with --topic, a message id (UNIQ_KEY, \
            what a send returns: the unique-key index). Each message prints its headers, properties and a body \
            preview; --json prints one JSON object per message. The last line is RESULT found=N.
            """)

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The topic.") var topic: String?
    @Option(help: "A message key (KEYS property).") var key: String?
    @Option(help: "A message id (UNIQ_KEY, with --topic) or an offset message id.") var id: String?
    @Option(help: "At most this many messages per broker for --key.") var max: Int32 = 64
    @Option(name: .customLong("body-preview"), help: "Bytes of each body to show.") var bodyPreview = 256

    func validate() throws {
        switch (key, id) {
        case (nil, nil): throw ValidationError("give --key (with --topic) or --id")
        case (.some, .some): throw ValidationError("give --key or --id, not both")
        case (.some(let key), nil):
            guard topic != nil else { throw ValidationError("--key needs --topic") }
            guard !key.isEmpty else { throw ValidationError("--key is empty") }
        case (nil, .some(let id)):
            guard !id.isEmpty, id.utf8.allSatisfy({ isHexDigit($0) }) else {
                throw ValidationError("--id must be a message id or an offset message id (hexadecimal), got '\(id)'")
            }
        }
        if let topic, topic.isEmpty { throw ValidationError("--topic is empty") }
        guard max > 0 else { throw ValidationError("--max must be positive") }
        guard bodyPreview >= 0 else { throw ValidationError("--body-preview must not be negative") }
    }

    func run() async throws {
        let found: [ReceivedMessage] = try await withAdmin(cluster) { admin in
            if let key, let topic { return try await admin.queryMessages(topic: topic, key: key, maxCount: max) }
            guard let id else { return [] }
            return try await Self.find(id: id, topic: topic, admin: admin)
        }
        var table = OperatorTable(["#MsgId", "#OffsetMsgId", "#Topic", "#Broker", "#Queue", "#Offset", "#Tags", "#Keys", "#StoreTime", "#Body"])
        for message in found {
            let preview = Self.preview(message.body, bytes: bodyPreview)
            table.add(
                [
                    message.messageID, message.offsetMessageID, message.topic, message.queue.brokerName, String(message.queue.queueId),
                    String(message.queueOffset), message.tags ?? "-", message.keys.isEmpty ? "-" : message.keys.joined(separator: " "),
                    timeText(message.storeTimestamp), preview,
                ],
                json: [
                    ("msgId", .string(message.messageID)), ("offsetMsgId", .string(message.offsetMessageID)),
                    ("topic", .string(message.topic)), ("brokerName", .string(message.queue.brokerName)),
                    ("queueId", .int(message.queue.queueId)), ("queueOffset", .int(message.queueOffset)),
                    ("keys", .array(message.keys.map(JSONValue.string))), ("tags", .text(message.tags)),
                    ("bornTimestamp", .int(message.bornTimestamp)), ("storeTimestamp", .int(message.storeTimestamp)),
                    ("bornHost", .string(message.bornHost)), ("storeHost", .string(message.storeHost)),
                    ("reconsumeTimes", .int(message.reconsumeTimes)), ("sysFlag", .int(message.sysFlag)),
                    ("commitLogOffset", .int(message.commitLogOffset)), ("bodySize", .int(message.body.readableBytes)),
                    ("properties", .object(message.properties.sorted { $0.key < $1.key }.map { JSONValue.Member(key: .string($0.key), value: .string($0.value)) })),
                    ("body", .string(preview)),
                ])
        }
        table.print(json: output.json)
        if !output.json {
            for message in found {
                let properties = message.properties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                print("PROPERTIES \(message.messageID) \(properties)")
            }
        }
        print("RESULT found=\(found.count)")
    }

    /// An offset message id of a broker of this cluster is viewed there; anything else (or one the broker does not
    /// have) is looked up as a message id in `topic`'s unique-key index.
    static func find(id: String, topic: String?, admin: Admin) async throws -> [ReceivedMessage] {
        var viewError: (any Error)?
        if let host = try? MessageID.decodeOffsetMessageID(id).storeHost {
            let known = Set(try await admin.brokerAddresses().values)
            if known.contains(host.description) || topic == nil {
                do { return [try await admin.message(offsetMessageID: id, topic: topic)] } catch { viewError = error }
            }
        }
        guard let topic else {
            if let viewError { throw viewError }
            throw RocketMQError(.invalidArgument, "\(id) is not an offset message id; give --topic to look it up as a message id")
        }
        return try await admin.messages(topic: topic, messageID: id)
    }

    static func preview(_ body: ByteBuffer, bytes: Int) -> String {
        let shown = body.getBytes(at: body.readerIndex, length: min(bytes, body.readableBytes)) ?? []
        var text = String(decoding: shown, as: UTF8.self)
            .map { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 } ?? false) ? " " : String($0) }.joined()
        if body.readableBytes > bytes { text += "…" }
        return text
    }
}

private func isHexDigit(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}
