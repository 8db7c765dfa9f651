@testable import Auth
import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import Redis
import ServiceKit
import TestSupport
import Testing

/// Signing keys from the environment, rolled without logging anyone out; and another
/// service that trusts auth's tokens through the JWKS alone.
@Suite struct KeyRotationTests {
    static func pem(_ key: JWTKit.Insecure.RSA.PrivateKey) throws -> String { key.pemRepresentation }

    @Test func aRolledKeySignsWhileTheOldOneStillVerifies() async throws {
        let old = try SigningKeys.generate()
        let new = try SigningKeys.generate()
        let logger = Logger(label: "keys-test")
        let before = try await SigningKeys.load(signingKeyPEM: try Self.pem(old), verifyOnlyPEMs: nil, directory: nil, logger: logger)
        let oldToken = try await TokenIssuer(keys: before, lifetimeSeconds: 900).issue(userId: "u1", email: "a@b.cd", role: "user", sessionId: nil).token

        // The roll: the old key moves to AUTH_VERIFY_KEYS (escaped newlines, as some platforms pass them).
        let env = Environment([
            "AUTH_SIGNING_KEY": try Self.pem(new),
            "AUTH_VERIFY_KEYS": try Self.pem(old).replacingOccurrences(of: "\n", with: "\\n"),
        ])
        let config = try AuthConfiguration.load(from: env)
        let after = try await SigningKeys.load(signingKeyPEM: config.signingKeyPEM, verifyOnlyPEMs: config.verifyKeysPEM, directory: nil, logger: logger)
        let issuer = TokenIssuer(keys: after, lifetimeSeconds: 900)
        let newKid = try SigningKeys.thumbprint(of: new)
        #expect(after.activeKid != before.activeKid && after.activeKid == newKid)
        #expect(after.jwks.keys.count == 2)
        let claims = try await issuer.verify(oldToken)
        #expect(claims.userId == "u1", "tokens signed before the roll keep working")
        let newToken = try await issuer.issue(userId: "u2", email: "a@b.cd", role: "user", sessionId: nil).token
        let header = try JSONSerialization.jsonObject(with: base64URLDecode(String(newToken.split(separator: ".")[0]))) as? [String: Any]
        #expect(header?["kid"] as? String == after.activeKid)

        // Retiring the old key ends its tokens.
        let retired = try await SigningKeys.load(signingKeyPEM: try Self.pem(new), verifyOnlyPEMs: nil, directory: nil, logger: logger)
        await #expect(throws: (any Error).self) { try await TokenIssuer(keys: retired, lifetimeSeconds: 900).verify(oldToken) }

        await #expect(throws: SigningKeys.KeyError.self) {
            _ = try await SigningKeys.load(signingKeyPEM: "not a key", verifyOnlyPEMs: nil, directory: nil, logger: logger)
        }
    }

    @Test func aKeysDirectoryWithoutAKeyGetsOneThatLastsAcrossRestarts() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)/nested").path
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path) }
        let logger = Logger(label: "keys-test")
        let first = try await SigningKeys.load(signingKeyPEM: nil, verifyOnlyPEMs: nil, directory: directory, logger: logger)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.count == 1 && files[0].hasSuffix(".pem") && first.activeKid == String(files[0].dropLast(4)))
        let mode = try FileManager.default.attributesOfItem(atPath: "\(directory)/\(files[0])")[.posixPermissions] as? Int
        #expect(mode == 0o600, "the private key is readable by its owner alone")
        let token = try await TokenIssuer(keys: first, lifetimeSeconds: 900).issue(userId: "u1", email: "a@b.cd", role: "user", sessionId: nil).token
        let restarted = try await SigningKeys.load(signingKeyPEM: nil, verifyOnlyPEMs: nil, directory: directory, logger: logger)
        let filesAfter = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(restarted.activeKid == first.activeKid && filesAfter.count == 1)
        let claims = try await TokenIssuer(keys: restarted, lifetimeSeconds: 900).verify(token)
        #expect(claims.userId == "u1", "a token from before the restart still verifies")
    }

    /// Another service checks tokens with auth's JWKS over HTTP, never calling auth per
    /// request, and honours logout through the deny-list.
    @Test func anotherServiceTrustsTheJWKSAndHonoursLogout() async throws {
        try await withAuthApp(live: true) { auth, _ in
            let session = try await signup(auth)
            let redis = RedisClient(port: TestServers.redisPort)
            let logger = Logger(label: "other-service")
            let router = makeServiceRouter(checks: [])
            router.add(middleware: AuthenticationMiddleware(
                verifier: JWKSVerifier(url: "http://127.0.0.1:\(auth.port!)/.well-known/jwks.json", logger: logger),
                denyList: TokenDenyList(redis: redis, logger: logger)))
            router.get("/whoami") { _, context in try context.requireIdentity().email }
            try await Application(router: router).test(.router) { other in
                try await other.execute(uri: "/whoami", method: .get, headers: [.authorization: "Bearer \(session.access_token)"]) { response in
                    #expect(response.status == .ok && String(buffer: response.body) == "ada@example.com")
                }
                try await other.execute(uri: "/whoami", method: .get, headers: [.cookie: "token=\(session.access_token)"]) { response in
                    #expect(response.status == .ok, "the reference system's cookie works too")
                }
                try await auth.execute(uri: "/logout", method: .post, headers: [.authorization: "Bearer \(session.access_token)"]) {
                    #expect($0.status == .ok)
                }
                try await other.execute(uri: "/whoami", method: .get, headers: [.authorization: "Bearer \(session.access_token)"]) { response in
                    #expect(response.status == .unauthorized)
                }
            }
            try await redis.close()
        }
    }
}
