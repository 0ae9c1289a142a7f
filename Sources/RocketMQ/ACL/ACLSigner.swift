import Crypto
import NIOCore
import RocketMQWire

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// ACL 1.0 request signing, exactly as Java's `AclClientRPCHook.doBeforeRequest`.
///
/// The hook adds `AccessKey` (and `SecurityToken` when there is one) to the request's fields, sorts all fields by
/// key in Java `String.compareTo` order (UTF-16 code units: upper case before lower case), concatenates their values
/// without separators (skipping any `Signature`), appends the body, and sets `Signature` to the Base64 of
/// HMAC-SHA1(key: UTF-8 of the secret key, data: UTF-8 of the values followed by the body bytes).
public enum ACLSigner {
    /// The field carrying the access key.
    public static let accessKeyField = "AccessKey"
    /// The field carrying the security token.
    public static let securityTokenField = "SecurityToken"
    /// The field carrying the signature.
    public static let signatureField = "Signature"

    /// Signs `command` in place with `credentials`.
    ///
    /// Signing again (a retried request) replaces the three fields in place and gives the same signature, as in Java.
    /// The fields' Java `HashMap` capacity becomes 256, because the hook's `addExtField` allocates `HashMap(256)`, so
    /// JSON headers list the fields in the same order as Java's. New fields go first for `HashMap` ordering (Java
    /// adds them before `makeCustomHeaderToNet` copies the header fields) and last for `insertion` ordering (Java's
    /// `FastCodesHeader` writes its own fields first).
    public static func sign(_ command: inout RemotingCommand, credentials: SessionCredentials) {
        var fields = command.extFields ?? ExtFields()
        var added: [(String, String)] = []
        for (key, value) in [
            (accessKeyField, Optional(credentials.accessKey)), (securityTokenField, credentials.securityToken),
        ] {
            guard let value else { continue }
            if fields[key] != nil { fields[key] = value } else { added.append((key, value)) }
        }
        if !added.isEmpty {
            switch fields.binaryOrder {
            case .insertion:
                for (key, value) in added { fields[key] = value }
            case .javaHashMap:
                var reordered = ExtFields(added + fields.entries.map { ($0.key, $0.value) })
                reordered.binaryOrder = fields.binaryOrder
                fields = reordered
            }
        }
        fields.javaInitialCapacity = 256
        fields[signatureField] = signature(
            of: signedContent(fields: fields, body: command.body).bytes, secretKey: credentials.secretKey)
        command.extFields = fields
    }

    /// The keys whose values are signed, in signing order, and the exact bytes signed.
    static func signedContent(fields: ExtFields, body: ByteBuffer?) -> (keys: [String], bytes: [UInt8]) {
        let signed = fields.entries.filter { !JavaStringOrder.equals($0.key, signatureField) }.sorted {
            JavaStringOrder.precedes($0.key, $1.key)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(signed.reduce(body?.readableBytes ?? 0) { $0 + $1.value.utf8.count })
        for entry in signed {
            bytes.append(contentsOf: entry.value.utf8)
        }
        if let body {
            body.withUnsafeReadableBytes { bytes.append(contentsOf: $0) }
        }
        return (signed.map(\.key), bytes)
    }

    /// Base64 of HMAC-SHA1 of `data` keyed with the UTF-8 bytes of `secretKey` (Java's `AclSigner.calSignature`).
    static func signature(of data: [UInt8], secretKey: String) -> String {
        let key = SymmetricKey(data: Array(secretKey.utf8))
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key)
        return Data(mac).base64EncodedString()
    }
}
