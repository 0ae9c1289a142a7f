import NIOConcurrencyHelpers
import RocketMQWire

/// Where a request pushed by the server came from.
public struct RemotingRequestContext: Sendable, Hashable {
    /// The peer's address, `"host:port"`.
    public var address: String
    /// The connection the request arrived on.
    public var connectionID: UInt64

    /// Creates a context.
    public init(address: String, connectionID: UInt64) {
        self.address = address
        self.connectionID = connectionID
    }
}

/// Handles requests the server pushes on the client's connection (NOTIFY_CONSUMER_IDS_CHANGED,
/// CHECK_TRANSACTION_STATE, GET_CONSUMER_RUNNING_INFO, CONSUME_MESSAGE_DIRECTLY, RESET_CONSUMER_CLIENT_OFFSET,
/// PUSH_REPLY_MESSAGE_TO_CLIENT).
///
/// The returned command is sent back as the response (its opaque and response flag are set by the remoting layer),
/// unless the request was oneway. `nil` sends nothing. A thrown error is answered with SYSTEM_ERROR and the error's
/// text as remark, as Java does.
public protocol RemotingRequestProcessor: Sendable {
    /// Processes one pushed request.
    func process(_ request: RemotingCommand, context: RemotingRequestContext) async throws -> RemotingCommand?
}

/// A ``RemotingRequestProcessor`` made from a closure.
public struct ClosureRequestProcessor: RemotingRequestProcessor {
    private let body: @Sendable (RemotingCommand, RemotingRequestContext) async throws -> RemotingCommand?

    /// Wraps `body`.
    public init(_ body: @escaping @Sendable (RemotingCommand, RemotingRequestContext) async throws -> RemotingCommand?) {
        self.body = body
    }

    /// Calls the closure.
    public func process(_ request: RemotingCommand, context: RemotingRequestContext) async throws -> RemotingCommand? {
        try await body(request, context)
    }
}

/// Request code -> processor, shared by all connections of a client.
final class ProcessorRegistry: Sendable {
    private let table = NIOLockedValueBox<[Int32: any RemotingRequestProcessor]>([:])

    func register(_ processor: any RemotingRequestProcessor, for codes: [RequestCode]) {
        table.withLockedValue { table in
            for code in codes { table[code.rawValue] = processor }
        }
    }

    func processor(for code: Int32) -> (any RemotingRequestProcessor)? {
        table.withLockedValue { $0[code] }
    }
}
