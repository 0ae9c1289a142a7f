import Foundation
import Logging
import NIOCore
import RocketMQRemoting
import RocketMQWire
import Synchronization
import Tracing

/// Request-reply calls waiting for their reply, by correlation id (Java's `RequestFutureHolder`), each with its own
/// deadline timer.
final class ReplyTable: Sendable {
    private enum Slot {
        /// Registered, waiting for the caller to park.
        case registered(deadline: NIODeadline)
        /// The caller is parked.
        case waiting(CheckedContinuation<ReceivedMessage, any Error>, Scheduled<Void>)
        /// Resolved before the caller parked.
        case done(Result<ReceivedMessage, any Error>)
    }

    private let eventLoop: any EventLoop
    private let slots = Mutex<[String: Slot]>([:])

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Calls waiting now.
    var count: Int { slots.withLock { $0.count } }

    /// Makes `id` known before its request is sent, so a reply faster than the send's answer still finds it.
    func register(_ id: String, deadline: NIODeadline) {
        slots.withLock { $0[id] = .registered(deadline: deadline) }
    }

    /// Forgets `id` (its send failed).
    func remove(_ id: String) {
        if case .waiting(_, let timer)? = slots.withLock({ $0.removeValue(forKey: id) }) { timer.cancel() }
    }

    /// Waits for `id`'s reply until its deadline (then throws `requestTimeout`) or cancellation.
    func wait(_ id: String, topic: String, timeout: Duration) async throws -> ReceivedMessage {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ReceivedMessage, any Error>) in
                let outcome = slots.withLock { slots -> Result<ReceivedMessage, any Error>? in
                    switch slots[id] {
                    case .registered(let deadline):
                        let timer = eventLoop.scheduleTask(deadline: deadline) { [self] in
                            _ = resolve(id, .failure(RocketMQError(
                                .requestTimeout,
                                "the request to \(topic) was sent, but no reply came within \(timeout)")))
                        }
                        slots[id] = .waiting(continuation, timer)
                        return nil
                    case .done(let result):
                        slots[id] = nil
                        return result
                    case .waiting, nil:
                        return .failure(RocketMQError(.cancelled, "the request was cancelled"))
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            _ = resolve(id, .failure(RocketMQError(.cancelled, "the request was cancelled")))
        }
    }

    /// Hands `id` its outcome; false when no call waits for it (it timed out, was cancelled, or never existed).
    /// `accepted` runs before the waiting call resumes (what it counts is visible to that call).
    @discardableResult
    func resolve(_ id: String, _ result: Result<ReceivedMessage, any Error>, accepted: () -> Void = {}) -> Bool {
        let waiter = slots.withLock { slots -> (CheckedContinuation<ReceivedMessage, any Error>, Scheduled<Void>)?? in
            switch slots[id] {
            case .registered:
                slots[id] = .done(result)
                return .some(nil)
            case .waiting(let continuation, let timer):
                slots[id] = nil
                return (continuation, timer)
            case .done, nil:
                return nil
            }
        }
        guard let waiter else { return false }
        accepted()
        if let (continuation, timer) = waiter {
            timer.cancel()
            continuation.resume(with: result)
        }
        return true
    }

    /// Fails every waiting call (the producer shut down).
    func failAll(_ error: RocketMQError) {
        let ids = slots.withLock { Array($0.keys) }
        for id in ids { resolve(id, .failure(error)) }
    }
}

