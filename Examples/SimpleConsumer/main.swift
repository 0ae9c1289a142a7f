// SimpleConsumer: POP consumption (RocketMQ 5). The broker hands out messages; any number of consumers share any
// number of queues, and a message not acknowledged within its invisible time comes back.
//
//   swift run SimpleConsumer [nameserver]        (default 127.0.0.1:9876)
//
// Send some messages first, e.g. `swift run SimpleProducer` (topic ExampleTopic). Start this twice to see two
// consumers share the topic with no rebalancing.

import RocketMQ

let nameServer = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "127.0.0.1:9876"

var configuration = SimpleConsumerConfiguration(group: "ExampleSimpleConsumers")
configuration.invisibleDuration = .seconds(20)  // time to handle a message before it goes to someone else
configuration.startPoint = .firstOffset
let consumer = try SimpleConsumer(configuration: configuration, client: ClientConfiguration(nameServer: nameServer))
try consumer.subscribe("ExampleTopic", expression: "*")

// Heartbeats and routes run inside run().
let background = Task { try await consumer.run() }

var handled = 0
do {
    for try await message in consumer.messages {
        print("\(message.messageID) from \(message.queue) (delivery \(message.reconsumeTimes + 1)): \(String(buffer: message.body))")
        if message.body.readableBytes > 1_000_000 {
            // Slow work ahead: ask for more time (the returned message carries the new receipt).
            let renewed = try await consumer.changeInvisibleDuration(message, to: .seconds(60))
            try await consumer.ack(renewed)
        } else {
            try await consumer.ack(message)
        }
        handled += 1
        if handled == 10 { break }
    }
} catch let error as RocketMQError {
    print("failed: \(error.code) \(error.remark)")
}
background.cancel()
_ = try? await background.value
