/// ACL 1.0 credentials (Java's `org.apache.rocketmq.acl.common.SessionCredentials`).
///
/// Brokers with `aclEnable=true` check every request's `Signature` against the secret key they hold for
/// ``accessKey``; see ``ACLSigner``.
public struct SessionCredentials: Sendable, Hashable, CustomStringConvertible {
    /// The access key, sent in clear as the `AccessKey` field.
    public var accessKey: String
    /// The secret key; never sent, only used to sign. Java refuses an empty one (`SecretKeySpec` throws).
    public var secretKey: String
    /// An optional security token (STS), sent and signed as the `SecurityToken` field.
    public var securityToken: String?

    /// Creates credentials.
    public init(accessKey: String, secretKey: String, securityToken: String? = nil) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.securityToken = securityToken
    }

    /// The access key, with the secret key and token redacted.
    public var description: String {
        "SessionCredentials(accessKey: \(accessKey), secretKey: <redacted>"
            + (securityToken == nil ? ")" : ", securityToken: <redacted>)")
    }
}
