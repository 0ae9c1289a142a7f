/// A remoting request code (`RequestCode.java`).
///
/// An open set: any `Int32` is representable, so codes this library does not know round-trip unchanged.
public struct RequestCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code as carried in the `code` header field.
    public var rawValue: Int32

    /// Wraps a raw code.
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// Wraps a raw code.
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// `SEND_MESSAGE` (10).
    public static let sendMessage = RequestCode(10)
    /// `PULL_MESSAGE` (11).
    public static let pullMessage = RequestCode(11)
    /// `QUERY_MESSAGE` (12): messages of a topic by key (or unique key) from the broker's index.
    public static let queryMessage = RequestCode(12)
    /// `QUERY_CONSUMER_OFFSET` (14).
    public static let queryConsumerOffset = RequestCode(14)
    /// `UPDATE_CONSUMER_OFFSET` (15).
    public static let updateConsumerOffset = RequestCode(15)
    /// `SEARCH_OFFSET_BY_TIMESTAMP` (29).
    public static let searchOffsetByTimestamp = RequestCode(29)
    /// `GET_MAX_OFFSET` (30).
    public static let getMaxOffset = RequestCode(30)
    /// `GET_MIN_OFFSET` (31).
    public static let getMinOffset = RequestCode(31)
    /// `GET_EARLIEST_MSG_STORETIME` (32).
    public static let getEarliestMsgStoreTime = RequestCode(32)
    /// `VIEW_MESSAGE_BY_ID` (33): one stored message by its commit-log offset.
    public static let viewMessageById = RequestCode(33)
    /// `HEART_BEAT` (34).
    public static let heartBeat = RequestCode(34)
    /// `UNREGISTER_CLIENT` (35).
    public static let unregisterClient = RequestCode(35)
    /// `CONSUMER_SEND_MSG_BACK` (36).
    public static let consumerSendMsgBack = RequestCode(36)
    /// `END_TRANSACTION` (37).
    public static let endTransaction = RequestCode(37)
    /// `GET_CONSUMER_LIST_BY_GROUP` (38).
    public static let getConsumerListByGroup = RequestCode(38)
    /// `CHECK_TRANSACTION_STATE` (39).
    public static let checkTransactionState = RequestCode(39)
    /// `NOTIFY_CONSUMER_IDS_CHANGED` (40).
    public static let notifyConsumerIdsChanged = RequestCode(40)
    /// `LOCK_BATCH_MQ` (41).
    public static let lockBatchMQ = RequestCode(41)
    /// `UNLOCK_BATCH_MQ` (42).
    public static let unlockBatchMQ = RequestCode(42)
    /// `GET_ALL_CONSUMER_OFFSET` (43).
    public static let getAllConsumerOffset = RequestCode(43)
    /// `CHECK_CLIENT_CONFIG` (46).
    public static let checkClientConfig = RequestCode(46)
    /// `UPDATE_AND_CREATE_TOPIC` (17).
    public static let updateAndCreateTopic = RequestCode(17)
    /// `REGISTER_BROKER` (103).
    public static let registerBroker = RequestCode(103)
    /// `UNREGISTER_BROKER` (104).
    public static let unregisterBroker = RequestCode(104)
    /// `GET_ROUTEINFO_BY_TOPIC` (105).
    public static let getRouteInfoByTopic = RequestCode(105)
    /// `GET_BROKER_CLUSTER_INFO` (106).
    public static let getBrokerClusterInfo = RequestCode(106)
    /// `GET_TOPIC_STATS_INFO` (202): per-queue min/max offsets of a topic on one broker.
    public static let getTopicStatsInfo = RequestCode(202)
    /// `GET_CONSUMER_CONNECTION_LIST` (203): the connected clients of a consumer group on one broker.
    public static let getConsumerConnectionList = RequestCode(203)
    /// `GET_ALL_TOPIC_LIST_FROM_NAMESERVER` (206): every topic the name server knows.
    public static let getAllTopicListFromNameServer = RequestCode(206)
    /// `GET_CONSUME_STATS` (208): per-queue broker/consumer offsets of a consumer group on one broker.
    public static let getConsumeStats = RequestCode(208)
    /// `RESET_CONSUMER_CLIENT_OFFSET` (220).
    public static let resetConsumerClientOffset = RequestCode(220)
    /// `GET_CONSUMER_STATUS_FROM_CLIENT` (221).
    public static let getConsumerStatusFromClient = RequestCode(221)
    /// `GET_CONSUMER_RUNNING_INFO` (307).
    public static let getConsumerRunningInfo = RequestCode(307)
    /// `CONSUME_MESSAGE_DIRECTLY` (309).
    public static let consumeMessageDirectly = RequestCode(309)
    /// `SEND_MESSAGE_V2` (310).
    public static let sendMessageV2 = RequestCode(310)
    /// `SEND_BATCH_MESSAGE` (320).
    public static let sendBatchMessage = RequestCode(320)
    /// `SEND_REPLY_MESSAGE` (324).
    public static let sendReplyMessage = RequestCode(324)
    /// `SEND_REPLY_MESSAGE_V2` (325).
    public static let sendReplyMessageV2 = RequestCode(325)
    /// `PUSH_REPLY_MESSAGE_TO_CLIENT` (326).
    public static let pushReplyMessageToClient = RequestCode(326)
    /// `LITE_PULL_MESSAGE` (361).
    public static let litePullMessage = RequestCode(361)
    /// `QUERY_ASSIGNMENT` (400).
    public static let queryAssignment = RequestCode(400)
    /// `PUT_KV_CONFIG` (100).
    public static let putKVConfig = RequestCode(100)
    /// `POP_MESSAGE` (200050; above Int16, so JSON headers only).
    public static let popMessage = RequestCode(200050)
    /// `ACK_MESSAGE` (200051).
    public static let ackMessage = RequestCode(200051)
    /// `PEEK_MESSAGE` (200052).
    public static let peekMessage = RequestCode(200052)
    /// `CHANGE_MESSAGE_INVISIBLETIME` (200053).
    public static let changeMessageInvisibleTime = RequestCode(200053)
    /// `NOTIFICATION` (200054).
    public static let notification = RequestCode(200054)
    /// `POLLING_INFO` (200055).
    public static let pollingInfo = RequestCode(200055)
    /// `BATCH_ACK_MESSAGE` (200151).
    public static let batchAckMessage = RequestCode(200151)

    /// The Java constant name, or the number for codes this library does not know.
    public var name: String {
        switch rawValue {
        case 10: return "SEND_MESSAGE"
        case 11: return "PULL_MESSAGE"
        case 12: return "QUERY_MESSAGE"
        case 14: return "QUERY_CONSUMER_OFFSET"
        case 15: return "UPDATE_CONSUMER_OFFSET"
        case 29: return "SEARCH_OFFSET_BY_TIMESTAMP"
        case 30: return "GET_MAX_OFFSET"
        case 31: return "GET_MIN_OFFSET"
        case 32: return "GET_EARLIEST_MSG_STORETIME"
        case 33: return "VIEW_MESSAGE_BY_ID"
        case 34: return "HEART_BEAT"
        case 35: return "UNREGISTER_CLIENT"
        case 36: return "CONSUMER_SEND_MSG_BACK"
        case 37: return "END_TRANSACTION"
        case 38: return "GET_CONSUMER_LIST_BY_GROUP"
        case 39: return "CHECK_TRANSACTION_STATE"
        case 40: return "NOTIFY_CONSUMER_IDS_CHANGED"
        case 41: return "LOCK_BATCH_MQ"
        case 42: return "UNLOCK_BATCH_MQ"
        case 43: return "GET_ALL_CONSUMER_OFFSET"
        case 46: return "CHECK_CLIENT_CONFIG"
        case 17: return "UPDATE_AND_CREATE_TOPIC"
        case 103: return "REGISTER_BROKER"
        case 104: return "UNREGISTER_BROKER"
        case 105: return "GET_ROUTEINFO_BY_TOPIC"
        case 106: return "GET_BROKER_CLUSTER_INFO"
        case 202: return "GET_TOPIC_STATS_INFO"
        case 203: return "GET_CONSUMER_CONNECTION_LIST"
        case 206: return "GET_ALL_TOPIC_LIST_FROM_NAMESERVER"
        case 208: return "GET_CONSUME_STATS"
        case 220: return "RESET_CONSUMER_CLIENT_OFFSET"
        case 221: return "GET_CONSUMER_STATUS_FROM_CLIENT"
        case 307: return "GET_CONSUMER_RUNNING_INFO"
        case 309: return "CONSUME_MESSAGE_DIRECTLY"
        case 310: return "SEND_MESSAGE_V2"
        case 320: return "SEND_BATCH_MESSAGE"
        case 324: return "SEND_REPLY_MESSAGE"
        case 325: return "SEND_REPLY_MESSAGE_V2"
        case 326: return "PUSH_REPLY_MESSAGE_TO_CLIENT"
        case 361: return "LITE_PULL_MESSAGE"
        case 400: return "QUERY_ASSIGNMENT"
        case 100: return "PUT_KV_CONFIG"
        case 200050: return "POP_MESSAGE"
        case 200051: return "ACK_MESSAGE"
        case 200052: return "PEEK_MESSAGE"
        case 200053: return "CHANGE_MESSAGE_INVISIBLETIME"
        case 200054: return "NOTIFICATION"
        case 200055: return "POLLING_INFO"
        case 200151: return "BATCH_ACK_MESSAGE"
        default: return String(rawValue)
        }
    }

    public var description: String { "\(name)(\(rawValue))" }

}

