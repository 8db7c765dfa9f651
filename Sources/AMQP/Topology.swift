/// Exchanges, queues and bindings. Publishers and consumers declare their topology
/// on every (re)connection, so a broker that lost it gets it back.
public struct Topology: Sendable {
    public struct Exchange: Sendable {
        public var name: String
        public var type: String
        public var durable: Bool

        public static func topic(_ name: String, durable: Bool = true) -> Exchange {
            Exchange(name: name, type: "topic", durable: durable)
        }

        public static func direct(_ name: String, durable: Bool = true) -> Exchange {
            Exchange(name: name, type: "direct", durable: durable)
        }

        public static func fanout(_ name: String, durable: Bool = true) -> Exchange {
            Exchange(name: name, type: "fanout", durable: durable)
        }
    }

    public struct Queue: Sendable {
        public var name: String
        public var durable: Bool
        /// Messages rejected without requeue (or expired) go to this exchange…
        public var deadLetterExchange: String?
        /// …with this routing key (their own when nil).
        public var deadLetterRoutingKey: String?
        /// Milliseconds a message may wait in the queue.
        public var messageTTL: Int?
        /// Deleted when its last consumer goes: for per-replica queues.
        public var autoDelete: Bool

        public init(_ name: String, durable: Bool = true, deadLetterExchange: String? = nil,
                    deadLetterRoutingKey: String? = nil, messageTTL: Int? = nil, autoDelete: Bool = false) {
            self.name = name
            self.durable = durable
            self.deadLetterExchange = deadLetterExchange
            self.deadLetterRoutingKey = deadLetterRoutingKey
            self.messageTTL = messageTTL
            self.autoDelete = autoDelete
        }

        var arguments: [(String, AMQPHeaderValue)] {
            var args = [(String, AMQPHeaderValue)]()
            if let deadLetterExchange { args.append(("x-dead-letter-exchange", .string(deadLetterExchange))) }
            if let deadLetterRoutingKey { args.append(("x-dead-letter-routing-key", .string(deadLetterRoutingKey))) }
            if let messageTTL { args.append(("x-message-ttl", .int(Int64(messageTTL)))) }
            return args
        }
    }

    public struct Binding: Sendable {
        public var queue: String
        public var exchange: String
        public var routingKey: String

        public init(queue: String, exchange: String, routingKey: String) {
            self.queue = queue
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public init(exchanges: [Exchange] = [], queues: [Queue] = [], bindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    public static func + (a: Topology, b: Topology) -> Topology {
        Topology(exchanges: a.exchanges + b.exchanges, queues: a.queues + b.queues, bindings: a.bindings + b.bindings)
    }
}
