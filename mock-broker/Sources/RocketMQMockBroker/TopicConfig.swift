/// A topic as one broker holds it.
public struct TopicConfig: Hashable, Sendable {
    /// Read (2) | write (4)... in Java's bit layout: 8 PRIORITY, 4 READ, 2 WRITE, 1 INHERIT.
    public struct Permission: OptionSet, Hashable, Sendable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// Queues may be read.
        public static let read = Permission(rawValue: 4)
        /// Queues may be written.
        public static let write = Permission(rawValue: 2)
        /// Other topics may inherit from it (TBW102).
        public static let inherit = Permission(rawValue: 1)
    }

    /// The topic name.
    public var name: String
    /// How many queues consumers read.
    public var readQueueNums: Int32
    /// How many queues producers write.
    public var writeQueueNums: Int32
    /// Permissions.
    public var perm: Permission
    /// Java's `topicSysFlag` (unit flags); 0 normally.
    public var topicSysFlag: Int32 = 0

    /// Creates a topic config with read = write = `queues`.
    public init(name: String, queues: Int32, perm: Permission = [.read, .write]) {
        self.name = name
        self.readQueueNums = queues
        self.writeQueueNums = queues
        self.perm = perm
    }

    /// The auto-create key topic: producers fall back to its route for unknown topics.
    public static let autoCreateKey = "TBW102"
    /// Where transactional half messages wait.
    public static let halfTopic = "RMQ_SYS_TRANS_HALF_TOPIC"
    /// Where the broker records committed and rolled-back half messages (op messages, tag `d`).
    public static let opHalfTopic = "RMQ_SYS_TRANS_OP_HALF_TOPIC"
    /// Where half messages checked `transactionCheckMax` times are discarded to.
    public static let checkMaxTimeTopic = "TRANS_CHECK_MAX_TIME_TOPIC"
    /// The delay-level parking topic.
    public static let scheduleTopic = "SCHEDULE_TOPIC_XXXX"
    /// Topics no client may send to (Java's `TopicValidator.NOT_ALLOWED_SEND_TOPIC_SET`): such a send is answered
    /// NO_PERMISSION "Sending message to topic[<topic>] is forbidden.".
    public static let notAllowedSendTopics: Set<String> = [
        scheduleTopic, halfTopic, opHalfTopic, checkMaxTimeTopic, "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT",
    ]

    /// The request-reply topic every broker of `cluster` creates (`<cluster>_REPLY_TOPIC`, 1 queue, read/write).
    public static func replyTopic(cluster: String) -> String { cluster + "_REPLY_TOPIC" }
    /// Prefix of a consumer group's retry topic.
    public static let retryPrefix = "%RETRY%"
    /// Prefix of a consumer group's dead-letter topic.
    public static let dlqPrefix = "%DLQ%"
}

/// A queue of a topic on one broker.
struct QueueKey: Hashable, Sendable {
    var topic: String
    var queueId: Int32
}
