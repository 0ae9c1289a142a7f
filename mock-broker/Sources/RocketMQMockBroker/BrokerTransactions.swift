import Logging
import NIOCore
import RocketMQWire

/// The transactions of a broker, derived from its store as Java derives them from the half and op queues: every half
/// message copy in `RMQ_SYS_TRANS_HALF_TOPIC` belongs to the transaction named by its UNIQ_KEY (a check re-puts the
/// half as a new copy); an op message in `RMQ_SYS_TRANS_OP_HALF_TOPIC` (tag `d`, body `"<halfQueueOffset>,"`) ends
/// the transaction of the copy it names, and so does a copy discarded to `TRANS_CHECK_MAX_TIME_TOPIC`.
///
/// A transaction ends at most once, whichever copy its END_TRANSACTIONs name (Java could commit one twice when the
/// producer's own END_TRANSACTION and a check's answer both arrive).
struct TransactionTable {
    struct Pending: Equatable {
        /// The latest copy's commit-log offset.
        var commitLogOffset: Int64
        /// When the producer created the message: checks count from it.
        var bornTimestamp: Int64
        /// The CHECK_IMMUNITY_TIME_IN_SECONDS property, if set.
        var immunitySeconds: String?
    }

    /// Transactions neither committed, rolled back nor discarded, by UNIQ_KEY.
    private(set) var pending: [String: Pending] = [:]
    /// Transactions that ended, by UNIQ_KEY.
    private(set) var resolved: Set<String> = []
    /// The transaction of every half copy, by half-queue offset (what op messages name).
    private var keyByHalfOffset: [Int64: String] = [:]

    /// What identifies the transaction of a stored half copy.
    static func key(of record: MessageRecord) -> String {
        record.uniqueKey ?? "commitLogOffset:\(record.commitLogOffset)"
    }

    /// A half copy was stored in the half queue: it becomes the transaction's latest copy, unless the transaction ended.
    mutating func halfStored(_ record: MessageRecord) {
        let key = Self.key(of: record)
        keyByHalfOffset[record.queueOffset] = key
        guard !resolved.contains(key) else { return }
        pending[key] = Pending(
            commitLogOffset: record.commitLogOffset, bornTimestamp: record.bornTimestamp,
            immunitySeconds: record.properties[MessageProperty.checkImmunityTimeInSeconds])
    }

    func isResolved(_ key: String) -> Bool { resolved.contains(key) }

    /// The transaction `key` ended (committed, rolled back or discarded): it is never checked or ended again.
    mutating func resolve(_ key: String) {
        resolved.insert(key)
        pending[key] = nil
    }

    /// An op message's body: the half-queue offsets it names, each followed by `,`.
    mutating func opStored(body: ByteBuffer) {
        for offset in Self.halfOffsets(inOpBody: body) {
            if let key = keyByHalfOffset[offset] { resolve(key) }
        }
    }

    static func halfOffsets(inOpBody body: ByteBuffer) -> [Int64] {
        String(buffer: body).split(separator: ",").compactMap { Int64($0) }
    }

    /// The table a store describes: halves first (oldest copy first), then op messages and discarded copies.
    static func rebuild(from store: MessageStore) -> TransactionTable {
        var table = TransactionTable()
        func records(_ topic: String) -> [MessageRecord] {
            store.queues.filter { $0.key.topic == topic }.sorted { $0.key.queueId < $1.key.queueId }.flatMap { _, entries in
                entries.compactMap { entry -> MessageRecord? in
                    var bytes = entry.record
                    return try? MessageRecord.decode(from: &bytes)
                }
            }
        }
        for half in records(TopicConfig.halfTopic) { table.halfStored(half) }
        for op in records(TopicConfig.opHalfTopic) where op.tags == TopicConfig.opRemoveTag { table.opStored(body: op.body) }
        for discarded in records(TopicConfig.checkMaxTimeTopic) { table.resolve(key(of: discarded)) }
        return table
    }
}

extension TopicConfig {
    /// The tag of op messages (Java's `TransactionalMessageUtil.REMOVE_TAG`).
    static let opRemoveTag = "d"
}

extension MockBroker {
    /// `millis` scaled by `delayScale` (transaction timeouts and immunity times are, like delay levels).
    func scaledMillis(_ millis: Int64) -> Int64 { Int64(Double(millis) * configuration.delayScale) }

    var transactionTimeoutMillis: Int64 { scaledMillis(configuration.transactionTimeout.nanoseconds / 1_000_000) }