/// A remoting response code (`ResponseCode.java`, `RemotingSysResponseCode.java`).
///
/// An open set: any `Int32` is representable, so codes this library does not know round-trip unchanged.
public struct ResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code as carried in the `code` header field.
    public var rawValue: Int32

    /// Wraps a raw code.
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// Wraps a raw code.
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// `SUCCESS` (0).
    public static let success = ResponseCode(0)
    /// `SYSTEM_ERROR` (1).
    public static let systemError = ResponseCode(1)
    /// `SYSTEM_BUSY` (2).
    public static let systemBusy = ResponseCode(2)
    /// `REQUEST_CODE_NOT_SUPPORTED` (3).
    public static let requestCodeNotSupported = ResponseCode(3)
    /// `TRANSACTION_FAILED` (4).
    public static let transactionFailed = ResponseCode(4)
    /// `FLUSH_DISK_TIMEOUT` (10).
    public static let flushDiskTimeout = ResponseCode(10)
    /// `SLAVE_NOT_AVAILABLE` (11).
    public static let slaveNotAvailable = ResponseCode(11)
    /// `FLUSH_SLAVE_TIMEOUT` (12).
    public static let flushSlaveTimeout = ResponseCode(12)
    /// `MESSAGE_ILLEGAL` (13).
    public static let messageIllegal = ResponseCode(13)
    /// `SERVICE_NOT_AVAILABLE` (14).
    public static let serviceNotAvailable = ResponseCode(14)
    /// `VERSION_NOT_SUPPORTED` (15).
    public static let versionNotSupported = ResponseCode(15)
    /// `NO_PERMISSION` (16).
    public static let noPermission = ResponseCode(16)
    /// `TOPIC_NOT_EXIST` (17).
    public static let topicNotExist = ResponseCode(17)
    /// `TOPIC_EXIST_ALREADY` (18).
    public static let topicExistAlready = ResponseCode(18)
    /// `PULL_NOT_FOUND` (19).
    public static let pullNotFound = ResponseCode(19)
    /// `PULL_RETRY_IMMEDIATELY` (20).
    public static let pullRetryImmediately = ResponseCode(20)
    /// `PULL_OFFSET_MOVED` (21).
    public static let pullOffsetMoved = ResponseCode(21)
    /// `QUERY_NOT_FOUND` (22).
    public static let queryNotFound = ResponseCode(22)
    /// `SUBSCRIPTION_PARSE_FAILED` (23).
    public static let subscriptionParseFailed = ResponseCode(23)
    /// `SUBSCRIPTION_NOT_EXIST` (24).
    public static let subscriptionNotExist = ResponseCode(24)
    /// `SUBSCRIPTION_NOT_LATEST` (25).
    public static let subscriptionNotLatest = ResponseCode(25)
    /// `SUBSCRIPTION_GROUP_NOT_EXIST` (26).
    public static let subscriptionGroupNotExist = ResponseCode(26)
    /// `FILTER_DATA_NOT_EXIST` (27).
    public static let filterDataNotExist = ResponseCode(27)
    /// `FILTER_DATA_NOT_LATEST` (28).
    public static let filterDataNotLatest = ResponseCode(28)
    /// `INVALID_PARAMETER` (29).
    public static let invalidParameter = ResponseCode(29)
    /// `TRANSACTION_SHOULD_COMMIT` (200).
    public static let transactionShouldCommit = ResponseCode(200)
    /// `TRANSACTION_SHOULD_ROLLBACK` (201).
    public static let transactionShouldRollback = ResponseCode(201)
    /// `TRANSACTION_STATE_UNKNOW` (202).
    public static let transactionStateUnknow = ResponseCode(202)
    /// `TRANSACTION_STATE_GROUP_WRONG` (203).
    public static let transactionStateGroupWrong = ResponseCode(203)
    /// `NO_BUYER_ID` (204).
    public static let noBuyerId = ResponseCode(204)
    /// `NOT_IN_CURRENT_UNIT` (205).
    public static let notInCurrentUnit = ResponseCode(205)
    /// `CONSUMER_NOT_ONLINE` (206).
    public static let consumerNotOnline = ResponseCode(206)
    /// `CONSUME_MSG_TIMEOUT` (207).
    public static let consumeMsgTimeout = ResponseCode(207)
    /// `NO_MESSAGE` (208).
    public static let noMessage = ResponseCode(208)
    /// `POLLING_FULL` (209).
    public static let pollingFull = ResponseCode(209)
    /// `POLLING_TIMEOUT` (210).
    public static let pollingTimeout = ResponseCode(210)
    /// `BROKER_NOT_EXIST` (211).
    public static let brokerNotExist = ResponseCode(211)
    /// `BROKER_DISPATCH_NOT_COMPLETE` (212).
    public static let brokerDispatchNotComplete = ResponseCode(212)
    /// `BROADCAST_CONSUMPTION` (213).
    public static let broadcastConsumption = ResponseCode(213)
    /// `FLOW_CONTROL` (215).
    public static let flowControl = ResponseCode(215)
    /// `NOT_LEADER_FOR_QUEUE` (501).
    public static let notLeaderForQueue = ResponseCode(501)
    /// `ILLEGAL_OPERATION` (604).
    public static let illegalOperation = ResponseCode(604)
    /// `GO_AWAY` (1500).
    public static let goAway = ResponseCode(1500)

    /// The Java constant name, or the number for codes this library does not know.
    public var name: String {
        switch rawValue {
        case 0: return "SUCCESS"
        case 1: return "SYSTEM_ERROR"
        case 2: return "SYSTEM_BUSY"
        case 3: return "REQUEST_CODE_NOT_SUPPORTED"
        case 4: return "TRANSACTION_FAILED"
        case 10: return "FLUSH_DISK_TIMEOUT"
        case 11: return "SLAVE_NOT_AVAILABLE"
        case 12: return "FLUSH_SLAVE_TIMEOUT"
        case 13: return "MESSAGE_ILLEGAL"
        case 14: return "SERVICE_NOT_AVAILABLE"
        case 15: return "VERSION_NOT_SUPPORTED"
        case 16: return "NO_PERMISSION"
        case 17: return "TOPIC_NOT_EXIST"
        case 18: return "TOPIC_EXIST_ALREADY"
        case 19: return "PULL_NOT_FOUND"
        case 20: return "PULL_RETRY_IMMEDIATELY"
        case 21: return "PULL_OFFSET_MOVED"
        case 22: return "QUERY_NOT_FOUND"
        case 23: return "SUBSCRIPTION_PARSE_FAILED"
        case 24: return "SUBSCRIPTION_NOT_EXIST"
        case 25: return "SUBSCRIPTION_NOT_LATEST"
        case 26: return "SUBSCRIPTION_GROUP_NOT_EXIST"
        case 27: return "FILTER_DATA_NOT_EXIST"
        case 28: return "FILTER_DATA_NOT_LATEST"
        case 29: return "INVALID_PARAMETER"
        case 200: return "TRANSACTION_SHOULD_COMMIT"
        case 201: return "TRANSACTION_SHOULD_ROLLBACK"
        case 202: return "TRANSACTION_STATE_UNKNOW"
        case 203: return "TRANSACTION_STATE_GROUP_WRONG"
        case 204: return "NO_BUYER_ID"
        case 205: return "NOT_IN_CURRENT_UNIT"
        case 206: return "CONSUMER_NOT_ONLINE"
        case 207: return "CONSUME_MSG_TIMEOUT"
        case 208: return "NO_MESSAGE"
        case 209: return "POLLING_FULL"
        case 210: return "POLLING_TIMEOUT"
        case 211: return "BROKER_NOT_EXIST"
        case 212: return "BROKER_DISPATCH_NOT_COMPLETE"
        case 213: return "BROADCAST_CONSUMPTION"
        case 215: return "FLOW_CONTROL"
        case 501: return "NOT_LEADER_FOR_QUEUE"
        case 604: return "ILLEGAL_OPERATION"
        case 1500: return "GO_AWAY"
        default: return String(rawValue)
        }
    }

    public var description: String { "\(name)(\(rawValue))" }

}

