import Logging
import NIOCore
import RocketMQRemoting
import RocketMQWire
import Tracing

/// What a local transaction, or the answer to a broker's transaction check, decided (Java's `LocalTransactionState`).
public enum TransactionResolution: Sendable, Hashable, CustomStringConvertible {
    /// Make the message visible to consumers (`COMMIT_MESSAGE`).
    case commit
    /// Discard the message (`ROLLBACK_MESSAGE`).
    case rollback
    /// Not decided yet (`UNKNOW`): the broker asks the group's ``TransactionChecker`` later.
    case unknown

    /// END_TRANSACTION's `commitOrRollback` value.
    var commitOrRollback: Int32 {
        switch self {
        case .commit: EndTransactionRequestHeader.commitType
        case .rollback: EndTransactionRequestHeader.rollbackType
        case .unknown: EndTransactionRequestHeader.unknownType
        }
    }

    public var description: String {
        switch self {
        case .commit: "commit"
        case .rollback: "rollback"
        case .unknown: "unknown"
        }
    }
}

/// The outcome of ``Producer/sendInTransaction(_:execute:)`` (Java's `TransactionSendResult`).
public struct TransactionSendResult: Sendable, Hashable {
    /// How the broker stored the half message.
    public var sendResult: SendResult
    /// What the local transaction decided, and what END_TRANSACTION told the broker.
    public var resolution: TransactionResolution
}

/// Answers a broker's check of a transactional message whose outcome the broker does not know: the message as the
/// broker stored it (real topic, properties, body), possibly sent by an earlier process of the group. A thrown error
/// answers ``TransactionResolution/unknown`` (the broker asks again later).
public typealias TransactionChecker = @Sendable (ReceivedMessage) async throws -> TransactionResolution

/// A CHECK_TRANSACTION_STATE (39) to answer.
struct TransactionCheck: Sendable {
    var header: CheckTransactionStateRequestHeader
    var message: ReceivedMessage
    /// The broker that asked: the answer goes back there.
    var address: String
}

extension Producer {
    /// Sends `message` as a transactional half message, runs `execute` (the local transaction) once the broker has
    /// stored it, and tells that broker the outcome (END_TRANSACTION): committed messages become visible to consumers,
    /// rolled-back ones never do.
    ///
    /// As Java's `sendMessageInTransaction`: the half message carries `TRAN_MSG=true` and `PGROUP`, and the prepared
    /// bit of `sysFlag`; `execute` runs only when the broker answered SEND_OK (other store statuses roll back); an error
    /// thrown by `execute` resolves ``TransactionResolution/unknown`` with its text in END_TRANSACTION's remark. When the
    /// outcome is unknown, or END_TRANSACTION is lost, the broker later asks the group's ``TransactionChecker``.
    ///
    /// - Parameters:
    ///   - message: one message (batches are not transactional); it must not be delayed (`delayLevel` or
    ///     `deliverAtMillis`).
    ///   - execute: the local transaction, given the message and how the broker stored its half message.
    /// - Throws: ``RocketMQError`` with `invalidArgument` when the producer has no transaction checker or the message
    ///   is delayed or invalid; the send's error when the half message could not be stored (then `execute` did not
    ///   run).
    public func sendInTransaction(
        _ message: Message, execute: (Message, SendResult) async throws -> TransactionResolution
    ) async throws -> TransactionSendResult {
        guard transactionChecker != nil else {
            throw RocketMQError(
                .invalidArgument,
                "a transactional send needs a transaction checker: create the producer with transactionChecker:")
        }
        guard message.delayLevel == nil, message.deliverAtMillis == nil else {
            throw RocketMQError(.invalidArgument, "transactional messages cannot be delayed (delayLevel / deliverAtMillis)")
        }
        return try await MessagingTracing.publish(message, group: configuration.group, tracer: core.tracer) { message, span in
            let result = try await sendInTransactionTraced(message, span: span, execute: execute)
            MessagingTracing.record(result.sendResult, on: span)
            span?.attributes["messaging.rocketmq.transaction.resolution"] = "\(result.resolution)"
            return result
        }
    }

