import AMQP

/// Names on the broker, and the topology each side declares.
public enum EventTopology {
    /// Where every event is published, routed by its type.
    public static let exchange = "switchboard.events"
    /// Where failed events go, routed by the name of the queue they failed in.
    public static let deadLetterExchange = "switchboard.events.dead-letter"

    /// One durable queue per consuming service and event type.
    public static func queue(service: String, type: String) -> String { "\(service).\(type)" }
    public static func deadLetterQueue(service: String, type: String) -> String { "\(queue(service: service, type: type)).dead" }

    /// What producers declare: the events exchange.
    public static var producer: Topology { Topology(exchanges: [.topic(exchange)]) }

    /// What a consuming service declares for one event type: its queue bound to the
    /// exchange, dead-lettering into its own dead-letter queue.
    public static func consumer(service: String, type: String) -> Topology {
        let q = queue(service: service, type: type)
        let dead = deadLetterQueue(service: service, type: type)
        return Topology(
            exchanges: [.topic(exchange), .direct(deadLetterExchange)],
            queues: [
                Topology.Queue(q, deadLetterExchange: deadLetterExchange, deadLetterRoutingKey: q),
                Topology.Queue(dead),
            ],
            bindings: [
                .init(queue: q, exchange: exchange, routingKey: type),
                .init(queue: dead, exchange: deadLetterExchange, routingKey: q),
            ])
    }
}
