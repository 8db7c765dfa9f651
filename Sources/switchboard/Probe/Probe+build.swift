import AMQP
import Hummingbird
import Logging
import Mongo
import Redis
import ServiceKit

/// Assembles the probe service from its configuration, the way every service is
/// assembled: clients, readiness checks, the ServiceKit router, and the clients'
/// shutdown after the HTTP server stops.
func buildProbe(_ config: ServiceConfiguration, logger: Logger) throws -> some ApplicationProtocol {
    let mongo = try MongoClient(uri: config.mongoURI, threads: 2, logger: logger)
    let redis = RedisClient(host: config.redisHost, port: config.redisPort, connections: 2, logger: logger)
    let publisher = Publisher(config: config.amqp, logger: logger)
    let router = makeServiceRouter(checks: [.mongo(mongo), .redis(redis), .amqp(publisher)])
    return Application(
        router: router,
        server: config.httpServer,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "switchboard-probe"),
        services: ClientShutdown.closing(publisher: publisher, redis: redis, mongo: mongo),
        logger: logger)
}
