import AMQP
import Hummingbird
import Logging
import Mongo
import Redis
import ServiceKit

/// Assembles the probe service from its configuration, the way every service is
/// assembled: clients, readiness checks, the ServiceKit router, and the clients as
/// services that stop after the HTTP server.
func buildProbe(_ config: ServiceConfiguration, logger: Logger) throws -> some ApplicationProtocol {
    let mongo = try MongoClient(uri: config.mongoURI, threads: 2, logger: logger)
    let redis = RedisClient(host: config.redisHost, port: config.redisPort, connections: 2, logger: logger)
    let publisher = Publisher(config: config.amqp, logger: logger)
    let router = makeServiceRouter(checks: [.mongo(mongo), .redis(redis), .amqp(publisher)])
    return Application(
        router: router,
        server: config.httpServer,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "switchboard-probe"),
        // Started in this order, stopped in reverse after the HTTP server.
        services: [mongo, redis, publisher],
        logger: logger)
}
