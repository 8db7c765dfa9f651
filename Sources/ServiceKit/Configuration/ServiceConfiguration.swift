import AMQP
import EdgeContract
import Logging

/// What every service reads from its environment. Defaults suit a local run
/// (`scripts/up`); each is documented in the README's configuration table.
public struct ServiceConfiguration: Sendable {
    /// `SWITCHBOARD_HOST` (default 127.0.0.1) and `<SERVICE>_PORT` (the service's own default).
    public var host: String
    public var port: Int
    /// `MONGO_URI` (default mongodb://127.0.0.1:27017/) and `MONGO_DATABASE` (default `<service>DB`).
    public var mongoURI: String
    public var mongoDatabase: String
    /// `MONGO_THREADS` (8): concurrent MongoDB calls, each on a pooled connection of its own.
    public var mongoThreads: Int
    /// `REDIS_HOST` (127.0.0.1), `REDIS_PORT` (6379).
    public var redisHost: String
    public var redisPort: Int
    /// `REDIS_LOCAL_CACHE_SECONDS` (10; 0 turns it off): how long this process may keep the
    /// cached answers, permission flags and deny-list entries it read from Redis, which
    /// tells it at once when any of them changes (`ClientSideCache`).
    public var redisLocalCacheSeconds: Int
    /// `AMQP_HOST` (127.0.0.1), `AMQP_PORT` (5672), `AMQP_USER` (guest), `AMQP_PASSWORD` (guest),
    /// `AMQP_VHOST` (/), `AMQP_HEARTBEAT_SECONDS` (10).
    public var amqp: AMQPConfiguration
    /// `EVENTS_CONSUMER_NAME` (the service's name): the prefix of its event queues. Replicas
    /// share it (each event goes to one of them); tests give each run its own.
    public var consumerName: String
    /// `TRUSTED_PROXIES` (127.0.0.1,::1): peers whose `X-Forwarded-For` is believed.
    public var trustedProxies: [IPNetwork]
    /// `AUTH_JWKS_URL` (http://127.0.0.1:5000/.well-known/jwks.json): auth's public keys.
    public var jwksURL: String
    /// `SHUTDOWN_GRACE_SECONDS` (20): on SIGTERM, how long requests and WebSockets in flight
    /// may take to finish before their connections are cut (below Kubernetes' 30 s default).
    public var shutdownGrace: Duration
    /// `LOG_LEVEL` (info) and `LOG_FORMAT` (json | text, default json).
    public var logLevel: Logger.Level
    public var logFormat: LogFormat

    public static func load(service: String, defaultPort: Int, from env: Environment = Environment()) throws -> ServiceConfiguration {
        let level = try env.oneOf("LOG_LEVEL", Logger.Level.allCases.map(\.rawValue), default: "info")
        let format = try env.oneOf("LOG_FORMAT", ["json", "text"], default: "json")
        return ServiceConfiguration(
            host: env.string("SWITCHBOARD_HOST", default: "127.0.0.1"),
            port: try env.port("\(service.uppercased())_PORT", default: defaultPort),
            mongoURI: try env.url("MONGO_URI", default: "mongodb://127.0.0.1:27017/", schemes: ["mongodb", "mongodb+srv"]),
            mongoDatabase: env.string("MONGO_DATABASE", default: "\(service)DB"),
            mongoThreads: try env.int("MONGO_THREADS", default: 8, in: 1...64),
            redisHost: env.string("REDIS_HOST", default: "127.0.0.1"),
            redisPort: try env.port("REDIS_PORT", default: 6379),
            redisLocalCacheSeconds: try env.int("REDIS_LOCAL_CACHE_SECONDS", default: 10, in: 0...3600),
            amqp: AMQPConfiguration(
                host: env.string("AMQP_HOST", default: "127.0.0.1"),
                port: try env.port("AMQP_PORT", default: 5672),
                user: env.string("AMQP_USER", default: "guest"),
                password: env.string("AMQP_PASSWORD", default: "guest"),
                virtualHost: env.string("AMQP_VHOST", default: "/"),
                heartbeatSeconds: try env.int("AMQP_HEARTBEAT_SECONDS", default: 10, in: 0...600)),
            consumerName: env.string("EVENTS_CONSUMER_NAME", default: service),
            trustedProxies: try env.networks("TRUSTED_PROXIES", default: "127.0.0.1,::1"),
            jwksURL: try env.url("AUTH_JWKS_URL", default: "http://127.0.0.1:5000/.well-known/jwks.json", schemes: ["http"]),
            shutdownGrace: .seconds(try env.int("SHUTDOWN_GRACE_SECONDS", default: 20, in: 0...600)),
            logLevel: Logger.Level(rawValue: level) ?? .info,
            logFormat: format == "text" ? .text : .json)
    }
}
