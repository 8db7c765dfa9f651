import AMQP
import Events
import Hummingbird
import Logging
import Mongo
import Redis
import ServiceKit

/// Assembles the request service from its configuration: the same function serves
/// `switchboard request` and the tests.
public func buildRequestApplication(_ config: RequestConfiguration, logger: Logger, routes: RouteCatalog? = nil) async throws -> some ApplicationProtocol {
    let service = config.service
    let cachePrefix = "request:v2"
    let clients = try ServiceClients(service, logger: logger, locallyCached: [cachePrefix])
    let (mongo, database, redis) = (clients.mongo, clients.database, clients.redis)
    let events = EventProducer(database: database, amqp: service.amqp, logger: logger)
    let (outbox, publisher, relay) = (events.outbox, events.publisher, events.relay)

    let directory = MongoDirectory(database: database)
    let invites = MongoInviteRepository(database: database, outbox: outbox)
    let lists = InviteLists(
        invites: invites, directory: directory,
        cache: ResponseCache(redis: redis, prefix: cachePrefix, ttlSeconds: config.cacheSeconds, logger: logger))

    let consumer = EventConsumer(service: service.consumerName, mongo: mongo, database: service.mongoDatabase, amqp: service.amqp, logger: logger)
    RequestEvents.register(on: consumer, directory: directory, invites: invites, lists: lists)

    let router = makeServiceRouter(checks: [.mongo(mongo), .redis(redis), .amqp(publisher)])
    router.add(middleware: AuthenticationMiddleware(jwksURL: service.jwksURL, redis: redis, logger: logger, prefetch: lists.prefetch))
    InviteRoutes(invites: invites, directory: directory, lists: lists, relay: relay).add(to: router)

    routes?.record("request", router)
    var app = Application(
        router: router,
        server: service.httpServer,
        configuration: .init(address: .hostname(service.host, port: service.port), serverName: "switchboard-request"),
        // Started in this order; a graceful shutdown stops the HTTP server first, then these in reverse.
        services: clients.services + [publisher, relay, consumer],
        logger: logger)
    app.beforeServerStarts {
        try await outbox.prepare()
        try await directory.prepare()
        try await invites.prepare()
        try await consumer.prepare()
    }
    return app
}
