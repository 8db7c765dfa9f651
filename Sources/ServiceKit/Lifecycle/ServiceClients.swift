import Logging
import Mongo
import Redis
import ServiceLifecycle

/// The MongoDB database and Redis every service opens from its configuration.
public struct ServiceClients: Sendable {
    public let mongo: MongoClient
    public let database: MongoDatabase
    public let redis: RedisClient

    /// - Parameter locallyCached: the prefixes of the caches (`ResponseCache`, `FlagCache`)
    ///   the service reads on its hot paths; their entries and the deny-list's are kept in
    ///   the process too (`ClientSideCache`) unless `REDIS_LOCAL_CACHE_SECONDS` is 0.
    public init(_ service: ServiceConfiguration, logger: Logger, locallyCached: [String] = []) throws {
        mongo = try MongoClient(uri: service.mongoURI, threads: service.mongoThreads, logger: logger)
        database = mongo.database(service.mongoDatabase)
        let cache = service.redisLocalCacheSeconds > 0
            ? ClientSideCache(prefixes: [TokenDenyList.keyPrefix] + locallyCached.map(CacheEntries.keyPrefix), maxAge: .seconds(service.redisLocalCacheSeconds),
                              name: "switchboard-\(service.consumerName)-cache")
            : nil
        redis = RedisClient(host: service.redisHost, port: service.redisPort, logger: logger, clientSideCache: cache)
    }

    /// The clients as services, in the order they start (a service group stops them in
    /// reverse, after everything listed after them).
    public var services: [any Service] { [mongo, redis] }
}
