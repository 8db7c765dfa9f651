import AMQP
import EdgeContract
import Events
import Foundation
import Hummingbird
import Logging
import Mongo
import Passwords
import Redis
import ServiceKit

/// Assembles the auth service from its configuration: the same function serves
/// `switchboard auth` and the tests (which may set `clock`: when tokens are issued).
public func buildAuthApplication(
    _ config: AuthConfiguration, logger: Logger, routes: RouteCatalog? = nil, clock: @escaping @Sendable () -> Date = { Date() }
) async throws -> some ApplicationProtocol {
    let service = config.service
    let cachePrefix = "auth:v2:me"
    let clients = try ServiceClients(service, logger: logger, locallyCached: [cachePrefix])
    let (mongo, database, redis) = (clients.mongo, clients.database, clients.redis)
    let events = EventProducer(database: database, amqp: service.amqp, logger: logger)
    let (outbox, publisher, relay) = (events.outbox, events.publisher, events.relay)

    let users = MongoUserRepository(database: database, outbox: outbox)
    let sessions = MongoSessionStore(database: database, lifetimeDays: config.refreshTokenDays, graceSeconds: config.refreshGraceSeconds)

    let keys = try await SigningKeys.load(
        signingKeyPEM: config.signingKeyPEM, verifyOnlyPEMs: config.verifyKeysPEM, directory: config.keysDirectory, logger: logger)
    let issuer = TokenIssuer(keys: keys, lifetimeSeconds: config.accessTokenSeconds)
    let denyList = TokenDenyList(redis: redis, logger: logger)
    let hasher = PasswordHasher()
    let decoy = try await hasher.hash("decoy-\(UInt64.random(in: 0...UInt64.max))")

    let router = makeServiceRouter(checks: [.mongo(mongo), .redis(redis), .amqp(publisher)])
    // Auth verifies with its own keys; every other service uses JWKSVerifier.
    // A record's public fields never change while it exists: the time only bounds memory.
    let meAnswers = ResponseCache(redis: redis, prefix: cachePrefix, ttlSeconds: 600, logger: logger)
    router.add(middleware: AuthenticationMiddleware(verifier: issuer, denyList: denyList, prefetch: AuthRoutes.prefetch(meAnswers)))
    AuthRoutes(
        users: users, meAnswers: meAnswers,
        sessions: sessions, denyList: denyList,
        throttle: LoginThrottle(redis: redis, maxAttempts: config.loginMaxAttempts, windowSeconds: config.loginWindowSeconds, logger: logger),
        clientAddress: ClientAddress(trustedProxies: service.trustedProxies),
        hasher: hasher, issuer: issuer, relay: relay,
        cookies: SessionCookies(secure: config.cookieSecure, accessSeconds: config.accessTokenSeconds, refreshSeconds: config.refreshTokenDays * 86_400),
        decoyHash: decoy, now: clock
    ).add(to: router)

    routes?.record("auth", router)
    var app = Application(
        router: router,
        server: service.httpServer,
        configuration: .init(address: .hostname(service.host, port: service.port), serverName: "switchboard-auth"),
        // Started in this order; a graceful shutdown stops the HTTP server first, then these in reverse.
        services: clients.services + [publisher, relay],
        logger: logger)
    app.beforeServerStarts {
        try await outbox.prepare()
        try await users.prepare()
        try await sessions.prepare()
    }
    return app
}
