import AMQP
import Events
import Foundation
import Mongo
import Synchronization
import TestSupport

/// A consuming service name, database and broker of one test, cleaned up afterwards.
struct EventTestBed {
    let service = TestServers.uniqueName("svc")
    let mongo: MongoClient
    let database: MongoDatabase
    let amqp: AMQPConfiguration

    init(amqpPort: Int = TestServers.amqpPort) throws {
        mongo = try MongoClient(uri: TestServers.mongoURI, threads: 4)
        database = mongo.database(TestServers.uniqueName("events"))
        amqp = AMQPConfiguration(port: amqpPort, heartbeatSeconds: 5, maxBackoffSeconds: 0.5)
    }

    func queue<P: EventPayload>(_ type: P.Type) -> String { EventTopology.queue(service: service, type: P.type) }
    func deadQueue<P: EventPayload>(_ type: P.Type) -> String { EventTopology.deadLetterQueue(service: service, type: P.type) }

    func envelopeBody<P: EventPayload>(_ envelope: EventEnvelope<P>) throws -> AMQPMessage { try .event(envelope) }

    func cleanUp(_ types: [any EventPayload.Type]) async throws {
        let admin = AMQPAdmin(config: amqp)
        for type in types {
            try await admin.deleteQueue(EventTopology.queue(service: service, type: type.type))
            try await admin.deleteQueue(EventTopology.deadLetterQueue(service: service, type: type.type))
        }
        try await database.drop()
        try await mongo.close()
    }
}

/// Deliveries a plain test consumer saw.
typealias Seen = Collected<AMQPDelivery>

/// A counter document the handlers bump inside their transaction.
struct Counter: Codable, Sendable {
    var _id: String
    var n: Int
}
