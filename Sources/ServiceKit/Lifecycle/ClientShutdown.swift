import AMQP
import Mongo
import Redis
import ServiceLifecycle

/// Closes a client (Mongo, Redis, AMQP) when the service group shuts down gracefully
/// (SIGTERM or SIGINT under `Application.runService()`), after the HTTP server that
/// uses it has stopped taking requests: list it after the server in the group.
public struct ClientShutdown: Service, CustomStringConvertible {
    public let name: String
    let close: @Sendable () async -> Void

    public init(_ name: String, close: @escaping @Sendable () async -> Void) {
        self.name = name
        self.close = close
    }

    public var description: String { "ClientShutdown(\(name))" }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}

extension ClientShutdown {
    /// The shutdowns of a service's usual clients, in the order they should close.
    public static func closing(publisher: Publisher? = nil, redis: RedisClient, mongo: MongoClient) -> [any Service] {
        (publisher.map { publisher in [ClientShutdown("rabbitmq") { await publisher.close() }] } ?? []) + [
            ClientShutdown("redis") { try? await redis.close() },
            ClientShutdown("mongo") { try? await mongo.close() },
        ]
    }
}