/// The sender's language (`LanguageCode.java`): a byte in ROCKETMQ headers, the enum name in JSON headers.
///
/// Java has no Swift value. Unknown bytes and names are preserved as raw values so they round-trip.
public struct LanguageCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The byte carried in ROCKETMQ binary headers.
    public var rawValue: UInt8
    /// Wraps a raw language byte.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    static let names = ["JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER", "HTTP", "GO", "PHP",
                        "OMS", "RUST", "NODE_JS"]

    /// `JAVA` (0): what this library sends by default (see `RemotingCommand.defaultLanguage`).
    public static let java = LanguageCode(rawValue: 0)
    /// `CPP` (1).
    public static let cpp = LanguageCode(rawValue: 1)
    /// `DOTNET` (2).
    public static let dotnet = LanguageCode(rawValue: 2)
    /// `PYTHON` (3).
    public static let python = LanguageCode(rawValue: 3)
    /// `OTHER` (7).
    public static let other = LanguageCode(rawValue: 7)
    /// `GO` (9).
    public static let go = LanguageCode(rawValue: 9)
    /// `RUST` (12).
    public static let rust = LanguageCode(rawValue: 12)

    /// The Java enum name, used in JSON headers; `nil` for a byte Java does not define.
    public var name: String? {
        Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : nil
    }

    /// Looks a language up by its Java enum name (as JSON headers carry it).
    public init?(name: String) {
        guard let index = Self.names.firstIndex(of: name) else { return nil }
        self.rawValue = UInt8(index)
    }

    public var description: String { name ?? "LANGUAGE(\(rawValue))" }
}