    private func sendInTransactionTraced(
        _ message: Message, span: (any Span)?, execute: (Message, SendResult) async throws -> TransactionResolution
    ) async throws -> TransactionSendResult {
        let group = core.wrap(configuration.group)
        let prepared = try prepare(
            message, system: [(MessageProperty.transactionPrepared, "true"), (MessageProperty.producerGroup, group)],
            sysFlag: MessageSysFlag.transactionPreparedType)
        let sent = try await deliver(prepared, selector: nil, span: span)
        state.withLock { $0.stats.transactionsSent += 1 }
        var resolution = TransactionResolution.rollback
        var remark: String?
        if sent.status == .ok {
            do {
                resolution = try await execute(message, sent)
            } catch {
                resolution = .unknown
                remark = "executeLocalTransactionBranch exception: \(error)"
                logger.warning("local transaction failed; its outcome is unknown until the broker checks back", metadata: [
                    "msgId": "\(sent.messageID)", "error": "\(error)",
                ])
            }
        }
        // As Java's EndTransactionTraceHookImpl: recorded as END_TRANSACTION is sent, whether or not it arrives.
        messageTrace?.recordEndTransaction(
            topic: message.topic, tags: message.tags.flatMap { $0.isEmpty ? nil : $0 },
            keys: message.keys.isEmpty ? nil : message.keys.joined(separator: " "), messageID: sent.messageID,
            transactionID: sent.messageID, resolution: resolution, fromCheck: false,
            storeHost: core.masterAddress(sent.queue.brokerName) ?? "", region: nil)
        do {
            try await endTransaction(sent, resolution: resolution, remark: remark)
        } catch {
            // As Java: the outcome stands; the broker asks the checker when END_TRANSACTION does not arrive.
            logger.warning("local transaction resolved, but END_TRANSACTION failed; the broker will check back", metadata: [
                "msgId": "\(sent.messageID)", "resolution": "\(resolution)", "error": "\(error)",
            ])
        }
        return TransactionSendResult(sendResult: sent, resolution: resolution)
    }

    /// END_TRANSACTION (oneway) to the broker that stored the half message `sent`.
    func endTransaction(_ sent: SendResult, resolution: TransactionResolution, remark: String?) async throws {
        let storedID = sent.offsetMessageID.isEmpty ? sent.messageID : sent.offsetMessageID
        let commitLogOffset: Int64
        do { commitLogOffset = try MessageID.decodeOffsetMessageID(storedID).commitLogOffset } catch {
            throw RocketMQError(.protocolError, "the broker's message id \(storedID) does not decode: \(error)")
        }
        guard let address = core.masterAddress(sent.queue.brokerName) else {
            throw RocketMQError(.topicNotFound, "no master address for broker \(sent.queue.brokerName)")
        }
        let header = EndTransactionRequestHeader(
            topic: core.wrap(sent.queue.topic), producerGroup: core.wrap(configuration.group),
            tranStateTableOffset: sent.queueOffset, commitLogOffset: commitLogOffset,
            commitOrRollback: resolution.commitOrRollback, fromTransactionCheck: false, msgId: sent.messageID,
            transactionId: sent.transactionID, bname: sent.queue.brokerName)
        var request = RemotingCommand.request(.endTransaction, extFields: header.fields, oneway: true)
        request.remark = remark
        do { try await core.invokeOneway(request, address: address, timeout: configuration.sendTimeout) } catch {
            throw Self.map(error)
        }
    }

    // MARK: checks

    /// Registers the processors of requests brokers push to producers: transaction checks and replies.
    func registerPushedRequestProcessors() {
        let checks = ClosureRequestProcessor { [weak self] request, context in
            self?.receiveCheck(request, from: context.address)
            return nil
        }
        core.remoting.register(checks, for: [.checkTransactionState])
        let replies = ClosureRequestProcessor { [weak self] request, context in
            guard let self else { return RemotingCommand.response(to: request, code: .success) }
            return self.receiveReply(request, from: context.address)
        }
        core.remoting.register(replies, for: [.pushReplyMessageToClient])
    }

