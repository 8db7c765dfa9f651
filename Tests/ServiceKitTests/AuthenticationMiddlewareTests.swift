import Crypto
import CryptoExtras
import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import Redis
import ServiceKit
import Synchronization
import TestSupport
import Testing

/// A service that verifies tokens from a JWKS it fetches over HTTP, and the deny-list in Redis.
@Suite struct AuthenticationMiddlewareTests {
    /// A signing key with its JWK, as auth would publish it.
    struct Key {
        let kid: String
        let collection: JWTKeyCollection
        let jwk: [String: String]

        init(kid: String) async throws {
            let key = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
            self.kid = kid
            collection = await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
            let (n, e) = try key.publicKey.getKeyPrimitives()
            jwk = ["kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": base64URL(n), "e": base64URL(e)]
        }

        func token(user: String = "u1", jti: String = UUID().uuidString, kid: String? = nil, lifetime: TimeInterval = 900) async throws -> String {
            let now = Date()
            let claims = AccessClaims(sub: user, email: "\(user)@example.com", role: "user", iat: now, exp: now.addingTimeInterval(lifetime), jti: jti, sid: nil)
            return try await collection.sign(claims, kid: JWKIdentifier(string: kid ?? self.kid))
        }
    }

    /// Serves a JWKS document that the test can change, counting fetches.
    final class KeyServer: Sendable {
        let keys = Mutex<[[String: String]]>([])
        let fetches = Atomic<Int>(0)

        var application: some ApplicationProtocol {
            let router = Router()
            router.get("/jwks") { _, _ -> Response in
                self.fetches.add(1, ordering: .relaxed)
                let document = try JSONSerialization.data(withJSONObject: ["keys": self.keys.withLock { $0 }])
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
            }
            return Application(router: router)
        }
    }

    /// A service route behind the middleware: who is calling, or 401.
    static func service(jwksURL: String, redis: RedisClient?) -> some ApplicationProtocol {
        let router = makeServiceRouter(checks: [])
        let logger = Logger(label: "jwks-test")
        router.add(middleware: AuthenticationMiddleware(
            verifier: JWKSVerifier(url: jwksURL, logger: logger), denyList: redis.map { TokenDenyList(redis: $0, logger: logger) }))
        router.get("/whoami") { _, context in try context.requireIdentity().userId }
        return Application(router: router)
    }

    static func whoami(_ client: some TestClientProtocol, _ token: String?) async throws -> String {
        try await client.execute(uri: "/whoami", method: .get, headers: token.map { [.authorization: "Bearer \($0)"] } ?? [:]) { response in
            response.status == .ok ? String(buffer: response.body) : "\(response.status.code)"
        }
    }

    static func expectCaller(_ client: some TestClientProtocol, _ token: String?, _ expected: String, comment: Comment? = nil,
                             sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let caller = try await whoami(client, token)
        #expect(caller == expected, comment, sourceLocation: sourceLocation)
    }

    @Test func verifiesLocallyAndFetchesAgainOnlyForANewKey() async throws {
        let server = KeyServer()
        let first = try await Key(kid: "k1")
        server.keys.withLock { $0 = [first.jwk] }
        try await server.application.test(.live) { keyClient in
            let url = "http://127.0.0.1:\(keyClient.port!)/jwks"
            try await Self.service(jwksURL: url, redis: nil).test(.router) { client in
                try await Self.expectCaller(client, first.token(user: "ada"), "ada")
                try await Self.expectCaller(client, first.token(user: "bob"), "bob")
                #expect(server.fetches.load(ordering: .relaxed) == 1, "one fetch serves every request")

                // Auth rolls a new key: the first token signed with it makes the service look again.
                let second = try await Key(kid: "k2")
                server.keys.withLock { $0 = [first.jwk, second.jwk] }
                try await Task.sleep(for: .milliseconds(1100))  // past the minimum interval between fetches
                try await Self.expectCaller(client, second.token(user: "cy"), "cy")
                try await Self.expectCaller(client, first.token(user: "ada"), "ada", comment: "the old key still verifies")
                #expect(server.fetches.load(ordering: .relaxed) == 2)

                // Made-up kids cannot make the service hammer auth: at most one fetch a second.
                let storm = ContinuousClock.now
                for i in 0..<100 {
                    try await Self.expectCaller(client, second.token(kid: "forged-\(i)"), "401")
                }
                let seconds = Int(((ContinuousClock.now - storm) / .seconds(1)).rounded(.up))
                let fetches = server.fetches.load(ordering: .relaxed) - 2
                #expect(fetches <= seconds, "\(fetches) fetches for 100 forged tokens in \(seconds) s")

                // Refused outright: expired, another key set under a known kid, no token.
                try await Self.expectCaller(client, first.token(lifetime: -60), "401")
                let stranger = try await Key(kid: "k1")
                try await Self.expectCaller(client, stranger.token(), "401")
                try await Self.expectCaller(client, nil, "401")
            }
        }
    }

