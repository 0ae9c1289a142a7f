import NIOCore
import RocketMQWire

extension MockBroker {
    /// PULL_MESSAGE (11) / LITE_PULL_MESSAGE (361), holding PULL_NOT_FOUND answers while `SUSPEND` allows.
    func processPull(_ request: RemotingCommand, from connection: MockConnection, allowSuspend: Bool) throws -> ProcessResult {
        let header = try PullMessageRequestHeader(fields: request.extFields ?? ExtFields())
        let flags = PullSysFlag(rawValue: header.sysFlag)
        let key = QueueKey(topic: header.topic, queueId: header.queueId)

        return state.withLock { s -> ProcessResult in
            guard s.running, let store = s.store else {
                return .respond(response(to: request, .serviceNotAvailable, "broker is stopping"))
            }
            guard let topic = s.topics[header.topic] else {
                return .respond(response(to: request, .topicNotExist, "topic[\(header.topic)] not exist, apply first please!"))
            }
            guard topic.perm.contains(.read) else {
                return .respond(response(to: request, .noPermission, "the topic[\(header.topic)] pulling message is forbidden"))
            }
            guard header.queueId >= 0, header.queueId < topic.readQueueNums else {
                return .respond(response(to: request, .systemError, "queueId[\(header.queueId)] is illegal, topic:[\(header.topic)] topicConfig.readQueueNums:[\(topic.readQueueNums)]"))
            }
            // The filter: from the request (SUBSCRIPTION flag) or from the group's heartbeat.
            let subscription: SubscriptionData
            if flags.contains(.subscription) {
                do {
                    subscription = try SubscriptionData.build(
                        topic: header.topic, expression: header.subscription ?? "*", type: header.expressionType ?? "TAG")
                } catch {
                    return .respond(response(to: request, .subscriptionParseFailed, "parse the consumer's subscription failed"))
                }
            } else {
                guard s.registry.hasConsumerGroup(header.consumerGroup) else {
                    return .respond(response(to: request, .subscriptionNotExist, "the consumer's group info not exist"))
                }
                guard let stored = s.registry.subscription(group: header.consumerGroup, topic: header.topic) else {
                    return .respond(response(to: request, .subscriptionNotExist, "the consumer's subscription not exist"))
                }
                if stored.subVersion < header.subVersion {
                    return .respond(response(to: request, .subscriptionNotLatest, "the consumer's subscription not latest"))
                }
                subscription = stored
            }
            let filter: PullFilter
            if ExpressionType.isTagType(subscription.expressionType) {
                filter = subscription.subString == SubscriptionData.subAll ? .all : .tags(Set(subscription.codeSet))
            } else {
                guard configuration.enablePropertyFilter else {
                    // As a broker with enablePropertyFilter=false (Java's default) answers.
                    return .respond(response(
                        to: request, .systemError,
                        "The broker does not support consumer to filter message by \(subscription.expressionType)"))
                }
                switch Self.compile(subscription, cache: &s.sqlCache) {
                case .success(let expression):
                    filter = .sql(expression)
                case .failure(let error) where flags.contains(.subscription):
                    // Java's ConsumerFilterManager.build fails; PullMessageProcessor asserts it did not (with -ea the
                    // assertion error is answered like this; without, the pull would go unfiltered).
                    return .respond(response(to: request, .subscriptionParseFailed, "parse the consumer's subscription failed: \(error.message)"))
                case .failure(let error):
                    // The heartbeat's expression never compiled, so the broker holds no filter data for the group.
                    return .respond(response(
                        to: request, .filterDataNotExist,
                        "The broker's consumer filter data is not exist!Your expression may be wrong! (\(error.message))"))
                }
            }
            if flags.contains(.commitOffset), header.commitOffset >= 0 {
                s.offsets[offsetKey(group: header.consumerGroup, topic: header.topic), default: [:]][header.queueId] = header.commitOffset
                s.offsetsDirty = true
            }
            let result = store.get(
                key, offset: header.queueOffset, maxCount: Int(max(1, header.maxMsgNums)),
                maxBytes: Int(header.maxMsgBytes ?? Int32.max),
                filter: filter)
            // Java's commitPullOffset (every pull that reaches the store) and the group's get rate.
            let pullKey = offsetKey(group: header.consumerGroup, topic: header.topic)
            s.pullOffsets[pullKey, default: [:]][header.queueId] = result.nextBeginOffset
            if !result.records.isEmpty {
                s.getRates[pullKey, default: RateCounter()].add(result.records.count, nowMillis: Self.nowMillis())
            }
            let code = Self.responseCode(for: result, requestOffset: header.queueOffset)
            if code == .pullNotFound, allowSuspend, flags.contains(.suspend), header.suspendTimeoutMillis > 0 {
                s.nextHoldID += 1
                let id = s.nextHoldID
                let timeout = connection.channel.eventLoop.scheduleTask(in: .milliseconds(header.suspendTimeoutMillis)) { [self] in
                    expireHold(id: id, key: key)
                }
                s.holds[key, default: []].append(
                    HeldPull(
                        id: id, connection: connection, request: request, header: header, filter: filter,
                        scannedTo: header.queueOffset, timeout: timeout))
                return .none
            }
            return .respond(pullResponse(to: request, result: result, code: code))
        }
    }