    /// END_TRANSACTION (37, oneway): commit puts the half message into its real topic, rollback only records the
    /// end; both write an op message. Answers as Java's `EndTransactionProcessor` (the server drops the answer of a
    /// oneway request).
    func endTransaction(_ request: RemotingCommand, from connection: MockConnection) throws -> ProcessResult {
        let header = try EndTransactionRequestHeader(fields: request.extFields ?? ExtFields())
        let commitType = EndTransactionRequestHeader.commitType
        let rollbackType = EndTransactionRequestHeader.rollbackType
        guard [EndTransactionRequestHeader.unknownType, commitType, rollbackType].contains(header.commitOrRollback) else {
            throw WireError(.invalidHeaderField, "commitOrRollback field wrong")  // Java's checkFields
        }
        let meta: Logger.Metadata = [
            "producer": "\(connection.remoteAddress)", "msgId": "\(header.msgId)",
            "commitLogOffset": "\(header.commitLogOffset)", "fromTransactionCheck": "\(header.fromTransactionCheck)",
        ]
        guard header.commitOrRollback != EndTransactionRequestHeader.unknownType else {
            logger.debug("end transaction with pending (UNKNOW) status: nothing to do", metadata: meta)
            return .none  // Java answers nothing
        }
        let commit = header.commitOrRollback == commitType
        let now = Self.nowMillis()
        let timeout = transactionTimeoutMillis
        var woken: QueueKey?
        let rejection: SendRejection? = state.withLock { s in
            guard s.running, let store = s.store else { return SendRejection(.serviceNotAvailable, "broker is stopping") }
            guard let half = store.record(atCommitLogOffset: header.commitLogOffset) else {
                return SendRejection(.systemError, "Find prepared transaction message failed")
            }
            // An END_TRANSACTION of the producer itself that comes after the immunity time: the check decides.
            if !header.fromTransactionCheck, let immunity = half.properties[MessageProperty.checkImmunityTimeInSeconds],
                !immunity.isEmpty
            {
                let limit = max(scaledMillis((Int64(immunity) ?? 0) * 1000), timeout)
                if now - half.bornTimestamp > limit {
                    logger.warning("end transaction after the check immunity time; wait for the check", metadata: meta)
                    return SendRejection(.illegalOperation, "")
                }
            }
            guard half.properties[MessageProperty.producerGroup] == header.producerGroup else {
                return SendRejection(.systemError, "The producer group wrong")
            }
            guard half.queueOffset == header.tranStateTableOffset else {
                return SendRejection(.systemError, "The transaction state table offset wrong")
            }
            guard half.commitLogOffset == header.commitLogOffset else {
                return SendRejection(.systemError, "The commit log offset wrong")
            }
            let key = TransactionTable.key(of: half)
            guard !s.transactions.isResolved(key) else {
                logger.debug("transaction already ended; END_TRANSACTION ignored", metadata: meta.merging(["transactionId": "\(key)"]) { $1 })
                return nil
            }
            guard half.topic == TopicConfig.halfTopic else {
                return SendRejection(.systemError, "Find prepared transaction message failed")
            }
            if commit {
                guard let realTopic = half.properties[MessageProperty.realTopic],
                    let realQueueId = half.properties[MessageProperty.realQueueId].flatMap({ Int32($0) })
                else {
                    return SendRejection(.systemError, "the prepared message has no REAL_TOPIC/REAL_QID")
                }
                // The properties stored are the half's, as the real 5.3.3 broker stores them (REAL_TOPIC, REAL_QID,
                // TRAN_MSG and PGROUP included: it builds the properties string before clearing them).
                var record = MessageRecord(
                    topic: realTopic, body: half.body, properties: half.properties, queueId: realQueueId, flag: half.flag,
                    sysFlag: (half.sysFlag & ~MessageSysFlag.transactionMask) | commitType,
                    bornTimestamp: half.bornTimestamp, bornHost: half.bornHost, storeHost: half.storeHost,
                    reconsumeTimes: half.reconsumeTimes, preparedTransactionOffset: header.commitLogOffset)
                ensureTopic(&s, name: realTopic, queues: max(realQueueId + 1, configuration.defaultQueueNums))
                do { _ = try store.append(&record, storeTimestamp: half.storeTimestamp) } catch {
                    return SendRejection(.systemError, "store failed: \(error)")
                }
                woken = QueueKey(topic: realTopic, queueId: realQueueId)
            }
            do { try writeOpMessage(&s, store: store, halfQueueOffset: half.queueOffset, now: now) } catch {
                logger.error("writing the op message failed", metadata: ["error": "\(error)"])
            }
            s.transactions.resolve(key)
            return nil
        }
        if let woken { wakeHolds([woken]) }
        if let rejection {
            logger.debug("end transaction refused", metadata: meta.merging(["code": "\(rejection.code)", "remark": "\(rejection.remark)"]) { $1 })
            return .respond(response(to: request, rejection.code, rejection.remark.isEmpty ? nil : rejection.remark))
        }
        return .respond(response(to: request, .success))
    }

