import AMQP
import Logging
import Mongo

/// What a service that publishes events opens: the outbox in its own database, the
/// publisher, and the relay that moves one to the other. The publisher and the relay
/// are services of the application (in that order); `outbox.prepare()` runs before the
/// server starts.
public struct EventProducer: Sendable {
    public let outbox: Outbox
    public let publisher: Publisher
    public let relay: OutboxRelay

    public init(database: MongoDatabase, amqp: AMQPConfiguration, logger: Logger) {
        outbox = Outbox(database: database)
        publisher = Publisher(config: amqp, topology: EventTopology.producer, logger: logger)
        relay = OutboxRelay(outbox: outbox, publisher: publisher, logger: logger)
    }
}
