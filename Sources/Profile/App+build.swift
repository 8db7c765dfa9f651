import Events
import Hummingbird
import Logging
import Mongo
import Redis
import ServiceKit

/// Assembles the profile service from its configuration: the same function serves
/// `switchboard profile` and the tests.
public func buildProfileApplication(_ config: ProfileConfiguration, logger: Logger, routes: RouteCatalog? = nil) async throws -> some ApplicationProtocol {
    let service = config.service
    let cachePrefix = "profile:v2"
    let clients = try ServiceClients(service, logger: logger, locallyCached: [cachePrefix])
    let (mongo, database, redis) = (clients.mongo, clients.database, clients.redis)

    let profiles = MongoProfileRepository(database: database)
    let pictures = PictureStore(database: database)
    // Whole answers of the profile reads (v2: the answer's bytes; v1 held the view).
    let cache = ResponseCache(redis: redis, prefix: cachePrefix, ttlSeconds: config.cacheSeconds, logger: logger)

    let consumer = EventConsumer(service: service.consumerName, mongo: mongo, database: service.mongoDatabase, amqp: service.amqp, logger: logger)
    ProfileEvents.register(on: consumer, profiles: profiles, pictures: pictures, cache: cache)

    let router = makeServiceRouter(checks: [.mongo(mongo), .redis(redis), .amqp(consuming: { consumer.isConnected })])
    let profileRoutes = ProfileRoutes(profiles: profiles, pictures: pictures, cache: cache, pictureMaxBytes: config.pictureMaxBytes)
    router.add(middleware: AuthenticationMiddleware(jwksURL: service.jwksURL, redis: redis, logger: logger, prefetch: profileRoutes.prefetch))
    profileRoutes.add(to: router)

    routes?.record("profile", router)
    var app = Application(
        router: router,
        server: service.httpServer,
        configuration: .init(address: .hostname(service.host, port: service.port), serverName: "switchboard-profile"),
        // Started in this order; a graceful shutdown stops the HTTP server first, then these in reverse.
        services: clients.services + [consumer],
        logger: logger)
    app.beforeServerStarts {
        try await profiles.prepare()
        try await consumer.prepare()
    }
    return app
}
