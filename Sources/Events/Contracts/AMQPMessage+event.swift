import AMQP

extension AMQPMessage {
    /// How an event travels: on the events exchange, routed by its type, with its id as
    /// the message id (for consumers' idempotency) and its correlation id.
    public static func event(type: String, id: String, correlationId: String, body: [UInt8]) -> AMQPMessage {
        AMQPMessage(exchange: EventTopology.exchange, routingKey: type, body: body, messageId: id, correlationId: correlationId)
    }

    /// The message of an envelope, encoded as the outbox stores it.
    public static func event<P: EventPayload>(_ envelope: EventEnvelope<P>) throws -> AMQPMessage {
        .event(type: P.type, id: envelope.id, correlationId: envelope.correlationId, body: Array(try EventCoding.encoder.encode(envelope)))
    }
}
