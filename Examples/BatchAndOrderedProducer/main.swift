// BatchAndOrderedProducer: one batch send, then ordered messages (every step of an order on the same queue).
//
//   swift run BatchAndOrderedProducer [nameserver]        (default 127.0.0.1:9876)
//
// A batch is one SEND_BATCH_MESSAGE request: all messages share one topic, none is delayed, and the broker stores
// them in one queue. Ordered messages use a sharding key: the same key always maps to the same queue (a stable hash
// over the topic's queues, as Java's SelectMessageQueueByHash), so a consumer with `orderly = true` sees them in order.

import RocketMQ

let nameServer = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "127.0.0.1:9876"

let producer = try Producer(
    configuration: ProducerConfiguration(group: "ExampleBatchProducerGroup"),
    client: ClientConfiguration(nameServer: nameServer))
let background = Task { try await producer.run() }

do {
    // 1. A batch of 32 messages in one request.
    let batch = (0..<32).map { Message(topic: "ExampleTopic", string: "batch item \($0)", tags: "Batch") }
    let stored = try await producer.send(batch)
    print("batch of \(batch.count) stored in \(stored.queue.brokerName)/\(stored.queue.queueId) from offset \(stored.queueOffset)")

    // 2. Ordered: three orders, each with four steps; each order's steps land on one queue, in send order.
    for step in ["created", "paid", "shipped", "done"] {
        for order in 1...3 {
            let message = Message(topic: "ExampleOrderTopic", string: "order \(order) \(step)", tags: step, keys: ["order-\(order)"])
            let result = try await producer.send(message, shardingKey: "order-\(order)")
            print("order \(order) \(step): queue \(result.queue.brokerName)/\(result.queue.queueId) offset \(result.queueOffset)")
        }
    }

    // 3. Or pick the queue yourself: the selector sees the topic's writable queues.
    let last = try await producer.send(Message(topic: "ExampleOrderTopic", string: "to the last queue")) { queues in queues.last }
    print("selector chose \(last.queue.brokerName)/\(last.queue.queueId)")
} catch let error as RocketMQError {
    print("send failed: \(error)")
}

background.cancel()
_ = try? await background.value