    @Test func aDeniedTokenIsRefused() async throws {
        let server = KeyServer()
        let key = try await Key(kid: "k1")
        server.keys.withLock { $0 = [key.jwk] }
        let redis = RedisClient(port: TestServers.redisPort)
        let jti = UUID().uuidString
        let token = try await key.token(user: "ada", jti: jti)
        try await server.application.test(.live) { keyClient in
            try await Self.service(jwksURL: "http://127.0.0.1:\(keyClient.port!)/jwks", redis: redis).test(.router) { client in
                try await Self.expectCaller(client, token, "ada")
                try await TokenDenyList(redis: redis, logger: Logger(label: "test")).deny([(jti, Date().addingTimeInterval(60))])
                try await Self.expectCaller(client, token, "401")
                try await Self.expectCaller(client, key.token(user: "ada"), "ada", comment: "only that token")
            }
        }
        _ = try await redis.del("auth:denied-jti:\(jti)")
        try await redis.close()
    }

    /// With the deny-list kept in the process (`ClientSideCache`), a token another replica
    /// denies is refused here as soon as Redis's invalidation arrives, and a denial made here
    /// at once.
    @Test func aTokenDeniedOnAnotherReplicaIsRefusedHereToo() async throws {
        let server = KeyServer()
        let key = try await Key(kid: "k1")
        server.keys.withLock { $0 = [key.jwk] }
        let cache = ClientSideCache(prefixes: [TokenDenyList.keyPrefix], name: TestServers.uniqueName("deny-cache"))
        let redis = RedisClient(port: TestServers.redisPort, clientSideCache: cache)
        let otherReplica = RedisClient(port: TestServers.redisPort)
        let running = Task { try? await redis.run() }
        #expect(await eventually(timeout: .seconds(10)) { cache.isLive })
        let (elsewhere, here) = (UUID().uuidString, UUID().uuidString)
        let (deniedElsewhere, deniedHere) = try await (key.token(user: "ada", jti: elsewhere), key.token(user: "ada", jti: here))
        try await server.application.test(.live) { keyClient in
            try await Self.service(jwksURL: "http://127.0.0.1:\(keyClient.port!)/jwks", redis: redis).test(.router) { client in
                try await Self.expectCaller(client, deniedElsewhere, "ada")
                try await Self.expectCaller(client, deniedHere, "ada")
                let hits = cache.counts.hits
                try await Self.expectCaller(client, deniedElsewhere, "ada")
                #expect(cache.counts.hits > hits, "the deny-list was read from the process")

                try await TokenDenyList(redis: otherReplica, logger: Logger(label: "test")).deny([(elsewhere, Date().addingTimeInterval(60))])
                let refused = await eventually(timeout: .seconds(5)) { try await Self.whoami(client, deniedElsewhere) == "401" }
                #expect(refused, "a token denied on another replica is refused here")

                try await TokenDenyList(redis: redis, logger: Logger(label: "test")).deny([(here, Date().addingTimeInterval(60))])
                try await Self.expectCaller(client, deniedHere, "401", comment: "a denial made here is refused at once")
            }
        }
        _ = try await otherReplica.del(TokenDenyList.keyPrefix + elsewhere, TokenDenyList.keyPrefix + here)
        try await otherReplica.close()
        running.cancel()
        await running.value
    }

