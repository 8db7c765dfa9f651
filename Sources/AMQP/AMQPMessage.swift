/// A header value: the kinds Switchboard reads and writes.
public enum AMQPHeaderValue: Sendable, Equatable, Hashable {
    case string(String)
    case int(Int64)
    case bool(Bool)
}

/// A message to publish.
public struct AMQPMessage: Sendable, Equatable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var messageId: String?
    public var correlationId: String?
    public var contentType: String?
    public var headers: [String: AMQPHeaderValue]
    /// Persistent messages in durable queues survive a broker restart.
    public var persistent: Bool

    public init(exchange: String, routingKey: String, body: [UInt8], messageId: String? = nil,
                correlationId: String? = nil, contentType: String? = "application/json",
                headers: [String: AMQPHeaderValue] = [:], persistent: Bool = true) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.messageId = messageId
        self.correlationId = correlationId
        self.contentType = contentType
        self.headers = headers
        self.persistent = persistent
    }
}

/// A message delivered to a consumer.
public struct AMQPDelivery: Sendable {
    /// The message as it was published.
    public var message: AMQPMessage
    /// The broker delivered it before and did not see an ack: it may already be handled.
    public var redelivered: Bool
    let deliveryTag: UInt64
}

/// What a consumer's handler decided.
public enum DeliveryOutcome: Sendable, Equatable {
    case ack
    /// Back to the queue (`requeue`), or to the queue's dead-letter exchange.
    case reject(requeue: Bool)
}
