import Logging
import Mongo
import Redis
import ServiceKit
import ServiceLifecycle
import Testing
import TestSupport

/// The clients every service opens are services of its application: they work while the
/// group runs and are closed, in reverse order, when it shuts down gracefully.
@Suite struct ServiceClientsLifecycleTests {
    @Test func clientsWorkWhileTheGroupRunsAndAreClosedWithIt() async throws {
        let config = try ServiceConfiguration.load(service: "lifecycle", defaultPort: 1, from: Environment([
            "MONGO_URI": TestServers.mongoURI, "REDIS_PORT": String(TestServers.redisPort),
        ]))
        let clients = try ServiceClients(config, logger: Logger(label: "lifecycle"))
        let group = ServiceGroup(configuration: .init(services: clients.services, logger: Logger(label: "lifecycle")))
        let running = Task { try await group.run() }
        try await clients.mongo.ping()
        try await clients.redis.command("PING")
        await group.triggerGracefulShutdown()
        try await running.value
        await #expect(throws: (any Error).self, "closed with the group") { try await clients.mongo.ping() }
        await #expect(throws: (any Error).self, "closed with the group") { try await clients.redis.command("PING") }
    }
}
