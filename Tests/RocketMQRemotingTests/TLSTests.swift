import NIOCore
import NIOSSL
import RocketMQWire
import RocketMQTestSupport
import Testing

@testable import RocketMQRemoting

/// A self-signed certificate for `localhost` / `127.0.0.1`, made for these tests only (EC P-256, no other use).
enum TestCertificate {
    static let certificate = """
-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUZ+k1McSAyeGHQ4hULludrszFnIYwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMTA5MjAzMFoYDzIxMjYxMDI4
MDkyMDMwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATsU6usMLh7pAoD/kOLo+tFNk1uDyAmyCC+rFMRaDqgW9HcrXBaEVg7
3/kxtivPmF2TKaCLKfzRkWbj4oB5VYMoo28wbTAdBgNVHQ4EFgQUnew368BLBFzq
moUrQhFMDS9M49YwHwYDVR0jBBgwFoAUnew368BLBFzqmoUrQhFMDS9M49YwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSAAwRQIgS5waOxPZZAp0KERcUYuF1URWDh3ogCgeL3fShcGAta8CIQDy
3AFZ3YTOaF8DnOzjWMf/0YSXc0P9XOnNZyzZwM+zfw==
-----END CERTIFICATE-----
"""
    static let privateKey = """
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgglwX5zaik/bMxTtq
KuEZxU7ynWHZiGn55UDPvVFzz/6hRANCAATsU6usMLh7pAoD/kOLo+tFNk1uDyAm
yCC+rFMRaDqgW9HcrXBaEVg73/kxtivPmF2TKaCLKfzRkWbj4oB5VYMo
-----END PRIVATE KEY-----
"""

    static func serverContext() throws -> NIOSSLContext {
        let cert = try NIOSSLCertificate(bytes: Array(certificate.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(privateKey.utf8), format: .pem)
        return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: [.certificate(cert)], privateKey: .privateKey(key)))
    }

    static func trustingClient() throws -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        config.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(certificate.utf8), format: .pem)])
        return config
    }
}

@Suite("TLS connections", .heavy)
struct TLSTests {
    @Test func requestsOverTLS() async throws {
        let server = try await TestServer.start(tls: try TestCertificate.serverContext())
        var config = RemotingClientConfiguration()
        config.tls = try TestCertificate.trustingClient()
        let client = RemotingClient(configuration: config)
        for i in 0..<50 {
            // A debug build's TLS handshake on a loaded 2-core machine can take seconds: this test is about TLS
            // working, so the deadline is generous (the deadline contract has tests of its own).
            let response = try await client.invoke(
                .request(.getMaxOffset, extFields: ["n": String(i)], body: ByteBuffer(string: "tls \(i)")), address: server.address,
                timeout: .seconds(30))
            #expect(response.responseCode == .success && String(buffer: response.body ?? ByteBuffer()) == "tls \(i)")
        }
        await client.shutdown()
        await server.close()
    }

    @Test func untrustedCertificateFailsPromptlyWithATypedError() async throws {
        let server = try await TestServer.start(tls: try TestCertificate.serverContext())
        var config = RemotingClientConfiguration()
        config.tls = TLSConfiguration.makeClientConfiguration()  // system roots: our self-signed cert is not trusted
        let client = RemotingClient(configuration: config)
        await #expect(throws: RemotingError.self) {
            _ = try await client.invoke(.request(.getMaxOffset, extFields: ExtFields()), address: server.address, timeout: .seconds(5))
        }
        await client.shutdown()
        await server.close()
    }
}
