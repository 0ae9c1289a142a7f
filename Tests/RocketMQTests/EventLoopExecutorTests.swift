import NIOCore
import NIOPosix
import RocketMQ
import RocketMQMockBroker
import RocketMQRemoting
import RocketMQTestSupport
import Testing

@Suite("EventLoopTaskExecutor: request loops on the connections' event loop", .heavy)
struct EventLoopExecutorTests {
    @Test("jobs run on the loop, and resume there after awaiting work the loop completes")
    func jobsRunOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(loop)
        let (before, after) = await withTaskExecutorPreference(executor) { () async -> (Bool, Bool) in
            let before = loop.inEventLoop
            _ = try? await loop.submit { 1 }.get()
            return (before, loop.inEventLoop)
        }
        #expect(before && after)
        try await group.shutdownGracefully()
    }

    @Test("sync sends from tasks running on the producer's only event loop all resolve")
    func producerOnItsEventLoop() async throws {
        let cluster = try await MockCluster.start(.init(brokers: 1, queues: 2))
        cluster.createTopic("OnLoop", queues: 2)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var config = ProducerConfiguration(group: "OnLoopProducer")
        config.sendTimeout = .seconds(20)
        let producer = try Producer(configuration: config, client: ClientConfiguration(nameServer: cluster.nameServerAddress), eventLoopGroup: group)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(loop)
        let ids = try await withThrowingTaskGroup(of: [String].self) { tasks in
            tasks.addTask { try await producer.run(); return [] }
            tasks.addTask(executorPreference: executor) {
                var ids: [String] = []
                for i in 0..<200 {
                    ids.append(try await producer.send(Message(topic: "OnLoop", string: "m\(i)")).messageID)
                    // Resumed on the loop's thread, not on the cooperative pool.
                    guard loop.inEventLoop else { return [] }
                }
                return ids
            }
            let sent = try await tasks.next() ?? []
            tasks.cancelAll()
            return sent
        }
        #expect(Set(ids).count == 200)
        #expect(storedMessages(cluster, topic: "OnLoop").count == 200)
        await cluster.shutdown()
        try await group.shutdownGracefully()
    }
}
