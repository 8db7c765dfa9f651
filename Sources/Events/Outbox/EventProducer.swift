import AMQP
import Logging
import Mongo

/// What a service that publishes events opens: the outbox in its own database, the
/// publisher, and the relay that moves one to the other.
public struct EventProducer: Sendable {
    public let outbox: Outbox
    public let publisher: Publisher
    public let relay: OutboxRelay

    public init(database: MongoDatabase, amqp: AMQPConfiguration, logger: Logger) async throws {
        outbox = Outbox(database: database)
        try await outbox.prepare()
        publisher = Publisher(config: amqp, topology: EventTopology.producer, logger: logger)
        relay = OutboxRelay(outbox: outbox, publisher: publisher, logger: logger)
    }
}
