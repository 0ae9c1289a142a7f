// PushConsumerHandler: consume with a handler until Ctrl-C (or SIGTERM), then stop cleanly.
//
//   swift run PushConsumerHandler [nameserver]        (default 127.0.0.1:9876)
//
// Run SimpleProducer to have something to read. The group starts at the first offset of each queue the first time
// (later runs resume from the committed offsets). The handler is called concurrently (up to `maxConcurrency`) with
// batches of `consumeBatchSize` messages; `.success` lets the offset advance past them, `.retryLater` sends them to
// the group's retry topic for a later redelivery (after `maxReconsumeTimes` failures: the dead-letter queue).

import RocketMQ
import UnixSignals

let nameServer = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "127.0.0.1:9876"

var configuration = ConsumerConfiguration(group: "ExampleConsumerGroup")
configuration.startPoint = .firstOffset
configuration.consumeBatchSize = 16

let consumer = try PushConsumer(configuration: configuration, client: ClientConfiguration(nameServer: nameServer)) { messages in
    for message in messages {
        let text = String(buffer: message.body)
        print("\(message.queue.brokerName)/\(message.queue.queueId)@\(message.queueOffset) [\(message.tags ?? "-")] \(text)")
        if text.contains("poison") { return .retryLater }  // redelivered later through %RETRY%ExampleConsumerGroup
    }
    return .success
}
try consumer.subscribe("ExampleTopic", expression: "TagA || Batch")

let running = Task { try await consumer.run() }
print("consuming ExampleTopic as ExampleConsumerGroup; Ctrl-C to stop")

// Cancelling run() stops pulling, waits for running handlers, commits offsets and unregisters.
for await signal in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
    print("\(signal): stopping")
    break
}
running.cancel()
try? await running.value
print("stopped")
