import RocketMQWire

/// The one error type of the public API.
///
/// `code` says what kind of failure it was (extensible, so new cases do not break callers); `responseCode` and
/// `remark` carry what the broker or name server answered, when it answered; `isRetryable` says whether trying again
/// (possibly on another broker) may help.
public struct RocketMQError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        private init(_ raw: String) { self.raw = raw }

        /// An argument failed validation before anything was sent.
        public static let invalidArgument = Code("invalidArgument")
        /// The peer answered with an error response code.
        public static let brokerError = Code("brokerError")
        /// No route for the topic (name server answered TOPIC_NOT_EXIST, or no writable queue).
        public static let topicNotFound = Code("topicNotFound")
        /// Could not connect, or the connection closed before the answer.
        public static let connectionFailed = Code("connectionFailed")
        /// The deadline passed without an answer.
        public static let timeout = Code("timeout")
        /// The peer is draining (GO_AWAY) and no alternative could take the request.
        public static let goAway = Code("goAway")
        /// Bytes from the peer could not be decoded.
        public static let protocolError = Code("protocolError")
        /// The client is not running (not started, or shut down).
        public static let notRunning = Code("notRunning")
        /// The operation was cancelled.
        public static let cancelled = Code("cancelled")
        /// A request-reply call got no reply within its timeout (Java's `RequestTimeoutException`); the request
        /// itself was sent.
        public static let requestTimeout = Code("requestTimeout")
        /// A POP receipt expired (the message's invisible time ended) before its ack or invisible-time change: the
        /// message is, or will be, delivered again.
        public static let receiptExpired = Code("receiptExpired")

        public var description: String { raw }
    }

    /// The kind of failure.
    public var code: Code
    /// The response code the peer answered with, when the failure is an error response.
    public var responseCode: Int32?
    /// The peer's remark, or a description of the failure.
    public var remark: String
    /// Whether a retry (possibly on another broker) may succeed.
    public var isRetryable: Bool

    /// Creates an error.
    public init(_ code: Code, _ remark: String, responseCode: Int32? = nil, isRetryable: Bool = false) {
        self.code = code
        self.remark = remark
        self.responseCode = responseCode
        self.isRetryable = isRetryable
    }

    public var description: String {
        var text = "RocketMQError.\(code)"
        if let responseCode { text += "(\(ResponseCode(responseCode)))" }
        return text + ": \(remark)"
    }
}