/// How a command's header is serialized (`SerializeType.java`): the high byte of the header-length word.
public enum SerializeType: UInt8, Hashable, Sendable {
    /// fastjson text (Java's default for every command it creates).
    case json = 0
    /// The compact ROCKETMQ binary layout.
    case rocketmq = 1
}

/// An ordinal of Java's `MQVersion.Version` enum, carried in every command's `version` field.
///
/// Servers gate behaviour on it: GO_AWAY only goes to clients above ``v5_3_1``; standard route JSON to clients at or
/// above ``v4_9_4``.
public struct MQVersion: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The ordinal.
    public var rawValue: Int32
    /// Wraps an ordinal.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `V3_0_7_SNAPSHOT` (28): the first version the broker may push RESET_CONSUMER_CLIENT_OFFSET to.
    public static let v3_0_7_snapshot = MQVersion(rawValue: 28)
    /// `V3_4_9` (121).
    public static let v3_4_9 = MQVersion(rawValue: 121)
    /// `V4_0_0` (213).
    public static let v4_0_0 = MQVersion(rawValue: 213)
    /// `V4_9_3` (399).
    public static let v4_9_3 = MQVersion(rawValue: 399)
    /// `V4_9_4` (401): the first version that receives standard route JSON.
    public static let v4_9_4 = MQVersion(rawValue: 401)
    /// `V4_9_8` (409).
    public static let v4_9_8 = MQVersion(rawValue: 409)
    /// `V5_0_0` (413).
    public static let v5_0_0 = MQVersion(rawValue: 413)
    /// `V5_1_4` (441).
    public static let v5_1_4 = MQVersion(rawValue: 441)
    /// `V5_3_1` (475): servers answer GO_AWAY while draining only to versions above this.
    public static let v5_3_1 = MQVersion(rawValue: 475)
    /// `V5_3_3` (479): the version this library advertises.
    public static let v5_3_3 = MQVersion(rawValue: 479)

    public static func < (lhs: MQVersion, rhs: MQVersion) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Java's `MQVersion.getVersionDesc`: `V4_9_8`, `V5_3_3`, `V5_3_3_SNAPSHOT`, … for the 4.x and 5.x ordinals (each
    /// version a SNAPSHOT then a release constant, from V4_0_0_SNAPSHOT = 212 to V5_9_9 = 611), `HIGHER_VERSION`
    /// above; older ordinals print as a number.
    public var description: String {
        switch rawValue {
        case 212...611:
            let k = (rawValue - 212) / 2
            let name = "V\(4 + k / 100)_\((k / 10) % 10)_\(k % 10)"
            return (rawValue - 212) % 2 == 0 ? name + "_SNAPSHOT" : name
        case 612: return "HIGHER_VERSION"
        default: return "MQVersion(\(rawValue))"
        }
    }
}
