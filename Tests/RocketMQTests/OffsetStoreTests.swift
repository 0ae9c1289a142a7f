import Logging
import NIOPosix
@testable import RocketMQ
import Testing

@Suite("Offset store")
struct OffsetStoreTests {
    @Test("updates from handlers racing with commits never deadlock (lock order)")
    func updatesRacingCommits() async throws {
        let core = try ClientCore(
            configuration: ClientConfiguration(nameServer: "127.0.0.1:9"), eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "offset-store-test"))
        let store = OffsetStore(kind: .remote, group: "G", core: core)
        let queues = (0..<8).map { MessageQueue(topic: "T", brokerName: "b", queueId: Int32($0)) }
        await withDiscardingTaskGroup { group in
            for w in 0..<4 {
                group.addTask {
                    for i in 0..<100_000 { store.update(queues[(i + w) % queues.count], offset: Int64(i)) }
                }
                group.addTask {
                    for _ in 0..<20_000 { await store.persist() }
                }
            }
        }
        #expect(queues.allSatisfy { (store.current($0) ?? -1) >= 99_990 })
        await core.shutdown()
    }
}
