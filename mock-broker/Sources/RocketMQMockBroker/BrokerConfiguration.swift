import Foundation
import NIOCore

/// Settings of one mock broker. Defaults follow Apache RocketMQ 5.3's broker defaults where they matter to clients.
public struct MockBrokerConfiguration: Sendable {
    /// The broker name (`broker-a`, ...).
    public var name: String
    /// The cluster name.
    public var clusterName: String = "DefaultCluster"
    /// The address to listen on.
    public var host: String = "127.0.0.1"
    /// The port (0 = ephemeral).
    public var port: Int = 0
    /// Queues of an auto-created topic on this broker.
    public var defaultQueueNums: Int32 = 4
    /// Create unknown topics on first send through `TBW102` (`autoCreateTopicEnable`).
    public var autoCreateTopics = true
    /// Where messages, topics and consumer offsets persist; `nil` keeps everything in memory.
    public var dataDirectory: URL?
    /// Multiplies every delay level and transaction check time (tests use e.g. 0.001).
    public var delayScale: Double = 1.0
    /// How long a heartbeat keeps a client registered (`channelExpiredTimeout`, 120 s).
    public var clientExpiry: TimeAmount = .seconds(120)
    /// How often expired clients are scanned for (10 s in Java).
    public var clientScanInterval: TimeAmount = .seconds(10)
    /// The lease of an orderly-consume queue lock (60 s).
    public var lockLease: TimeAmount = .seconds(60)
    /// A half message becomes checkable this long after it was stored (`transactionTimeOut`, 6 s).
    public var transactionTimeout: TimeAmount = .seconds(6)
    /// How often half messages are checked (`transactionCheckInterval`, 30 s).
    public var transactionCheckInterval: TimeAmount = .seconds(30)
    /// Checks before a half message is discarded (`transactionCheckMax`, 15).
    public var transactionCheckMax = 15
    /// How long a PUSH_REPLY_MESSAGE_TO_CLIENT waits for the requester's answer (Java: 10 s).
    public var replyPushTimeout: TimeAmount = .seconds(10)
    /// Store reply messages in the reply topic after pushing them (`storeReplyMessageEnable`, true).
    public var storeReplyMessage = true
    /// The version ordinal put in every response.
    public var version: Int32 = 479
    /// Filter pulls by SQL92 expressions on message properties (`enablePropertyFilter`). On by default in the mock so
    /// that SQL92 consumers can be tested; a real broker defaults to `false` and then refuses such subscriptions
    /// (SYSTEM_ERROR "The broker does not support consumer to filter message by SQL92"), as the mock does when this
    /// is `false`.
    public var enablePropertyFilter = true
    /// POP: a message revived more often than this goes to `%DLQ%{group}` instead of the pop retry topic (16, the
    /// gRPC proxy's limit; the Java broker itself leaves the limit to consumers).
    public var popMaxReconsumeTimes = 16
    /// The largest message body accepted (4 MiB).
    public var maxMessageSize = 4 * 1024 * 1024

    /// Creates a configuration for the broker `name`.
    public init(name: String) {
        self.name = name
    }

    /// Java's `messageDelayLevel`: `1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h`.
    public static let delayLevels: [Int64] = [
        1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200,
    ].map { $0 * 1000 }

    func delay(level: Int32) -> TimeAmount {
        let index = Int(max(1, min(level, Int32(Self.delayLevels.count)))) - 1
        return .milliseconds(Int64(Double(Self.delayLevels[index]) * delayScale))
    }

    func scaled(_ amount: TimeAmount) -> TimeAmount {
        .nanoseconds(Int64(Double(amount.nanoseconds) * delayScale))
    }
}
