/// Where and how to reach RabbitMQ.
public struct AMQPConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String
    /// Seconds between heartbeats; a dead peer is noticed after about twice this.
    public var heartbeatSeconds: Int
    public var connectTimeoutSeconds: Int
    /// The longest wait between reconnection attempts (they start at 100 ms and double).
    public var maxBackoffSeconds: Double

    /// How long a connection thread sleeps in poll when idle: often enough to keep heartbeats
    /// flowing, and never zero (which would spin) when heartbeats are off.
    var idleWaitMilliseconds: Int32 { heartbeatSeconds > 0 ? Int32(heartbeatSeconds * 500) : 1000 }

    public init(host: String = "127.0.0.1", port: Int = 5672, user: String = "guest", password: String = "guest",
                virtualHost: String = "/", heartbeatSeconds: Int = 10, connectTimeoutSeconds: Int = 5,
                maxBackoffSeconds: Double = 5) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
        self.heartbeatSeconds = heartbeatSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
    }
}

public enum AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broker could not be reached or the connection broke.
    case connection(String)
    /// The broker refused an operation (for example a queue declared with other arguments).
    case refused(String)
    /// The broker answered a publish with basic.nack: it did not take the message.
    case nacked
    /// The publisher or consumer was closed before the operation finished.
    case closed

    public var description: String {
        switch self {
        case .connection(let m): "AMQP connection: \(m)"
        case .refused(let m): "AMQP broker refused: \(m)"
        case .nacked: "the broker did not accept the message (basic.nack)"
        case .closed: "closed"
        }
    }
}
