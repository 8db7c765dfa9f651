import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Redis over a few long-lived connections on NIO's event loops, each carrying many
/// commands at once (Redis answers in order; `RedisCommandHandler` matches the replies).
/// No thread of its own and no blocking call: a command costs a write and a read on an
/// event loop. A `Service`: connections open with the first command, never in `init`, and
/// close on graceful shutdown. Given a `ClientSideCache`, `get` and `mget` of its keys are
/// answered from it while its tracking connection (kept up by `run()`) is live.
public final class RedisClient: Service, Sendable {
    public let host: String
    public let port: Int
    public let clientSideCache: ClientSideCache?
    let timeoutSeconds: Double
    let logger: Logger
    private let group: any EventLoopGroup
    private let state: Mutex<State>

    private enum Slot {
        case empty
        case connecting(EventLoopFuture<any Channel>)
        case open(any Channel)
    }

    private struct State {
        var slots: [Slot]
        var next = 0
        var closed = false
    }

    /// - Parameter connections: how many connections the commands are spread over.
    public init(host: String = "127.0.0.1", port: Int = 6379, connections: Int = 2, timeoutSeconds: Double = 2,
                logger: Logger = Logger(label: "redis"), eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                clientSideCache: ClientSideCache? = nil) {
        self.host = host
        self.clientSideCache = clientSideCache
        self.port = port
        self.timeoutSeconds = timeoutSeconds
        self.logger = logger
        group = eventLoopGroup
        state = Mutex(State(slots: Array(repeating: .empty, count: max(connections, 1))))
    }

    /// Runs until graceful shutdown (keeping the client-side cache's tracking connection
    /// up), then closes: list it before the services that use it.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            if let clientSideCache {
                group.addTask { [self] in await clientSideCache.keepTracking(host: host, port: port, group: self.group, logger: logger) }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        try await close()
    }

    /// Closes the connections; commands under way fail, later ones throw `unavailable`.
    public func close() async throws {
        let slots = state.withLock { state in
            state.closed = true
            defer { state.slots = state.slots.map { _ in .empty } }
            return state.slots
        }
        for slot in slots {
            switch slot {
            case .open(let channel): try? await channel.close()
            case .connecting(let future): try? await future.get().close()
            case .empty: break
            }
        }
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
    /// Keys of the client-side cache among the arguments are dropped from it before the
    /// commands go and again after (whatever the commands are: a write's keys must not be
    /// answered from the cache with their old values, nor a read's sent before it be kept).
    public func pipeline(_ commands: [[any RedisArgument]]) async throws -> [RedisValue] {
        let encoded = commands.map { $0.map(\.redisBytes) }
        let replies: [RedisValue]
        if let clientSideCache, clientSideCache.invalidate(keysIn: encoded) {
            defer { clientSideCache.invalidate(keysIn: encoded) }
            replies = try await send(encoded)
        } else {
            replies = try await send(encoded)
        }
        if commands.count == 1, case .error(let message) = replies[0] { throw RedisError.command(message) }
        return replies
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        if clientSideCache?.tracks(key) == true { return try await read([key])[0] }
        return try await command("GET", key).bytes
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
        if let clientSideCache, keys.allSatisfy(clientSideCache.tracks) { return try await read(keys) }
        return try await mgetFromRedis(keys)
    }

    private func mgetFromRedis(_ keys: [String]) async throws -> [[UInt8]?] {
        let reply = try await send([(["MGET"] + keys).map(\.redisBytes)])[0]
        if case .error(let message) = reply { throw RedisError.command(message) }
        guard case .array(let values) = reply, values.count == keys.count else {
            throw RedisError.unexpectedReply("MGET of \(keys.count) keys: \(reply)")
        }
        return values.map(\.bytes)
    }

    /// Keys of the client-side cache: from it when all are there, else from Redis and kept.
    private func read(_ keys: [String]) async throws -> [[UInt8]?] {
        guard let clientSideCache else { return try await mgetFromRedis(keys) }
        let (local, ticket) = clientSideCache.lookup(keys)
        if let local { return local }
        let values = try await mgetFromRedis(keys)
        if let ticket { clientSideCache.fill(keys, values, ticket: ticket) }
        return values
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
        let subscription = RedisSubscription()
        subscription.start(host: host, port: port, channels: channels, logger: logger, group: group)
        return subscription
    }

    // MARK: pool

    private func integer(_ value: RedisValue) throws -> Int {
        guard let i = value.integer else { throw RedisError.unexpectedReply("\(value)") }
        return i
    }

    /// Sends the commands on the next connection. One that was open before this call may
    /// have died unnoticed (Redis restarted): then they are sent once more on a fresh one.
    private func send(_ encoded: [[[UInt8]]]) async throws -> [RedisValue] {
        let index = state.withLock { state in
            defer { state.next = (state.next + 1) % state.slots.count }
            return state.next
        }
        let (channel, reused) = try await connection(at: index)
        do {
            return try await send(encoded, on: channel)
        } catch RedisError.unavailable(let message) where reused {
            logger.info("Redis connection failed, reconnecting", metadata: ["error": "\(message)"])
            state.withLock { state in
                if case .open(let c) = state.slots[index], c === channel { state.slots[index] = .empty }
            }
            return try await send(encoded, on: connection(at: index).channel)
        }
    }

    private func send(_ encoded: [[[UInt8]]], on channel: any Channel) async throws -> [RedisValue] {
        let replies = channel.eventLoop.makePromise(of: [RedisValue].self)
        channel.writeAndFlush(RedisRequest(encoded: encoded, replies: replies)).whenFailure { error in
            replies.fail(RedisError.unavailable("\(error)"))
        }
        return try await replies.futureResult.get()
    }

    /// The connection in slot `index`, opened if it is not; `reused` when it was open already.
    private func connection(at index: Int) async throws -> (channel: any Channel, reused: Bool) {
        enum Next { case ready(any Channel), wait(EventLoopFuture<any Channel>), connect }
        let next: Next = try state.withLock { state in
            guard !state.closed else { throw RedisError.unavailable("the client is closed") }
            switch state.slots[index] {
            case .open(let channel) where channel.isActive: return .ready(channel)
            case .connecting(let future): return .wait(future)
            case .open, .empty: return .connect
            }
        }
        switch next {
        case .ready(let channel): return (channel, true)
        case .wait(let future): return (try await opened(future), false)
        case .connect:
            // Connected outside the lock (a future's callbacks may run on this thread); if two
            // calls race here, the later one's connection replaces the earlier in the slot.
            let future = connect()
            state.withLock { $0.slots[index] = .connecting(future) }
            do {
                let channel = try await opened(future)
                let closed = state.withLock { state in
                    if case .connecting(let f) = state.slots[index], f === future { state.slots[index] = .open(channel) }
                    return state.closed
                }
                if closed { channel.close(promise: nil) }
                return (channel, false)
            } catch {
                state.withLock { state in
                    if case .connecting(let f) = state.slots[index], f === future { state.slots[index] = .empty }
                }
                throw error
            }
        }
    }

    private func opened(_ future: EventLoopFuture<any Channel>) async throws -> any Channel {
        do {
            return try await future.get()
        } catch {
            throw RedisError.unavailable("\(host):\(port): \(error)")
        }
    }

    private func connect() -> EventLoopFuture<any Channel> {
        let timeout = TimeAmount.nanoseconds(Int64(timeoutSeconds * 1_000_000_000))
        return ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
                    try channel.pipeline.syncOperations.addHandler(RedisCommandHandler(timeout: timeout))
                }
            }
            .connect(host: host, port: port)
    }
}
