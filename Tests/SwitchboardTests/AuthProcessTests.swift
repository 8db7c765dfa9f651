import AMQP
import Events
import Foundation
import Mongo
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `switchboard auth` as a real process, killed with SIGKILL between its writes and its
/// publishes: the outbox must still deliver every event, once.
@Suite struct AuthProcessTests {
    @Test func signupsDuringABrokerOutageSurviveAProducerCrash() async throws {
        try await TestServers.faultAMQPLock.withLock {
            let broker = TestServers.faultAMQP
            let amqp = AMQPConfiguration(port: broker.port, heartbeatSeconds: 5, maxBackoffSeconds: 0.5)
            let consumerService = TestServers.uniqueName("crash")
            let queue = EventTopology.queue(service: consumerService, type: UserCreated.type)
            try await AMQPAdmin(config: amqp).declare(EventTopology.consumer(service: consumerService, type: UserCreated.type))
            let database = TestServers.uniqueName("authcrash")
            let port = try freeLoopbackPort()
            let environment = [
                "AUTH_PORT": String(port), "MONGO_URI": TestServers.mongoURI, "MONGO_DATABASE": database,
                "REDIS_PORT": String(TestServers.redisPort), "AMQP_PORT": String(broker.port), "LOG_LEVEL": "warning",
                "AUTH_LOGIN_MAX_ATTEMPTS": "1000",
            ]
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("auth-\(port).log").path
            defer { try? FileManager.default.removeItem(atPath: log) }

            // RabbitMQ is down: every signup still succeeds, its event waiting in the outbox.
            try await TestServers.servers("stop", broker.name)
            do {
                try await Self.signUpThroughAnOutageAndACrash(broker: broker, amqp: amqp, queue: queue, port: port, environment: environment, log: log)
            } catch {
                // The other fault tests need the broker back, whatever happened here.
                try? await TestServers.servers("restart", broker.name)
                throw error
            }
            try await AMQPAdmin(config: amqp).deleteQueue(queue)
            try await AMQPAdmin(config: amqp).deleteQueue(EventTopology.deadLetterQueue(service: consumerService, type: UserCreated.type))
            let mongo = try MongoClient(uri: TestServers.mongoURI, threads: 1)
            try await mongo.database(database).drop()
            try await mongo.close()
        }
    }

    static func signUpThroughAnOutageAndACrash(
        broker: (name: String, port: Int), amqp: AMQPConfiguration, queue: String, port: Int, environment: [String: String], log: String
    ) async throws {
        do {
            var auth = try ChildProcess([ProbeProcessTests.binary, "auth"], environment: environment, outputPath: log)
            try await Self.waitUntilServing(port: port)
            var userIds: [String] = []
            for i in 0..<50 {
                let response = try await rawHTTP("POST", port: port, path: "/signup", headers: ["Content-Type": "application/json"], body: """
                    {"firstName":"User","lastName":"\(i)","emailId":"user\(i)@example.com","password":"correct horse \(i)"}
                    """)
                #expect(response.status == 201, "signup \(i): \(response.body)")
                if let object = try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any],
                   let data = object["data"] as? [String: Any], let id = data["id"] as? String {
                    userIds.append(id)
                }
            }
            #expect(userIds.count == 50)

            // The producer dies before it could publish anything; then the broker returns.
            auth.signal(SIGKILL)
            _ = await auth.wait()
            try await TestServers.servers("restart", broker.name)
            let seen = Collected<AMQPDelivery>()
            let consumer = Consumer(config: amqp, queue: queue) { delivery in
                seen.add(delivery)
                return .ack
            }
            consumer.start()
            try await Task.sleep(for: .seconds(1))
            #expect(seen.all.isEmpty, "nothing was published before the crash")

            // The restarted service's relay finds the 50 events and publishes each once.
            auth = try ChildProcess([ProbeProcessTests.binary, "auth"], environment: environment, outputPath: log)
            #expect(await seen.wait(timeout: .seconds(30)) { $0.count >= 50 })
            try await Task.sleep(for: .milliseconds(500))  // room for a duplicate to show up
            let delivered = try seen.all.map { try EventCoding.decoder.decode(EventEnvelope<UserCreated>.self, from: Data($0.message.body)) }
            #expect(delivered.count == 50 && Set(delivered.map(\.id)).count == 50, "each event exactly once")
            #expect(Set(delivered.map(\.data.userId)) == Set(userIds))

            auth.signal(SIGTERM)
            #expect(await auth.wait() == 0)
            await consumer.close()
        }
    }

    /// /health answers once the HTTP server is up, whatever the dependencies say.
    static func waitUntilServing(port: Int) async throws {
        for _ in 0..<150 {
            if let response = try? await rawHTTPGet(port: port, path: "/health"), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ServerNeverAnswered(port: port)
    }

    struct ServerNeverAnswered: Error { let port: Int }
}
