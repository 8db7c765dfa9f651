import ServiceKit
import SocketIO

/// The chat service's settings, read from the environment (see the README's table).
public struct ChatConfiguration: Sendable {
    public var service: ServiceConfiguration
    /// `CHAT_FILE_MAX_BYTES` (5 MiB).
    public var fileMaxBytes: Int
    /// `CHAT_PERMISSION_CACHE_SECONDS` (3600): how long "is a participant" stays in Redis.
    public var permissionCacheSeconds: Int
    /// `CHAT_PING_INTERVAL_MS` (25000), `CHAT_PING_TIMEOUT_MS` (20000), `CHAT_MAX_PAYLOAD_BYTES` (1000000): Engine.IO.
    public var engine: EngineConfiguration
    /// `CHAT_CONNECT_TIMEOUT_MS` (45000): a client that joins no namespace is dropped.
    public var connectTimeoutMilliseconds: Int
    /// `CHAT_SOCKET_EVENTS_PER_SECOND` (20), `CHAT_SOCKET_EVENT_BURST` (40), `CHAT_USER_EVENTS_PER_SECOND` (40),
    /// `CHAT_USER_EVENT_BURST` (80), `CHAT_SOCKETS_PER_USER` (20): flood limits, per replica.
    public var flood: FloodLimits
    /// `CHAT_TYPING_INTERVAL_MS` (2000): a user's typing indicator is relayed at most this often per chat.
    public var typingIntervalMilliseconds: Int
    /// `CHAT_PRESENCE_HEARTBEAT_MS` (2000), `CHAT_PRESENCE_DEAD_AFTER_MS` (10000): a replica's
    /// presence heartbeat, and how long one may miss beats before the others take its users offline.
    public var presenceHeartbeatMilliseconds: Int
    public var presenceDeadAfterMilliseconds: Int
    /// `CHAT_RECOVERY_WINDOW_SECONDS` (120): how long a socket that went away can come back
    /// with its rooms and missed messages (connection state recovery); 0 turns it off.
    public var recoveryWindowSeconds: Int

    public static func load(from env: Environment = Environment()) throws -> ChatConfiguration {
        ChatConfiguration(
            service: try ServiceConfiguration.load(service: "chat", defaultPort: 5003, from: env),
            fileMaxBytes: try env.int("CHAT_FILE_MAX_BYTES", default: 5 * 1024 * 1024, in: 1024...(64 * 1024 * 1024)),
            permissionCacheSeconds: try env.int("CHAT_PERMISSION_CACHE_SECONDS", default: 3600, in: 1...86_400),
            engine: EngineConfiguration(
                pingInterval: .milliseconds(try env.int("CHAT_PING_INTERVAL_MS", default: 25_000, in: 100...300_000)),
                pingTimeout: .milliseconds(try env.int("CHAT_PING_TIMEOUT_MS", default: 20_000, in: 100...300_000)),
                maxPayload: try env.int("CHAT_MAX_PAYLOAD_BYTES", default: 1_000_000, in: 1024...(16 * 1024 * 1024))),
            connectTimeoutMilliseconds: try env.int("CHAT_CONNECT_TIMEOUT_MS", default: 45_000, in: 100...600_000),
            flood: FloodLimits(
                socketEventsPerSecond: Double(try env.int("CHAT_SOCKET_EVENTS_PER_SECOND", default: 20, in: 1...100_000)),
                socketEventBurst: Double(try env.int("CHAT_SOCKET_EVENT_BURST", default: 40, in: 1...100_000)),
                userEventsPerSecond: Double(try env.int("CHAT_USER_EVENTS_PER_SECOND", default: 40, in: 1...100_000)),
                userEventBurst: Double(try env.int("CHAT_USER_EVENT_BURST", default: 80, in: 1...100_000)),
                socketsPerUser: try env.int("CHAT_SOCKETS_PER_USER", default: 20, in: 1...10_000)),
            typingIntervalMilliseconds: try env.int("CHAT_TYPING_INTERVAL_MS", default: 2000, in: 100...60_000),
            presenceHeartbeatMilliseconds: try env.int("CHAT_PRESENCE_HEARTBEAT_MS", default: 2000, in: 100...60_000),
            presenceDeadAfterMilliseconds: try env.int("CHAT_PRESENCE_DEAD_AFTER_MS", default: 10_000, in: 300...600_000),
            recoveryWindowSeconds: try env.int("CHAT_RECOVERY_WINDOW_SECONDS", default: 120, in: 0...86_400))
    }
}
