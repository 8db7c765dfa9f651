import AMQP
import ArgumentParser
import Mongo
import Redis
import ServiceKit

/// Connects to every backing server with the same clients and configuration the
/// services use, and reports each one: `scripts/up` runs it to prove the stack works.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that MongoDB, Redis and RabbitMQ answer.")

    func run() async throws {
        let config = try ServiceConfiguration.load(service: "switchboard", defaultPort: 3000)
        let mongo = try MongoClient(uri: config.mongoURI, threads: 1)
        let redis = RedisClient(host: config.redisHost, port: config.redisPort, connections: 1)
        let amqp = config.amqp
        let checks: [ReadinessCheck] = [
            .mongo(mongo), .redis(redis),
            ReadinessCheck("rabbitmq") { try await AMQPAdmin(config: amqp).waitUntilReachable(timeout: .seconds(1)) },
        ]
        var failed = false
        for check in checks {
            do {
                try await check.probe()
                print("\(check.name): up")
            } catch {
                failed = true
                print("\(check.name): down (\(error))")
            }
        }
        try await mongo.close()
        try await redis.close()
        if failed { throw ExitCode.failure }
    }
}