    /// The compiled SQL92 expression of `subscription` (cached by text, failures too, up to 100 entries).
    static func compile(
        _ subscription: SubscriptionData, cache: inout [String: Result<SQL92Expression, WireError>]
    ) -> Result<SQL92Expression, WireError> {
        guard subscription.expressionType == ExpressionType.sql92 else {
            return .failure(WireError(.invalidFilterExpression, "unknown expression type \(subscription.expressionType)"))
        }
        if let cached = cache[subscription.subString] { return cached }
        let result: Result<SQL92Expression, WireError>
        do {
            result = .success(try SQL92Expression(parsing: subscription.subString))
        } catch let error as WireError {
            result = .failure(error)
        } catch {
            result = .failure(WireError(.invalidFilterExpression, "\(error)"))
        }
        if cache.count >= 100 { cache.removeAll(keepingCapacity: true) }
        cache[subscription.subString] = result
        return result
    }

    /// CHECK_CLIENT_CONFIG (46), as Java's `ClientManageProcessor.checkClientConfig`: tag subscriptions pass; other
    /// types are refused when property filtering is off, and must compile when it is on.
    func checkClientConfig(_ request: RemotingCommand) -> ProcessResult {
        guard let body = request.body, let json = try? JSONParser.parse(body.readableBytesView),
            let data = json["subscriptionData"], !data.isNull, let subscription = try? SubscriptionData(json: data),
            !ExpressionType.isTagType(subscription.expressionType)
        else {
            return .respond(response(to: request, .success))
        }
        guard configuration.enablePropertyFilter else {
            return .respond(response(
                to: request, .systemError,
                "The broker does not support consumer to filter message by \(subscription.expressionType)"))
        }
        let compiled = state.withLock { s in Self.compile(subscription, cache: &s.sqlCache) }
        if case .failure(let error) = compiled {
            return .respond(response(to: request, .subscriptionParseFailed, error.message))
        }
        return .respond(response(to: request, .success))
    }

    static func responseCode(for result: GetMessageResult, requestOffset: Int64) -> ResponseCode {
        switch result.status {
        case .found: return .success
        case .noMatchedMessage: return .pullRetryImmediately
        case .noMessageInQueue: return requestOffset == 0 ? .pullNotFound : .pullOffsetMoved
        case .offsetOverflowOne: return .pullNotFound
        case .offsetTooSmall, .offsetOverflowBadly: return .pullOffsetMoved
        }
    }

    func pullResponse(to request: RemotingCommand, result: GetMessageResult, code: ResponseCode) -> RemotingCommand {
        var body: ByteBuffer?
        if code == .success {
            var buffer = ByteBuffer()
            buffer.reserveCapacity(result.records.reduce(0) { $0 + $1.readableBytes })
            for var r in result.records { buffer.writeBuffer(&r) }
            body = buffer
        }
        let header = PullMessageResponseHeader(
            suggestWhichBrokerId: 0, nextBeginOffset: result.nextBeginOffset, minOffset: result.minOffset,
            maxOffset: result.maxOffset)
        return response(to: request, code, result.status.rawValue, fields: header.fields, body: body)
    }

    /// New messages in `keys`: answer the pulls held on them whose filter matches one of the messages after the
    /// held offset (Java's `PullRequestHoldService.notifyMessageArriving`); the others stay held until they match
    /// or time out.
    func wakeHolds(_ keys: [QueueKey]) {
        guard !keys.isEmpty else { return }
        wakePopHolds(keys)
        let woken = state.withLock { s -> [HeldPull] in
            var out: [HeldPull] = []
            for key in keys {
                guard let holds = s.holds[key], !holds.isEmpty else { continue }
                var kept: [HeldPull] = []
                for var hold in holds {
                    let result = s.store?.get(key, offset: hold.scannedTo, maxCount: 1, maxBytes: .max, filter: hold.filter)
                    switch result?.status {
                    case .noMatchedMessage?:
                        hold.scannedTo = result?.nextBeginOffset ?? hold.scannedTo
                        kept.append(hold)
                    case .offsetOverflowOne?:
                        kept.append(hold)
                    default:
                        out.append(hold)
                    }
                }
                s.holds[key] = kept.isEmpty ? nil : kept
            }
            return out
        }
        for hold in woken {
            hold.timeout?.cancel()
            answer(hold)
        }
    }

    private func expireHold(id: Int, key: QueueKey) {
        let hold = state.withLock { s -> HeldPull? in
            guard let index = s.holds[key]?.firstIndex(where: { $0.id == id }) else { return nil }
            return s.holds[key]?.remove(at: index)
        }
        if let hold { answer(hold) }
    }

    private func answer(_ hold: HeldPull) {
        let result = (try? processPull(hold.request, from: hold.connection, allowSuspend: false))
            ?? .respond(response(to: hold.request, .systemError, "pull failed"))
        if case .respond(let r) = result { hold.connection.send(r) }
    }

    func offsetKey(group: String, topic: String) -> String { "\(topic)@\(group)" }
}
