import Logging
import Mongo
import Redis
import ServiceLifecycle

/// The MongoDB database and Redis every service opens from its configuration.
public struct ServiceClients: Sendable {
    public let mongo: MongoClient
    public let database: MongoDatabase
    public let redis: RedisClient

    public init(_ service: ServiceConfiguration, logger: Logger) throws {
        mongo = try MongoClient(uri: service.mongoURI, threads: service.mongoThreads, logger: logger)
        database = mongo.database(service.mongoDatabase)
        redis = RedisClient(host: service.redisHost, port: service.redisPort, logger: logger)
    }

    /// The clients as services, in the order they start (a service group stops them in
    /// reverse, after everything listed after them).
    public var services: [any Service] { [mongo, redis] }
}
