import AMQP
import Events
import Hummingbird
import Logging
import Mongo
import Passwords
import Redis
import ServiceKit

/// Assembles the auth service from its configuration: the same function serves
/// `switchboard auth` and the tests.
public func buildAuthApplication(_ config: AuthConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let service = config.service
    let mongo = try MongoClient(uri: service.mongoURI, threads: 8, logger: logger)
    let database = mongo.database(service.mongoDatabase)
    let redis = RedisClient(host: service.redisHost, port: service.redisPort, logger: logger)
    let publisher = Publisher(config: service.amqp, topology: EventTopology.producer, logger: logger)

    let outbox = Outbox(database: database)
    try await outbox.prepare()
    let users = MongoUserRepository(database: database, outbox: outbox)
    try await users.prepare()
    let relay = OutboxRelay(outbox: outbox, publisher: publisher, logger: logger)

    let keys = try await SigningKeys.load(directory: config.keysDirectory, logger: logger)
    let issuer = TokenIssuer(keys: keys, lifetimeSeconds: config.accessTokenSeconds)
    let hasher = PasswordHasher()
    let decoy = try await hasher.hash("decoy-\(UInt64.random(in: 0...UInt64.max))")

    let router = makeServiceRouter(context: AuthRequestContext.self, checks: [.mongo(mongo), .redis(redis), .amqp(publisher)])
    router.add(middleware: AccessTokenAuthenticator(issuer: issuer))
    AuthRoutes(users: users, hasher: hasher, issuer: issuer, relay: relay, cookieSecure: config.cookieSecure, decoyHash: decoy)
        .add(to: router)

    return Application(
        router: router,
        configuration: .init(address: .hostname(service.host, port: service.port), serverName: "switchboard-auth"),
        // Shut down in reverse: the server, the relay, then the clients.
        services: ClientShutdown.closing(publisher: publisher, redis: redis, mongo: mongo) + [relay],
        logger: logger)
}
