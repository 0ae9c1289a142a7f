import Metrics

/// Argument checks shared by producers and consumers (Java's `Validators`).
enum Validators {
    static let maxTopicLength = 127

    static func checkTopic(_ topic: String) throws {
        guard !topic.isEmpty else { throw RocketMQError(.invalidArgument, "topic is empty") }
        guard topic.utf8.count <= maxTopicLength else {
            throw RocketMQError(.invalidArgument, "topic is longer than \(maxTopicLength) characters")
        }
        var text = topic
        let allowed = text.withUTF8 { utf8 in
            utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x25 || c == 0x7C
                    || c == 0x5F || c == 0x2D
            }
        }
        guard allowed else {
            throw RocketMQError(.invalidArgument, "topic \(topic.debugDescription) contains characters other than [%|a-zA-Z0-9_-]")
        }
        guard topic != "TBW102" else { throw RocketMQError(.invalidArgument, "TBW102 is a system topic") }
    }

    static func hasSeparator(_ s: String) -> Bool {
        s.utf8.contains(1) || s.utf8.contains(2)
    }
}

/// swift-metrics instruments of a producer.
struct ProducerMetrics: Sendable {
    let sent: Counter
    let failed: Counter
    let retried: Counter
    let compressed: Counter
    let latency: Metrics.Timer

    init(group: String) {
        let dims = [("group", group)]
        sent = Counter(label: "rocketmq.producer.sent", dimensions: dims)
        failed = Counter(label: "rocketmq.producer.failed", dimensions: dims)
        retried = Counter(label: "rocketmq.producer.retries", dimensions: dims)
        compressed = Counter(label: "rocketmq.producer.compressed", dimensions: dims)
        latency = Metrics.Timer(label: "rocketmq.producer.latency", dimensions: dims)
    }

    func record(success: Bool, nanoseconds: Int64, attempts: Int) {
        if success { sent.increment() } else { failed.increment() }
        if attempts > 1 { retried.increment(by: attempts - 1) }
        latency.recordNanoseconds(nanoseconds)
    }
}