extension Producer {
    /// Sends `message` as a request and waits for its reply (Java's `request(msg, timeout)`): RPC over RocketMQ.
    ///
    /// The request carries `CORRELATION_ID` (a fresh UUID), `REPLY_TO_CLIENT` (this client's id) and `TTL` (the
    /// timeout in ms). A consumer answers with ``reply(to:body:)``; the broker that stores the reply pushes it to this
    /// client (PUSH_REPLY_MESSAGE_TO_CLIENT), which hands it to this call. Needs ``run()``: replies arrive as requests
    /// the brokers push, which it processes.
    ///
    /// - Parameters:
    ///   - message: the request (not delayed).
    ///   - timeout: how long to wait for the reply, the send included (Java's `timeout`).
    ///   - selector: picks the queue among the topic's queues (Java's `request(msg, selector, arg, timeout)`); `nil`
    ///     sends like ``send(_:)``.
    /// - Returns: the reply: its body and properties (`CORRELATION_ID`, `REPLY_TO_CLIENT`, `TTL`, `MSG_TYPE=reply`,
    ///   `PUSH_REPLY_TIME`, `ARRIVE_TIME`, and the replier's own).
    /// - Throws: ``RocketMQError`` `requestTimeout` when no reply came in time (a reply arriving later is dropped and
    ///   counted in ``ProducerStatistics/lateReplies``); the send's error when the request could not be sent.
    public func request(
        _ message: Message, timeout: Duration = .seconds(3),
        selector: (@Sendable ([MessageQueue]) -> MessageQueue?)? = nil
    ) async throws -> ReceivedMessage {
        guard timeout > .zero else { throw RocketMQError(.invalidArgument, "the request timeout must be positive") }
        guard message.delayLevel == nil, message.deliverAtMillis == nil else {
            throw RocketMQError(.invalidArgument, "requests cannot be delayed (delayLevel / deliverAtMillis)")
        }
        return try await MessagingTracing.publish(message, group: configuration.group, tracer: core.tracer, operation: "request") { message, span in
            let reply = try await requestTraced(message, timeout: timeout, selector: selector, span: span)
            span?.attributes["messaging.rocketmq.reply.message_id"] = reply.messageID
            return reply
        }
    }

    private func requestTraced(
        _ message: Message, timeout: Duration, selector: (@Sendable ([MessageQueue]) -> MessageQueue?)?, span: (any Span)?
    ) async throws -> ReceivedMessage {
        let clock = ContinuousClock()
        let start = clock.now
        try await prepareRequestTopic(core.wrap(message.topic))
        let correlationID = UUID().uuidString.lowercased()
        let millis = Self.millis(timeout)
        var prepared = try prepare(message, system: [
            (MessageProperty.correlationId, correlationID), (MessageProperty.replyToClient, core.clientID),
            (MessageProperty.messageTTL, String(millis)),
        ])
        let remaining = timeout - (clock.now - start)
        replies.register(correlationID, deadline: .now() + TimeAmount(remaining))
        do {
            // Within the request's own deadline; a send failure is this call's failure (Java: "send request message
            // to <topic> fail").
            prepared.timeout = min(remaining, configuration.sendTimeout)
            MessagingTracing.record(try await deliver(prepared, selector: selector, span: span), on: span)
        } catch {
            replies.remove(correlationID)
            throw error
        }
        do {
            return try await replies.wait(correlationID, topic: message.topic, timeout: timeout)
        } catch var error as RocketMQError where error.code == .requestTimeout && !core.isRunning {
            error.remark += " (the producer's run() is not running: replies arrive as requests the brokers push, which run() processes)"
            throw error
        }
    }

    /// Replies to `request`, a message received from ``request(_:timeout:selector:)`` of any RocketMQ client: builds
    /// the reply as Java's `MessageUtil.createReplyMessage` (topic `<CLUSTER>_REPLY_TOPIC`, `MSG_TYPE=reply`, and the
    /// request's `CORRELATION_ID`, `REPLY_TO_CLIENT` and `TTL`) and sends it with SEND_REPLY_MESSAGE_V2; the broker
    /// pushes it to the requester.
    ///
    /// - Throws: ``RocketMQError`` `invalidArgument` when `request` is not a request (no `CLUSTER` or
    ///   `REPLY_TO_CLIENT`); the broker's error when the requester is gone (`SYSTEM_ERROR`, "push reply message
    ///   fail, channel of <id> not found.") after trying the cluster's other brokers.
    @discardableResult
    public func reply(to request: ReceivedMessage, body: ByteBuffer, properties: [String: String] = [:]) async throws -> SendResult {
        guard let cluster = request.properties[MessageProperty.cluster], !cluster.isEmpty else {
            throw RocketMQError(.invalidArgument, "create reply message fail, requestMessage error, property[CLUSTER] is null.")
        }
        guard let replyTo = request.properties[MessageProperty.replyToClient], !replyTo.isEmpty else {
            throw RocketMQError(.invalidArgument, "not a request: property REPLY_TO_CLIENT is missing")
        }
        var system: [(String, String)] = [(MessageProperty.messageType, "reply"), (MessageProperty.replyToClient, replyTo)]
        if let id = request.properties[MessageProperty.correlationId] { system.append((MessageProperty.correlationId, id)) }
        if let ttl = request.properties[MessageProperty.messageTTL] { system.append((MessageProperty.messageTTL, ttl)) }
        // The reply topic is a system topic of the cluster: not namespaced, not for Validators.checkTopic's user rules.
        var message = Message(topic: "\(cluster)_REPLY_TOPIC", body: body, properties: properties)
        message.waitStoreMessageOK = true
        var prepared = try prepare(message, system: system, namespaced: false)
        prepared.code = .sendReplyMessageV2
        return try await deliver(prepared, selector: nil)
    }

