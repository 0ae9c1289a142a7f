// AsyncSequenceConsumer: read messages with `for await`, acknowledging each one.
//
//   swift run AsyncSequenceConsumer [nameserver]        (default 127.0.0.1:9876)
//
// Without a handler, a PushConsumer hands messages to its `messages` sequence. An offset is committed only past
// acknowledged messages, and unacknowledged ones count against flow control: a slow loop pauses pulling instead of
// buffering without bound. This example stops after 100 messages or 30 seconds.

import RocketMQ

let nameServer = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "127.0.0.1:9876"

var configuration = ConsumerConfiguration(group: "ExampleSequenceGroup")
configuration.startPoint = .firstOffset
let consumer = try PushConsumer(configuration: configuration, client: ClientConfiguration(nameServer: nameServer))
try consumer.subscribe("ExampleTopic")

let running = Task { try await consumer.run() }
let timeout = Task {
    try? await Task.sleep(for: .seconds(30))
    running.cancel()  // ends the sequence too
}

var count = 0
for await message in consumer.messages {
    print("#\(count) \(message.messageID) \(String(buffer: message.body))")
    if String(buffer: message.body).contains("poison") && message.reconsumeTimes == 0 {
        await consumer.retryLater(message)  // redelivered later through the group's retry topic
    } else {
        consumer.acknowledge(message)
    }
    count += 1
    if count == 100 { break }
}

timeout.cancel()
running.cancel()
try? await running.value
print("read \(count) messages")
