/// Well-known property names (Java's `MessageConst`, PROTOCOL.md §7).
public enum MessageProperty {
    /// `UNIQ_KEY`: the client message id (PROTOCOL.md §5.6).
    public static let uniqueKey = "UNIQ_KEY"
    /// `KEYS`: user keys, several joined with a single space.
    public static let keys = "KEYS"
    /// `TAGS`: the message tag.
    public static let tags = "TAGS"
    /// `WAIT`: `"true"`/`"false"`, whether the broker should wait for the store before answering.
    public static let waitStoreMessageOK = "WAIT"
    /// `DELAY`: delay level 1-18; `-1` marks a dead letter.
    public static let delayTimeLevel = "DELAY"
    /// `RETRY_TOPIC`: the original topic of a retried message.
    public static let retryTopic = "RETRY_TOPIC"
    /// `REAL_TOPIC`: the real topic while a message is parked in a system topic.
    public static let realTopic = "REAL_TOPIC"
    /// `REAL_QID`: the real queue id while a message is parked in a system topic.
    public static let realQueueId = "REAL_QID"
    /// `TRAN_MSG`: `"true"` on transactional half messages.
    public static let transactionPrepared = "TRAN_MSG"
    /// `PGROUP`: the producer group of a transactional message.
    public static let producerGroup = "PGROUP"
    /// `MIN_OFFSET`: client-side, from the pull response.
    public static let minOffset = "MIN_OFFSET"
    /// `MAX_OFFSET`: client-side, from the pull response.
    public static let maxOffset = "MAX_OFFSET"
    /// `BUYER_ID`.
    public static let buyerId = "BUYER_ID"
    /// `ORIGIN_MESSAGE_ID`: the original id of a retried message.
    public static let originMessageId = "ORIGIN_MESSAGE_ID"
    /// `TRANSFER_FLAG`.
    public static let transferFlag = "TRANSFER_FLAG"
    /// `CORRECTION_FLAG`.
    public static let correctionFlag = "CORRECTION_FLAG"
    /// `MQ2_FLAG`.
    public static let mq2Flag = "MQ2_FLAG"
    /// `RECONSUME_TIME`: the retry count carried when re-sending to `%RETRY%`.
    public static let reconsumeTime = "RECONSUME_TIME"
    /// `MSG_REGION`: the broker's region.
    public static let messageRegion = "MSG_REGION"
    /// `TRACE_ON`: whether tracing is on.
    public static let traceSwitch = "TRACE_ON"
    /// `EXTEND_UNIQ_INFO`.
    public static let extendUniqueInfo = "EXTEND_UNIQ_INFO"
    /// `MAX_RECONSUME_TIMES`: the retry limit carried when re-sending to `%RETRY%`.
    public static let maxReconsumeTimes = "MAX_RECONSUME_TIMES"
    /// `CONSUME_START_TIME`: client-side, when the listener was invoked.
    public static let consumeStartTimestamp = "CONSUME_START_TIME"
    /// `INNER_NUM`.
    public static let innerNumber = "INNER_NUM"
    /// `INNER_BASE`.
    public static let innerBase = "INNER_BASE"
    /// `CHECK_IMMUNITY_TIME_IN_SECONDS`: first-check delay override for half messages.
    public static let checkImmunityTimeInSeconds = "CHECK_IMMUNITY_TIME_IN_SECONDS"
    /// `TRAN_PREPARED_QUEUE_OFFSET`.
    public static let transactionPreparedQueueOffset = "TRAN_PREPARED_QUEUE_OFFSET"
    /// `__transactionId__`: user property set after a transactional send.
    public static let transactionId = "__transactionId__"
    /// `TRANSACTION_CHECK_TIMES`.
    public static let transactionCheckTimes = "TRANSACTION_CHECK_TIMES"
    /// `INSTANCE_ID`: the namespace.
    public static let instanceId = "INSTANCE_ID"
    /// `CORRELATION_ID`: request-reply.
    public static let correlationId = "CORRELATION_ID"
    /// `REPLY_TO_CLIENT`: request-reply.
    public static let replyToClient = "REPLY_TO_CLIENT"
    /// `TTL`: request-reply.
    public static let messageTTL = "TTL"
    /// `ARRIVE_TIME`: request-reply.
    public static let replyMessageArriveTime = "ARRIVE_TIME"
    /// `PUSH_REPLY_TIME`: request-reply.
    public static let pushReplyTime = "PUSH_REPLY_TIME"
    /// `CLUSTER`: the broker cluster name stamped on store.
    public static let cluster = "CLUSTER"
    /// `MSG_TYPE`: request-reply.
    public static let messageType = "MSG_TYPE"
    /// `POP_CK`: pop consumers.
    public static let popCheckpoint = "POP_CK"
    /// `POP_CK_OFFSET`: pop consumers.
    public static let popCheckpointOffset = "POP_CK_OFFSET"
    /// `1ST_POP_TIME`: pop consumers.
    public static let firstPopTime = "1ST_POP_TIME"
    /// `__SHARDINGKEY`.
    public static let shardingKey = "__SHARDINGKEY"
    /// `PROPERTY_FORWARD_QUEUE_ID`.
    public static let forwardQueueId = "PROPERTY_FORWARD_QUEUE_ID"
    /// `REDIRECT`.
    public static let redirect = "REDIRECT"
    /// `INNER_MULTI_DISPATCH`.
    public static let innerMultiDispatch = "INNER_MULTI_DISPATCH"
    /// `INNER_MULTI_QUEUE_OFFSET`.
    public static let innerMultiQueueOffset = "INNER_MULTI_QUEUE_OFFSET"
    /// `TRACE_CONTEXT`.
    public static let traceContext = "TRACE_CONTEXT"
    /// `TIMER_DELAY_SEC`: 5.x timer, relative seconds.
    public static let timerDelaySeconds = "TIMER_DELAY_SEC"
    /// `TIMER_DELIVER_MS`: 5.x timer, absolute delivery time in ms.
    public static let timerDeliverMilliseconds = "TIMER_DELIVER_MS"
    /// `TIMER_DELAY_MS`: 5.x timer, relative ms.
    public static let timerDelayMilliseconds = "TIMER_DELAY_MS"
    /// `TIMER_ENQUEUE_MS`: broker-internal timer bookkeeping.
    public static let timerEnqueueMilliseconds = "TIMER_ENQUEUE_MS"
    /// `TIMER_DEQUEUE_MS`: broker-internal timer bookkeeping.
    public static let timerDequeueMilliseconds = "TIMER_DEQUEUE_MS"
    /// `TIMER_ROLL_TIMES`: broker-internal timer bookkeeping.
    public static let timerRollTimes = "TIMER_ROLL_TIMES"
    /// `TIMER_OUT_MS`: broker-internal timer bookkeeping.
    public static let timerOutMilliseconds = "TIMER_OUT_MS"
    /// `TIMER_DEL_UNIQKEY`: broker-internal timer bookkeeping.
    public static let timerDeleteUniqueKey = "TIMER_DEL_UNIQKEY"
    /// `TIMER_DELAY_LEVEL`: broker-internal timer bookkeeping.
    public static let timerDelayLevel = "TIMER_DELAY_LEVEL"
    /// `__BORNHOST`.
    public static let bornHost = "__BORNHOST"
    /// `BORN_TIMESTAMP`.
    public static let bornTimestamp = "BORN_TIMESTAMP"
    /// `__CRC32#`: only if the broker's `enabledAppendPropCRC` is on.
    public static let crc32 = "__CRC32#"
    /// `DLQ_ORIGIN_TOPIC`.
    public static let dlqOriginTopic = "DLQ_ORIGIN_TOPIC"
    /// `DLQ_ORIGIN_MESSAGE_ID`.
    public static let dlqOriginMessageId = "DLQ_ORIGIN_MESSAGE_ID"
    /// `DUP_INFO`.
    public static let duplicateInfo = "DUP_INFO"
    /// `__STARTDELIVERTIME`: legacy start-deliver time (only classifies a send as "delay" in Java hooks).
    public static let startDeliverTime = "__STARTDELIVERTIME"
    /// `__RMQ.TRANSIENT.`: prefix of transient properties that the broker never stores.
    public static let transientPrefix = "__RMQ.TRANSIENT."

    /// The names Java reserves for the system (`MessageConst.STRING_HASH_SET`): `Message.putUserProperty`
    /// rejects them as user property names.
    public static let reserved: Set<String> = [
        traceSwitch, messageRegion, keys, tags, waitStoreMessageOK, delayTimeLevel, retryTopic, realTopic,
        realQueueId, transactionPrepared, producerGroup, minOffset, maxOffset, buyerId, originMessageId,
        transferFlag, correctionFlag, mq2Flag, reconsumeTime, uniqueKey, maxReconsumeTimes, consumeStartTimestamp,
        popCheckpoint, popCheckpointOffset, firstPopTime, transactionPreparedQueueOffset, duplicateInfo,
        extendUniqueInfo, instanceId, correlationId, replyToClient, messageTTL, replyMessageArriveTime,
        pushReplyTime, cluster, messageType, innerMultiQueueOffset, timerDelayMilliseconds, timerDelaySeconds,
        timerDeliverMilliseconds, timerEnqueueMilliseconds, timerDequeueMilliseconds, timerRollTimes,
        timerOutMilliseconds, timerDeleteUniqueKey, timerDelayLevel, bornHost, bornTimestamp, dlqOriginTopic,
        dlqOriginMessageId, crc32,
    ]
}
