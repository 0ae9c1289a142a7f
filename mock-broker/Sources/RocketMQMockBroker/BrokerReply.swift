import Logging
import NIOCore
import RocketMQWire

extension MockBroker {
    /// SEND_REPLY_MESSAGE (324) / SEND_REPLY_MESSAGE_V2 (325), as Java's `ReplyMessageProcessor`: checked like a
    /// send, pushed to the requesting client (PUSH_REPLY_MESSAGE_TO_CLIENT, 326, awaiting its answer without blocking
    /// the event loop), then stored in the reply topic. The push's outcome decides the answer's code.
    func processReply(_ request: RemotingCommand, from connection: MockConnection) throws -> ProcessResult {
        let fields = request.extFields ?? ExtFields()
        let header = request.requestCode == .sendReplyMessage
            ? try SendMessageRequestHeader(fields: fields) : try SendMessageRequestHeader(v2Fields: fields)
        guard !TopicConfig.notAllowedSendTopics.contains(header.topic) else {
            return .respond(response(to: request, .noPermission, "Sending message to topic[\(header.topic)] is forbidden."))
        }
        let checked = state.withLock { s -> Result<(queueId: Int32, target: MockConnection?), SendRejection> in
            guard s.running, s.store != nil else { return .failure(.init(.serviceNotAvailable, "broker is stopping")) }
            let topic: TopicConfig
            switch resolveTopic(&s, name: header.topic, defaultTopic: header.defaultTopic, queueNums: header.defaultTopicQueueNums) {
            case .success(let t): topic = t
            case .failure(let rejection): return .failure(rejection)
            }
            guard header.queueId < max(topic.writeQueueNums, topic.readQueueNums) else {
                return .failure(.init(.invalidParameter, "request queueId[\(header.queueId)] is illegal, \(Self.javaDescription(topic)) Producer: \(connection.remoteAddress)"))
            }
            let queueId = header.queueId >= 0 ? header.queueId : Int32.random(in: 0..<max(1, topic.writeQueueNums))
            let target = MessageProperties(parsing: header.properties ?? "")[MessageProperty.replyToClient]
                .flatMap { s.registry.connection(clientID: $0) }
            return .success((queueId, target))
        }
        let queueId: Int32
        let target: MockConnection?
        switch checked {
        case .failure(let rejection): return .respond(response(to: request, rejection.code, rejection.remark))
        case .success(let c): (queueId, target) = c
        }

        let body = request.body ?? ByteBuffer()
        var properties = MessageProperties(parsing: header.properties ?? "")
        // Stored as received: the request's properties string, no sysFlag, no CLUSTER (unlike a send).
        let record = MessageRecord(
            topic: header.topic, body: body, properties: properties, queueId: queueId, flag: header.flag,
            bornTimestamp: header.bornTimestamp,
            bornHost: connection.remoteHost ?? MessageHost(ip: [127, 0, 0, 1], port: 0),
            storeHost: storeHost, reconsumeTimes: header.reconsumeTimes ?? 0)
        guard let senderID = properties[MessageProperty.replyToClient] else {
            logger.warning("REPLY_TO_CLIENT is null, can not reply message")
            return .respond(finishReply(request, record, failure: "reply message properties[REPLY_TO_CLIENT] is null"))
        }
        guard let target else {
            let remark = "push reply message fail, channel of <\(senderID)> not found."
            logger.warning("\(remark)")
            return .respond(finishReply(request, record, failure: remark))
        }
        let now = Self.nowMillis()
        properties[MessageProperty.pushReplyTime] = String(now)
        let push = ReplyMessageRequestHeader(
            producerGroup: header.producerGroup, topic: header.topic, defaultTopic: header.defaultTopic,
            defaultTopicQueueNums: header.defaultTopicQueueNums, queueId: header.queueId, sysFlag: header.sysFlag,
            bornTimestamp: header.bornTimestamp, flag: header.flag, properties: properties.encoded,
            reconsumeTimes: header.reconsumeTimes, unitMode: header.unitMode ?? false,
            bornHost: Self.hostAndPort(connection.channel.remoteAddress) ?? connection.remoteAddress,
            storeHost: address, storeTimestamp: now)
        let failure = "push reply message to \(senderID)fail."  // sic: Java's remark has no space
        let answered = target.pushRequest(.pushReplyMessageToClient, fields: push.fields, body: body, timeout: configuration.replyPushTimeout)
            .map { [logger] answer -> String? in
                guard answer.responseCode != .success else { return nil }
                logger.warning("push reply message returned a failure", metadata: [
                    "client": "\(senderID)", "code": "\(answer.code)", "remark": "\(answer.remark ?? "")",
                ])
                return failure
            }
            .recover { [logger] error -> String? in
                logger.warning("push reply message failed", metadata: ["client": "\(senderID)", "error": "\(error)"])
                return failure
            }
        return .later(answered.hop(to: connection.channel.eventLoop).map { [self] failure in
            finishReply(request, record, failure: failure)
        })
    }

    /// The answer to a reply whose push ended with `failure` (nil: pushed): SUCCESS with msgId "0" and queue offset
    /// 0, or SYSTEM_ERROR with the remark; then, with `storeReplyMessage`, the reply is stored whatever the push did
    /// and the answer names the stored message.
    private func finishReply(_ request: RemotingCommand, _ record: MessageRecord, failure: String?) -> RemotingCommand {
        var header = failure == nil ? SendMessageResponseHeader(msgId: "0", queueId: record.queueId, queueOffset: 0) : nil
        if configuration.storeReplyMessage {
            let stored = state.withLock { s -> MessageRecord? in
                guard s.running, let store = s.store else { return nil }
                var r = record
                do { _ = try store.append(&r, storeTimestamp: Self.nowMillis()) } catch {
                    logger.error("storing a reply message failed", metadata: ["error": "\(error)"])
                    return nil
                }
                return r
            }
            if let stored {
                header = SendMessageResponseHeader(msgId: stored.offsetMessageID, queueId: record.queueId, queueOffset: stored.queueOffset)
                wakeHolds([QueueKey(topic: stored.topic, queueId: stored.queueId)])
            }
        }
        var fields = ExtFields()
        fields.javaInitialCapacity = 256  // Java adds MSG_REGION/TRACE_ON with addExtField first
        fields["MSG_REGION"] = "DefaultRegion"
        fields["TRACE_ON"] = "true"
        header?.encode(into: &fields)
        return response(to: request, failure == nil ? .success : .systemError, failure, fields: fields)
    }

    /// `ip:port` as Java's `InetAddress.getHostAddress() + ":" + port` (no brackets around IPv6).
    static func hostAndPort(_ address: SocketAddress?) -> String? {
        guard let address, let ip = address.ipAddress, let port = address.port else { return nil }
        return "\(ip):\(port)"
    }

    /// Java's `TopicConfig.toString()`, as the queue-id check's remark quotes it.
    static func javaDescription(_ topic: TopicConfig) -> String {
        var perm = ""
        perm += topic.perm.contains(.read) ? "R" : "-"
        perm += topic.perm.contains(.write) ? "W" : "-"
        perm += topic.perm.contains(.inherit) ? "X" : "-"
        return "TopicConfig [topicName=\(topic.name), readQueueNums=\(topic.readQueueNums), writeQueueNums=\(topic.writeQueueNums), perm=\(perm), topicFilterType=SINGLE_TAG, topicSysFlag=\(topic.topicSysFlag), order=false, attributes={}]"
    }
}
