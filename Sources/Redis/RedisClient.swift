import ClientThreads
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A pool of Redis connections. Every hiredis call runs on the client's own threads;
/// at most `connections` run at once, each with a connection of its own. A `Service`: the
/// threads start with the first call or `run()`, never in `init`, and stop on graceful shutdown.
public final class RedisClient: Service, Sendable {
    public let host: String
    public let port: Int
    let timeoutSeconds: Double
    private let idle = Mutex<[RedisConnection]>([])
    private let clientThreads: ClientThreads
    let logger: Logger

    public init(host: String = "127.0.0.1", port: Int = 6379, connections: Int = 8, timeoutSeconds: Double = 2,
                logger: Logger = Logger(label: "redis")) {
        self.host = host
        self.port = port
        self.timeoutSeconds = timeoutSeconds
        self.logger = logger
        clientThreads = ClientThreads(count: connections)
    }

    /// Started by the first call that needs them (none once closed).
    private var threads: NIOThreadPool { clientThreads.threads }

    /// Runs until graceful shutdown, then closes: list it before the services that use it.
    public func run() async throws {
        _ = threads
        try? await gracefulShutdown()
        try await close()
    }

    public func close() async throws {
        try await clientThreads.close()
        idle.withLock { $0.removeAll() }
    }

    // MARK: commands

    /// Runs one command and returns its reply; an error reply throws `RedisError.command`.
    @discardableResult
    public func command(_ arguments: any RedisArgument...) async throws -> RedisValue {
        try await command(arguments)
    }

    @discardableResult
    public func command(_ arguments: [any RedisArgument]) async throws -> RedisValue {
        try await pipeline([arguments])[0]
    }

    /// Runs the commands in one round trip and returns their replies in order.
    /// Error replies come back as `.error` values here, so one refused command does not hide the others.
    public func pipeline(_ commands: [[any RedisArgument]]) async throws -> [RedisValue] {
        let encoded = commands.map { $0.map(\.redisBytes) }
        let replies = try await withConnection { try $0.pipeline(encoded) }
        if commands.count == 1, case .error(let message) = replies[0] { throw RedisError.command(message) }
        return replies
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        try await command("GET", key).bytes
    }

    /// SET with an optional expiry; with `onlyIfAbsent` (NX) it returns false when the key existed.
    @discardableResult
    public func set(_ key: String, _ value: some RedisArgument, expireSeconds: Int? = nil, onlyIfAbsent: Bool = false) async throws -> Bool {
        var arguments: [any RedisArgument] = ["SET", key, value]
        if let expireSeconds { arguments += ["EX", expireSeconds] }
        if onlyIfAbsent { arguments.append("NX") }
        return try await command(arguments) != .null
    }

    @discardableResult
    public func del(_ keys: String...) async throws -> Int {
        try await del(keys)
    }

    @discardableResult
    public func del(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try integer(await command(["DEL"] + keys))
    }

    public func mget(_ keys: [String]) async throws -> [[UInt8]?] {
        guard !keys.isEmpty else { return [] }
        guard case .array(let values) = try await command(["MGET"] + keys) else {
            throw RedisError.unexpectedReply("MGET did not return an array")
        }
        return values.map(\.bytes)
    }

    /// Increments a counter and gives it an expiry when it has none, atomically and in
    /// one round trip (MULTI/INCR/EXPIRE NX/EXEC): a fixed-window counter for rate limits.
    public func increment(_ key: String, expireSeconds: Int) async throws -> Int {
        let replies = try await pipeline([["MULTI"], ["INCR", key], ["EXPIRE", key, expireSeconds, "NX"], ["EXEC"]])
        guard case .array(let results) = replies[3], let count = results.first?.integer else {
            throw RedisError.unexpectedReply("EXEC: \(replies)")
        }
        return count
    }

    /// Seconds until the key expires: -1 without expiry, -2 when it does not exist.
    public func ttl(_ key: String) async throws -> Int {
        try integer(await command(["TTL", key]))
    }

    /// Publishes to a channel; returns how many subscribers received it.
    @discardableResult
    public func publish(_ channel: String, _ message: some RedisArgument) async throws -> Int {
        try integer(await command(["PUBLISH", channel, message]))
    }

    public func ping() async throws {
        guard try await command(["PING"]) == .status("PONG") else { throw RedisError.unexpectedReply("PING") }
    }

    /// Messages published to `channels` from now on, on a connection of their own.
    public func subscribe(to channels: [String]) -> RedisSubscription {
        RedisSubscription(host: host, port: port, channels: channels, logger: logger)
    }

    // MARK: pool

    private func integer(_ value: RedisValue) throws -> Int {
        guard let i = value.integer else { throw RedisError.unexpectedReply("\(value)") }
        return i
    }

    /// Runs `body` on a pool thread with a connection. A pooled connection may have died
    /// (Redis restarted): then the call is made once more on a fresh connection.
    private func withConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        try await threads.runIfActive { [self] in
            if let pooled = idle.withLock({ $0.popLast() }) {
                do {
                    let result = try body(pooled)
                    idle.withLock { $0.append(pooled) }
                    return result
                } catch RedisError.unavailable(let message) {
                    logger.info("pooled Redis connection failed, reconnecting", metadata: ["error": "\(message)"])
                    idle.withLock { $0.removeAll() }  // its siblings are likely dead too
                }
            }
            let fresh = try RedisConnection(host: host, port: port, timeoutSeconds: timeoutSeconds)
            let result = try body(fresh)
            idle.withLock { $0.append(fresh) }
            return result
        }
    }
}