    /// Records the end of the half copy at `halfQueueOffset` (Java's op message: tag `d`, body `"<offset>,"`).
    func writeOpMessage(_ s: inout State, store: MessageStore, halfQueueOffset: Int64, now: Int64) throws {
        ensureTopic(&s, name: TopicConfig.opHalfTopic, queues: 1)
        let host = storeHost
        var properties = MessageProperties()
        properties[MessageProperty.tags] = TopicConfig.opRemoveTag
        properties[MessageProperty.uniqueKey] = s.uniqueIDs(storeHost: host).next(nowMillis: now)
        properties[MessageProperty.waitStoreMessageOK] = "false"
        var op = MessageRecord(
            topic: TopicConfig.opHalfTopic, body: ByteBuffer(string: "\(halfQueueOffset),"), properties: properties,
            queueId: 0, bornTimestamp: now, bornHost: host, storeHost: host)
        _ = try store.append(&op, storeTimestamp: now)
    }

    /// Every `transactionCheckInterval`: each pending transaction old enough is checked with the producer group
    /// (CHECK_TRANSACTION_STATE about a new copy of the half, re-put with TRANSACTION_CHECK_TIMES incremented), or
    /// discarded to TRANS_CHECK_MAX_TIME_TOPIC once checked `transactionCheckMax` times.
    func checkTransactions() {
        let now = Self.nowMillis()
        let timeout = transactionTimeoutMillis
        let checkMax = configuration.transactionCheckMax
        let checks = state.withLock { s -> [(MockConnection, ExtFields, ByteBuffer)] in
            guard s.running, let store = s.store else { return [] }
            var out: [(MockConnection, ExtFields, ByteBuffer)] = []
            let due = s.transactions.pending.filter { _, p in
                let age = now - p.bornTimestamp
                let threshold = p.immunitySeconds.map { value in Int64(value).map { scaledMillis($0 * 1000) } ?? timeout } ?? timeout
                return age >= threshold || age < 0  // Java checks a message born "in the future" at once
            }
            for (key, pending) in due.sorted(by: { $0.value.commitLogOffset < $1.value.commitLogOffset }) {
                guard let half = store.record(atCommitLogOffset: pending.commitLogOffset) else {
                    logger.error("half message missing from the store", metadata: ["commitLogOffset": "\(pending.commitLogOffset)"])
                    continue
                }
                let checked = half.properties[MessageProperty.transactionCheckTimes].map { Int($0) ?? 0 }
                if let checked, checked >= checkMax {
                    var discarded = half
                    discarded.topic = TopicConfig.checkMaxTimeTopic
                    discarded.queueId = 0
                    ensureTopic(&s, name: TopicConfig.checkMaxTimeTopic, queues: 1)
                    do { _ = try store.append(&discarded, storeTimestamp: now) } catch {
                        logger.error("discarding a half message failed", metadata: ["error": "\(error)"])
                        continue
                    }
                    s.transactions.resolve(key)
                    logger.info("half message checked too many times; discarded", metadata: ["transactionId": "\(key)", "checks": "\(checked)"])
                    continue
                }
                // As Java: the half is re-put (and counted) before a producer connection is looked for.
                var copy = half
                copy.properties[MessageProperty.transactionCheckTimes] = String((checked ?? 0) + 1)
                do { _ = try store.append(&copy, storeTimestamp: now) } catch {
                    logger.error("re-putting a half message failed", metadata: ["error": "\(error)"])
                    continue
                }
                s.transactions.halfStored(copy)
                guard let group = copy.properties[MessageProperty.producerGroup],
                    let connection = s.registry.producerConnection(group)
                else {
                    logger.warning("check transaction failed, no connection of the producer group", metadata: [
                        "group": "\(copy.properties[MessageProperty.producerGroup] ?? "")", "transactionId": "\(key)",
                    ])
                    continue
                }
                let header = CheckTransactionStateRequestHeader(
                    topic: TopicConfig.halfTopic, tranStateTableOffset: copy.queueOffset,
                    commitLogOffset: copy.commitLogOffset, msgId: copy.uniqueKey, transactionId: copy.uniqueKey,
                    offsetMsgId: copy.offsetMessageID, bname: configuration.name)
                // The body: the new copy with its real topic and queue, and the store time of the copy it was made from.
                var message = copy
                message.topic = copy.properties[MessageProperty.realTopic] ?? copy.topic
                message.queueId = copy.properties[MessageProperty.realQueueId].flatMap { Int32($0) } ?? 0
                message.storeTimestamp = half.storeTimestamp
                guard let body = try? message.encoded() else { continue }
                out.append((connection, header.fields, body))
            }
            return out
        }
        for (connection, fields, body) in checks {
            connection.pushOneway(.checkTransactionState, fields: fields, body: body)
        }
    }
}
