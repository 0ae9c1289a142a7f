import NIOCore
import RocketMQWire

/// Well-formed inputs the mutation run starts from (the first byte selects the decoder).
enum FuzzSeeds {
    static var all: [[UInt8]] {
        var seeds: [[UInt8]] = []
        for type in [SerializeType.json, .rocketmq] {
            var command = RemotingCommand.request(
                .sendMessageV2, opaque: 7, extFields: ["a": "PG", "b": "Topic", "i": "TAGS\u{1}A\u{2}"],
                body: ByteBuffer(string: "hello"))
            command.serializeType = type
            if let frame = try? RemotingFrame.encode(command) {
                let bytes = Array(frame.readableBytesView)
                seeds.append([0] + bytes)
                seeds.append([1] + bytes.dropFirst(4))
            }
        }
        let bodies = [
            #"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"b"}],"queueDatas":[]}"#,
            #"{"consumerIdList":["a@1","b@2"]}"#,
            #"{"clientId":"c","consumerGroup":"G","mqSet":[{"brokerName":"b","queueId":1,"topic":"T"}]}"#,
            #"{"lockOKMQSet":[{"brokerName":"b","queueId":0,"topic":"T"}]}"#,
            #"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:5}}"#,
            #"{"clientID":"c","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","groupName":"G","messageModel":"CLUSTERING","subscriptionDataSet":[{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1,"tagsSet":[],"topic":"T"}],"unitMode":false}],"producerDataSet":[{"groupName":"P"}]}"#,
        ]
        let adminBodies = [
            #"{"consumeTps":0.0,"offsetTable":{{"brokerName":"b","queueId":1,"topic":"T"}:{"brokerOffset":12,"consumerOffset":10,"lastTimestamp":1700000000123,"pullOffset":12}}}"#,
            #"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"lastUpdateTimestamp":1,"maxOffset":3,"minOffset":0}},"topicPutTps":1.5E-4}"#,
            #"{"connectionSet":[{"clientAddr":"127.0.0.1:1","clientId":"c@1","language":"JAVA","version":479}],"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","subscriptionTable":{"T":{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1,"tagsSet":[],"topic":"T"}}}"#,
            #"{"brokerAddr":"127.0.0.1:10911","topicList":["A","B","%RETRY%G"],"topicList":"A;;B;"}"#,
        ]
        for body in bodies + adminBodies { seeds.append([2] + Array(body.utf8)) }
        let filters = [
            "a > 5 AND b = 'x' OR NOT (c IS NULL)",
            "a BETWEEN -1.5 AND 3e2 AND b NOT IN ('x', 'y''z') AND TAGS STARTSWITH 'Tag'",
            "(a <> 1L) or b contains 'x' -- note\n and c not endswith 'y' /* c */ and d >= .5",
        ]
        for filter in filters { seeds.append([3] + Array(filter.utf8)) }
        let extraInfos = [
            "0 1700000000000 60000 3 0 broker-a 1 5",
            "12 1700000000000 60000 999 1 broker-b 0 12 8192",
            "0 1 10 0;0 2 3,4,5;1 qo0%7 2",
            #"{"acks":[{"b":"Bw==","c":"G","it":60000,"pt":1,"q":1,"r":"0","rq":3,"so":10,"t":"T"}],"brokerName":"broker-a"}"#,
        ]
        for info in extraInfos { seeds.append([4] + Array(info.utf8)) }
        let traces = [
            "Pub\u{1}1700000000123\u{1}DefaultRegion\u{1}PID-test\u{1}topic-test\u{1}AC1415116D1418B4AAC217FE1B4E0000\u{1}Tags\u{1}Keys\u{1}127.0.0.1:10911\u{1}26\u{1}245\u{1}0\u{1}0A9A002600002A9F0000000000002329\u{1}true\u{2}",
            "SubBefore\u{1}1700000000123\u{1}DefaultRegion\u{1}G\u{1}REQ\u{1}AC1415116D1418B4AAC217FE1B4E0000\u{1}0\u{1}null\u{2}SubAfter\u{1}REQ\u{1}AC1415116D1418B4AAC217FE1B4E0000\u{1}20\u{1}true\u{1}null\u{1}0\u{1}1625883640000\u{1}G\u{2}",
            "EndTransaction\u{1}1\u{1}DefaultRegion\u{1}PID\u{1}T\u{1}ID\u{1}Tags\u{1}K1 K2\u{1}127.0.0.1:10911\u{1}2\u{1}ID\u{1}ROLLBACK_MESSAGE\u{1}true\u{2}Recall\u{1}1\u{1}R\u{1}G\u{1}T\u{1}ID\u{1}false\u{2}",
        ]
        for trace in traces { seeds.append([5] + Array(trace.utf8)) }
        seeds.append(contentsOf: messageSeeds)
        return seeds
    }
}
