// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-rocketmq",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RocketMQ", targets: ["RocketMQ"]),
        .library(name: "RocketMQWire", targets: ["RocketMQWire"]),
        .library(name: "RocketMQRemoting", targets: ["RocketMQRemoting"]),
        .library(name: "RocketMQMockBroker", targets: ["RocketMQMockBroker"]),
        .executable(name: "mock-broker", targets: ["MockBrokerCommand"]),
        .executable(name: "rocketmq", targets: ["RocketMQCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
    ],
    targets: [
        // System C libraries from Debian's -dev packages.
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
        .systemLibrary(
            name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // Pure values and codecs: no sockets, no clocks.
        .target(
            name: "RocketMQWire",
            dependencies: [
                "CZstd", "CLZ4", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]),
        // Connections, request correlation, deadlines, channel events.
        .target(
            name: "RocketMQRemoting",
            dependencies: [
                "RocketMQWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // The public client API and client core.
        .target(
            name: "RocketMQ",
            dependencies: [
                "RocketMQWire", "RocketMQRemoting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]),
        // The everyday CLI.
        .executableTarget(
            name: "RocketMQCLI",
            dependencies: [
                "RocketMQ", "RocketMQWire", "RocketMQRemoting", "RocketMQMockBroker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]),
        // The mock broker: library and executable.
        .target(
            name: "RocketMQMockBroker",
            dependencies: [
                "RocketMQWire", "RocketMQRemoting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "mock-broker/Sources/RocketMQMockBroker"),
        .executableTarget(
            name: "MockBrokerCommand",
            dependencies: [
                "RocketMQMockBroker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "mock-broker/Sources/MockBrokerCommand"),

        // Fuzz entry point for the wire decoders (libFuzzer via Scripts/fuzz.sh, or a seeded mutation run); RocketMQ
        // for the message trace codec.
        .executableTarget(
            name: "WireFuzz",
            dependencies: ["RocketMQWire", "RocketMQ", .product(name: "NIOCore", package: "swift-nio")]),

        // The main job.
        .executableTarget(
            name: "rocketmq-demo",
            dependencies: [
                "RocketMQ", "RocketMQMockBroker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Examples/Demo"),
        // Small runnable examples; each takes the name server address as its first argument.
        .executableTarget(name: "SimpleProducer", dependencies: ["RocketMQ"], path: "Examples/SimpleProducer"),
        .executableTarget(name: "BatchAndOrderedProducer", dependencies: ["RocketMQ"], path: "Examples/BatchAndOrderedProducer"),
        .executableTarget(name: "TransactionalProducer", dependencies: ["RocketMQ"], path: "Examples/TransactionalProducer"),
        .executableTarget(
            name: "RequestReply", dependencies: ["RocketMQ", .product(name: "NIOCore", package: "swift-nio")],
            path: "Examples/RequestReply"),
        // Fault scenarios with figures: one subcommand per scenario (build with -c release; Scripts/soak.sh).
        .executableTarget(
            name: "ReliabilitySuite",
            dependencies: [
                "RocketMQ", "RocketMQMockBroker", "RocketMQRemoting", "RocketMQWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .executableTarget(
            name: "PushConsumerHandler",
            dependencies: ["RocketMQ", .product(name: "UnixSignals", package: "swift-service-lifecycle")],
            path: "Examples/PushConsumerHandler"),
        .executableTarget(name: "AsyncSequenceConsumer", dependencies: ["RocketMQ"], path: "Examples/AsyncSequenceConsumer"),
        .executableTarget(name: "SimpleConsumer", dependencies: ["RocketMQ"], path: "Examples/SimpleConsumer"),
        .executableTarget(
            name: "ServiceGroupApp",
            dependencies: [
                "RocketMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Examples/ServiceGroupApp"),

        // Tests.
        .target(name: "RocketMQTestSupport", path: "Tests/RocketMQTestSupport"),
        .testTarget(
            name: "RocketMQWireTests",
            dependencies: ["RocketMQWire", .product(name: "NIOCore", package: "swift-nio")],
            resources: [.copy("golden")]),
        .testTarget(
            name: "MockBrokerTests",
            dependencies: [
                "RocketMQTestSupport",
                "RocketMQMockBroker", "RocketMQWire", "RocketMQRemoting", "MockBrokerCommand",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
        .testTarget(
            name: "RocketMQTests",
            dependencies: [
                "RocketMQTestSupport",
                "RocketMQ", "RocketMQWire", "RocketMQMockBroker", "RocketMQRemoting", "RocketMQCLI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            resources: [.copy("golden")]),
        .testTarget(
            name: "RocketMQRemotingTests",
            dependencies: [
                "RocketMQTestSupport",
                "RocketMQRemoting", "RocketMQWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
    ]
)
