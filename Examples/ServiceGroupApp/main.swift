// ServiceGroupApp: a producer, a consumer and the application's own service in one swift-service-lifecycle
// ServiceGroup, with a graceful shutdown on SIGTERM or Ctrl-C.
//
//   swift run ServiceGroupApp [nameserver]        (default 127.0.0.1:9876)
//
// Services stop in reverse order: the ticker stops sending first, then the consumer (stops pulling, waits for
// running handlers, commits offsets, unregisters), then the producer (unregisters, closes connections).

import Logging
import RocketMQ
import ServiceLifecycle

let nameServer = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "127.0.0.1:9876"
let client = ClientConfiguration(nameServer: nameServer)
let logger = Logger(label: "ServiceGroupApp")

let producer = try Producer(configuration: ProducerConfiguration(group: "ExampleAppProducer"), client: client)

var consumerConfiguration = ConsumerConfiguration(group: "ExampleAppConsumer")
consumerConfiguration.startPoint = .lastOffset
let consumer = try PushConsumer(configuration: consumerConfiguration, client: client) { messages in
    for message in messages {
        logger.info("received", metadata: ["id": "\(message.messageID)", "body": "\(String(buffer: message.body))"])
    }
    return .success
}
try consumer.subscribe("ExampleAppTopic")

/// The application: sends a message every second until the group shuts down.
struct Ticker: Service {
    let producer: Producer
    let logger: Logger

    func run() async throws {
        var tick = 0
        // Leaves the loop when the group starts a graceful shutdown (or cancels this task).
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let result = try await producer.send(Message(topic: "ExampleAppTopic", string: "tick \(tick)"))
                logger.info("sent", metadata: ["id": "\(result.messageID)", "queue": "\(result.queue.queueId)"])
            } catch let error as RocketMQError {
                logger.warning("send failed", metadata: ["error": "\(error)"])
            }
            tick += 1
            try? await Task.sleep(for: .seconds(1))
        }
        logger.info("ticker stopped", metadata: ["sent": "\(tick)"])
    }
}

let group = ServiceGroup(
    services: [producer, consumer, Ticker(producer: producer, logger: logger)],
    gracefulShutdownSignals: [.sigterm, .sigint],
    logger: logger)
try await group.run()
logger.info("all services stopped")
