// RequestReply: RPC over RocketMQ. A responder (a consumer group member) answers each request on a topic; a requester
// sends requests and awaits their replies.
//
//   swift run RequestReply [nameserver]        (default 127.0.0.1:9876)
//
// Try it with `swift run mock-broker` in another terminal. Both sides run in this one process for the example; in
// practice they are different services, in any language RocketMQ has a client for.

import NIOCore
import RocketMQ

let nameServer = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "127.0.0.1:9876"
let client = ClientConfiguration(nameServer: nameServer)

// The responder: a push consumer whose handler replies through a producer.
let replier = try Producer(configuration: ProducerConfiguration(group: "ExampleResponderProducer"), client: client)
var consumerConfig = ConsumerConfiguration(group: "ExampleResponders")
consumerConfig.startPoint = .lastOffset
let responder = try PushConsumer(configuration: consumerConfig, client: client) { requests in
    for request in requests {
        let question = String(buffer: request.body)
        // The reply goes back to whichever client sent the request.
        _ = try? await replier.reply(to: request, body: ByteBuffer(string: "\(question.uppercased())!"))
    }
    return .success
}
try responder.subscribe("ExampleRequests")

// The requester: replies arrive as requests the brokers push, which run() processes.
let requester = try Producer(configuration: ProducerConfiguration(group: "ExampleRequester"), client: client)

try await withThrowingDiscardingTaskGroup { group in
    group.addTask { try await replier.run() }
    group.addTask { try await responder.run() }
    group.addTask { try await requester.run() }
    for question in ["hello", "how are you", "bye"] {
        do {
            let reply = try await requester.request(Message(topic: "ExampleRequests", string: question), timeout: .seconds(10))
            print("\(question) -> \(String(buffer: reply.body))")
        } catch let error as RocketMQError where error.code == .requestTimeout {
            // The request was sent, but no reply came in time (is a responder running?).
            print("\(question) -> no reply: \(error.remark)")
        }
    }
    group.cancelAll()
}
