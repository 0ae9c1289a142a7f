// TransactionalProducer: keep a local state change and a message in step.
//
//   swift run TransactionalProducer [nameserver]        (default 127.0.0.1:9876)
//
// Each order is sent as a half message; the "local transaction" (here: a dictionary standing in for a database
// write) runs once the broker has stored it, and its outcome commits or rolls the message back. Order 2's local
// transaction cannot decide yet (unknown): the broker later asks the checker, which looks the order up.
// Try it with `swift run mock-broker` in another terminal (it checks unknown transactions after 6 s, every 30 s; start
// it with `--transaction-timeout-ms 1000 --transaction-check-interval-ms 1000` to see the check sooner).

import RocketMQ
import Synchronization

let nameServer = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "127.0.0.1:9876"

/// The "database": order id -> paid. The checker reads it, so it must outlive any one send.
let orders = Mutex<[String: Bool]>([:])

let producer = try Producer(
    configuration: ProducerConfiguration(group: "ExampleTransactionGroup"),
    client: ClientConfiguration(nameServer: nameServer),
    // Answers the broker's question "what became of this transaction?", for messages of any process of the group.
    transactionChecker: { message in
        let order = message.keys.first ?? ""
        let paid = orders.withLock { $0[order] }
        print("check-back for \(order): \(paid.map { $0 ? "commit" : "rollback" } ?? "still unknown")")
        switch paid {
        case true?: return .commit
        case false?: return .rollback
        case nil: return .unknown
        }
    })

// Checks are answered inside run(), as are route refresh and heartbeats.
let background = Task { try await producer.run() }

do {
    for i in 0..<4 {
        let order = "order-\(i)"
        let message = Message(topic: "ExampleTransactions", string: "{\"order\":\"\(order)\"}", keys: [order])
        let result = try await producer.sendInTransaction(message) { _, sent in
            // The local transaction: runs only once the half message is stored.
            switch i {
            case 1:
                orders.withLock { $0[order] = false }
                return .rollback
            case 2:
                // Decided later: the checker will find it paid.
                return .unknown
            default:
                orders.withLock { $0[order] = true }
                return .commit
            }
        }
        print("\(order): half message \(result.sendResult.messageID) -> \(result.resolution)")
    }
    orders.withLock { $0["order-2"] = true }
    print("order-2 paid; waiting for the broker's check (Ctrl-C to stop)")
    try await background.value
} catch let error as RocketMQError {
    print("failed: \(error.code) \(error.remark)")
}
background.cancel()
_ = try? await background.value
