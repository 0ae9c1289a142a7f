import NIOCore

/// One remoting protocol command: a request or a response, with its header fields and raw body.
///
/// Mirrors Java's `RemotingCommand`. On the wire a command is a frame (see ``RemotingFrame``): a length, a
/// header-length word carrying the ``SerializeType``, the header (JSON or ROCKETMQ binary) and the body.
public struct RemotingCommand: Sendable, Hashable {
    /// Flag bit 0: the command is a response.
    public static let responseFlag: Int32 = 0x1
    /// Flag bit 1: the request is oneway; the receiver must not answer.
    public static let onewayFlag: Int32 = 0x2

    /// The version this library advertises: `V5_3_3` (479).
    ///
    /// It must be above `V5_3_1` (475) so that a draining 5.3 broker answers GO_AWAY instead of silently serving and
    /// then dropping us, and at least `V4_9_4` (401) so name servers send standard JSON routes.
    public static let defaultVersion: Int32 = MQVersion.v5_3_3.rawValue

    /// The language this library advertises: `JAVA`.
    ///
    /// There is no Swift language code. Brokers gate behaviour on `version`, not language, except that `CPP` selects
    /// a different reset-offset body; we speak exactly the Java client's formats, so `JAVA` tells a peer (and
    /// operators' tools that parse it) precisely which formats to expect. Configurable per client.
    public static let defaultLanguage = LanguageCode.java

    /// The request code (requests) or response code (responses).
    public var code: Int32
    /// The sender's language.
    public var language: LanguageCode
    /// The sender's `MQVersion` ordinal.
    public var version: Int32
    /// The request id; a response echoes its request's.
    public var opaque: Int32
    /// Bit field: ``responseFlag``, ``onewayFlag``.
    public var flag: Int32
    /// Human-readable text, mostly on error responses.
    public var remark: String?
    /// Custom header fields. `nil` (no header object) and empty (a header with no fields) differ in JSON only.
    public var extFields: ExtFields?
    /// The raw body, if any.
    public var body: ByteBuffer?
    /// How the header is (or will be) serialized.
    public var serializeType: SerializeType

    /// Creates a command with every field given.
    public init(
        code: Int32, language: LanguageCode = RemotingCommand.defaultLanguage,
        version: Int32 = RemotingCommand.defaultVersion, opaque: Int32 = 0, flag: Int32 = 0,
        remark: String? = nil, extFields: ExtFields? = nil, body: ByteBuffer? = nil,
        serializeType: SerializeType = .json
    ) {
        self.code = code
        self.language = language
        self.version = version
        self.opaque = opaque
        self.flag = flag
        self.remark = remark
        self.extFields = extFields
        self.body = body
        self.serializeType = serializeType
    }

    /// A request with `code`, custom header fields and body.
    public static func request(
        _ code: RequestCode, opaque: Int32 = 0, extFields: ExtFields? = ExtFields(), body: ByteBuffer? = nil,
        oneway: Bool = false
    ) -> RemotingCommand {
        RemotingCommand(
            code: code.rawValue, opaque: opaque, flag: oneway ? onewayFlag : 0, extFields: extFields, body: body)
    }

    /// A response to `request`: echoes its opaque and serialization, sets the response flag.
    public static func response(
        to request: RemotingCommand, code: ResponseCode, remark: String? = nil, extFields: ExtFields? = nil,
        body: ByteBuffer? = nil, version: Int32 = RemotingCommand.defaultVersion
    ) -> RemotingCommand {
        RemotingCommand(
            code: code.rawValue, version: version, opaque: request.opaque, flag: responseFlag, remark: remark,
            extFields: extFields, body: body, serializeType: request.serializeType)
    }

    /// Whether the response flag is set.
    public var isResponse: Bool {
        get { flag & Self.responseFlag != 0 }
        set { flag = newValue ? flag | Self.responseFlag : flag & ~Self.responseFlag }
    }

    /// Whether the oneway flag is set.
    public var isOneway: Bool {
        get { flag & Self.onewayFlag != 0 }
        set { flag = newValue ? flag | Self.onewayFlag : flag & ~Self.onewayFlag }
    }

    /// The code as a request code (meaningful for requests).
    public var requestCode: RequestCode { RequestCode(code) }
    /// The code as a response code (meaningful for responses).
    public var responseCode: ResponseCode { ResponseCode(code) }

    /// Reads one custom header field.
    public func field(_ key: String) -> String? { extFields?[key] }

    /// The body's bytes as an array (empty when there is no body).
    public var bodyBytes: [UInt8] {
        guard let body else { return [] }
        return body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? []
    }
}

extension RemotingCommand: CustomStringConvertible {
    public var description: String {
        let kind = isResponse ? "response" : (isOneway ? "oneway" : "request")
        let codeText = isResponse ? ResponseCode(code).description : RequestCode(code).description
        var text = "RemotingCommand(\(kind) \(codeText) opaque=\(opaque) v=\(version)"
        if let remark { text += " remark=\(remark.debugDescription)" }
        if let extFields { text += " ext=\(extFields)" }
        if let body { text += " body=\(body.readableBytes)B" }
        return text + ")"
    }
}