    /// Before the first request to `topic`: its route, and a heartbeat to every broker in the address table, so that
    /// whichever broker stores the reply knows this client's connection (Java's `prepareSendRequest`).
    private func prepareRequestTopic(_ topic: String) async throws {
        guard !state.withLock({ $0.requestTopics.contains(topic) }) else { return }
        do { _ = try await core.routeInfo(topic) } catch { throw Self.map(error) }
        await core.heartbeatAll()
        state.withLock { _ = $0.requestTopics.insert(topic) }
    }

    /// PUSH_REPLY_MESSAGE_TO_CLIENT (326): hands the reply to its waiting call; answers SUCCESS (also for a reply
    /// nobody waits for, as Java) or SYSTEM_ERROR "process reply message fail" when it does not decode.
    func receiveReply(_ request: RemotingCommand, from address: String) -> RemotingCommand {
        let arrived = ClientCore.nowMillis()
        let header: ReplyMessageRequestHeader
        do { header = try ReplyMessageRequestHeader(command: request) } catch {
            logger.warning("undecodable reply", metadata: ["broker": "\(address)", "error": "\(error)"])
            return RemotingCommand.response(to: request, code: .systemError, remark: "process reply message fail")
        }
        var body = request.body ?? ByteBuffer()
        if body.readableBytes > 0 {
            do {
                if let type = try MessageSysFlag.compressionType(of: header.sysFlag) {
                    body = try Compression.decompress(body, type: type)
                }
            } catch {
                logger.warning("reply body does not decompress; handing it on as sent", metadata: ["error": "\(error)"])
            }
        }
        var properties = MessageProperties(parsing: header.properties ?? "").dictionary
        properties[MessageProperty.replyMessageArriveTime] = String(arrived)
        let message = ReceivedMessage(reply: header, body: body, properties: properties, topic: core.unwrap(header.topic))
        let counted = { self.state.withLock { $0.stats.repliesReceived += 1 } }
        guard let id = properties[MessageProperty.correlationId], replies.resolve(id, .success(message), accepted: counted) else {
            state.withLock { $0.stats.lateReplies += 1 }
            logger.warning("reply matches no waiting request (timed out or cancelled); dropped", metadata: [
                "correlationId": "\(properties[MessageProperty.correlationId] ?? "none")", "from": "\(header.bornHost)",
            ])
            return RemotingCommand.response(to: request, code: .success)
        }
        return RemotingCommand.response(to: request, code: .success)
    }
}

extension ReceivedMessage {
    /// A reply pushed by PUSH_REPLY_MESSAGE_TO_CLIENT (no queue offset or commit-log offset: it was not pulled).
    init(reply header: ReplyMessageRequestHeader, body: ByteBuffer, properties: [String: String], topic: String) {
        self.topic = topic
        self.queue = MessageQueue(topic: topic, brokerName: "", queueId: header.queueId)
        self.queueOffset = -1
        self.body = body
        self.tags = properties[MessageProperty.tags]
        self.keys = (properties[MessageProperty.keys] ?? "").split(separator: " ").map(String.init)
        self.properties = properties
        self.messageID = properties[MessageProperty.uniqueKey] ?? ""
        self.offsetMessageIDText = HexIDText("")
        self.reconsumeTimes = header.reconsumeTimes ?? 0
        self.bornTimestamp = header.bornTimestamp
        self.storeTimestamp = header.storeTimestamp
        self.bornHost = header.bornHost
        self.storeHost = header.storeHost
        self.commitLogOffset = -1
        self.flag = header.flag
        self.sysFlag = header.sysFlag & ~MessageSysFlag.compressed
    }
}