    /// A route's Redis read named by `prefetch` comes with the deny-list check (one MGET) and
    /// is left on the context; a denied token gets neither identity nor the read, and other
    /// paths get no read.
    @Test func thePrefetchedReadComesWithTheDenyCheck() async throws {
        let server = KeyServer()
        let key = try await Key(kid: "k1")
        server.keys.withLock { $0 = [key.jwk] }
        let redis = RedisClient(port: TestServers.redisPort)
        let logger = Logger(label: "prefetch-test")
        let (jti, other) = (UUID().uuidString, UUID().uuidString)
        let token = try await key.token(user: "ada", jti: jti)
        let entry = "test:prefetch:\(jti)"
        _ = try await redis.set(entry, "cached for ada", expireSeconds: 60)
        try await server.application.test(.live) { keyClient in
            let router = makeServiceRouter(checks: [])
            router.add(middleware: AuthenticationMiddleware(
                verifier: JWKSVerifier(url: "http://127.0.0.1:\(keyClient.port!)/jwks", logger: logger),
                denyList: TokenDenyList(redis: redis, logger: logger),
                prefetch: { request, claims in request.uri.path == "/cached" ? "test:prefetch:\(claims.jti.value)" : nil }))
            // What the route found: the prefetched key and value, or "none".
            let found: @Sendable (Request, ServiceRequestContext) async throws -> String = { _, context in
                _ = try context.requireIdentity()
                guard let read = context.prefetched else { return "none" }
                return "\(read.key)=\(read.value.map { String(decoding: $0, as: UTF8.self) } ?? "nil")"
            }
            router.get("/cached", use: found)
            router.get("/other", use: found)
            try await Application(router: router).test(.router) { client in
                func get(_ path: String, _ token: String) async throws -> String {
                    try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                        response.status == .ok ? String(buffer: response.body) : "\(response.status.code)"
                    }
                }
                #expect(try await get("/cached", token) == "\(entry)=cached for ada")
                #expect(try await get("/other", token) == "none")
                #expect(try await get("/cached", key.token(user: "ada", jti: other)) == "test:prefetch:\(other)=nil", "a miss is read too")
                try await TokenDenyList(redis: redis, logger: logger).deny([(jti, Date().addingTimeInterval(60))])
                #expect(try await get("/cached", token) == "401")
                #expect(try await get("/other", token) == "401")
            }
        }
        _ = try await redis.del(["auth:denied-jti:\(jti)", entry])
        try await redis.close()
    }

    /// Where the token is read from: `Authorization: Bearer` in any case, spaces and tabs
    /// around it dropped, else the `token` cookie; nothing for an empty or other scheme.
    @Test func theTokenComesFromTheBearerHeaderElseTheCookie() {
        typealias Middleware = AuthenticationMiddleware<ServiceRequestContext>
        #expect(Middleware.token(in: [.authorization: "Bearer abc.def.ghi"]) == "abc.def.ghi")
        #expect(Middleware.token(in: [.authorization: "bEaReR \t abc.def \t "]) == "abc.def")
        #expect(Middleware.token(in: [.authorization: "Bearer    "]) == nil)
        #expect(Middleware.token(in: [.authorization: "Basic abc"]) == nil)
        #expect(Middleware.token(in: [.cookie: "a=1; token=from.cookie"]) == "from.cookie")
        #expect(Middleware.token(in: [.authorization: "Bearer from.header", .cookie: "token=from.cookie"]) == "from.header")
        #expect(Middleware.token(in: [.cookie: "token="]) == nil)
    }

    @Test func withoutKeysTheServiceSaysUnavailableNotUnauthorized() async throws {
        let key = try await Key(kid: "k1")
        // Nothing listens on port 1.
        try await Self.service(jwksURL: "http://127.0.0.1:1/jwks", redis: nil).test(.router) { client in
            try await Self.expectCaller(client, key.token(), "503")
            try await Self.expectCaller(client, nil, "401", comment: "no token needs no keys")
        }
    }
}

private func base64URL(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
}