    /// CHECK_TRANSACTION_STATE (39, oneway): decoded and queued for ``answerTransactionChecks()``; never answered with
    /// a response frame (as Java, whatever goes wrong).
    func receiveCheck(_ request: RemotingCommand, from address: String) {
        let header: CheckTransactionStateRequestHeader
        let record: MessageRecord
        do {
            header = try CheckTransactionStateRequestHeader(command: request)
            var body = request.body ?? ByteBuffer()
            record = try MessageRecord.decode(from: &body)
        } catch {
            logger.warning("undecodable transaction check ignored", metadata: ["broker": "\(address)", "error": "\(error)"])
            return
        }
        let group = core.wrap(configuration.group)
        guard let checkedGroup = record.properties[MessageProperty.producerGroup], checkedGroup == group else {
            logger.debug("transaction check for another producer group ignored", metadata: [
                "broker": "\(address)", "group": "\(record.properties[MessageProperty.producerGroup] ?? "none")",
            ])
            return
        }
        guard transactionChecker != nil else {
            logger.warning("transaction check ignored: this producer has no transaction checker", metadata: [
                "broker": "\(address)", "msgId": "\(header.msgId ?? "")",
            ])
            return
        }
        let body: ByteBuffer
        do { body = try record.decompressedBody() } catch {
            logger.warning("transaction check with an undecompressable body ignored", metadata: ["broker": "\(address)", "error": "\(error)"])
            return
        }
        let brokerName = header.bname ?? core.brokerName(of: address) ?? ""
        let queue = MessageQueue(topic: core.unwrap(record.topic), brokerName: brokerName, queueId: record.queueId)
        var message = ReceivedMessage(record: record, queue: queue, body: body)
        message.topic = queue.topic
        if case .dropped = checks.continuation.yield(TransactionCheck(header: header, message: message, address: address)) {
            state.withLock { $0.stats.transactionChecksDropped += 1 }
            logger.warning("transaction check dropped: the check backlog is full; the broker will ask again", metadata: [
                "broker": "\(address)", "msgId": "\(message.messageID)",
            ])
        }
    }

    /// Answers queued transaction checks, ``ProducerConfiguration/transactionCheckConcurrency`` at a time, until
    /// cancelled.
    func answerTransactionChecks() async {
        guard let checker = transactionChecker else { return }
        let limit = configuration.transactionCheckConcurrency
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await check in checks.stream {
                if running >= limit {
                    await group.next()
                    running -= 1
                }
                group.addTask { await self.answer(check, checker: checker) }
                running += 1
            }
        }
    }

    /// Runs the checker on one check and sends its answer (END_TRANSACTION, `fromTransactionCheck=true`, oneway) to the
    /// broker that asked.
    private func answer(_ check: TransactionCheck, checker: TransactionChecker) async {
        var resolution = TransactionResolution.unknown
        var remark: String?
        do {
            resolution = try await checker(check.message)
        } catch {
            remark = "checkLocalTransactionState Exception: \(error)"
            logger.warning("transaction checker failed; answering unknown", metadata: [
                "msgId": "\(check.message.messageID)", "error": "\(error)",
            ])
        }
        let header = EndTransactionRequestHeader(
            topic: check.header.topic, producerGroup: core.wrap(configuration.group),
            tranStateTableOffset: check.header.tranStateTableOffset, commitLogOffset: check.header.commitLogOffset,
            commitOrRollback: resolution.commitOrRollback, fromTransactionCheck: true,
            msgId: check.message.properties[MessageProperty.uniqueKey] ?? check.message.offsetMessageID,
            transactionId: check.header.transactionId, bname: check.header.bname)
        var request = RemotingCommand.request(.endTransaction, extFields: header.fields, oneway: true)
        request.remark = remark
        if let messageTrace {
            let m = check.message
            messageTrace.recordEndTransaction(
                topic: m.topic, tags: m.tags, keys: m.properties[MessageProperty.keys], messageID: header.msgId,
                transactionID: m.properties[MessageProperty.uniqueKey] ?? check.header.transactionId, resolution: resolution,
                fromCheck: true, storeHost: check.address, region: m.properties[MessageProperty.messageRegion])
        }
        do {
            try await core.invokeOneway(request, address: check.address, timeout: configuration.sendTimeout)
            state.withLock { $0.stats.transactionChecksAnswered += 1 }
        } catch {
            logger.warning("answer to a transaction check not sent; the broker will ask again", metadata: [
                "broker": "\(check.address)", "msgId": "\(check.message.messageID)", "error": "\(error)",
            ])
        }
    }
}
