// SimpleProducer: send ten messages and print where each one was stored.
//
//   swift run SimpleProducer [nameserver]        (default 127.0.0.1:9876)
//
// Try it without a RocketMQ: `swift run mock-broker` in another terminal starts a name server on 9876 and a broker.
// The topic `ExampleTopic` is created on first use through the brokers' auto-create topic (TBW102).

import RocketMQ

let nameServer = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "127.0.0.1:9876"

let producer = try Producer(
    configuration: ProducerConfiguration(group: "ExampleProducerGroup"),
    client: ClientConfiguration(nameServer: nameServer))

// Background work (route refresh, heartbeats) runs inside run(); sends work from any task meanwhile.
let background = Task { try await producer.run() }

do {
    for i in 0..<10 {
        let message = Message(topic: "ExampleTopic", string: "Hello RocketMQ \(i)", tags: "TagA", keys: ["order-\(i)"])
        let result = try await producer.send(message)
        print("sent \(result.messageID) to \(result.queue.brokerName)/\(result.queue.queueId) at offset \(result.queueOffset)")
    }
} catch let error as RocketMQError {
    // One error type: `code` says what happened, `isRetryable` whether trying again may help.
    print("send failed: \(error.code) \(error.remark) (retryable: \(error.isRetryable))")
}

// Cancelling run() unregisters the producer from the brokers and closes its connections.
background.cancel()
_ = try? await background.value
