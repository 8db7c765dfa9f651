import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Values of the keys under some prefixes, kept in this process so that reading them
/// again costs no round trip — Redis's server-assisted client-side caching. A connection
/// of the cache's own asks Redis to track the prefixes in broadcast mode and hears, on
/// `__redis__:invalidate`, every key under them that any client changes or deletes, or
/// that expires. While that connection is not confirmed live nothing is answered from
/// here, and a write through the owning `RedisClient` drops its keys here before it is sent
/// and again once Redis has answered, so this process reads its own writes.
///
/// Another process's write reaches this cache as fast as Redis's message does (well under a
/// millisecond on one host); a silent connection is given up after 3 s (`TrackingLink`), and
/// no entry lives longer than `maxAge` whatever happens.
public final class ClientSideCache: Sendable {
    public let prefixes: [String]
    public let name: String
    /// The entries and the counts, under one lock: a read takes it once.
    private let state: Mutex<(cache: ClientSideCacheState, counts: Counts)>

    public struct Counts: Sendable, Equatable {
        public var hits = 0
        public var misses = 0
        /// How often the tracking connection came up.
        public var linksUp = 0
    }

    /// - Parameters:
    ///   - prefixes: the key prefixes to keep; Redis refuses prefixes that overlap.
    ///   - name: the tracking connection's name in `CLIENT LIST`.
    public init(prefixes: [String], maxAge: Duration = .seconds(10), maxEntries: Int = 100_000, maxBytes: Int = 32 << 20,
                name: String = "switchboard-client-cache") {
        self.prefixes = prefixes
        // CLIENT SETNAME refuses spaces and the like.
        self.name = String(name.map { $0.isLetter || $0.isNumber || "-_.:".contains($0) ? $0 : "-" })
        state = Mutex((ClientSideCacheState(maxAge: maxAge, maxEntries: maxEntries, maxBytes: maxBytes), Counts()))
    }

    public var counts: Counts { state.withLock { $0.counts } }

    /// Whether answers may come from here now (the tracking connection is live).
    public var isLive: Bool { state.withLock { $0.cache.live } }

    func tracks(_ key: String) -> Bool { tracks(bytes: key.utf8) }

    func tracks(bytes: some Collection<UInt8>) -> Bool {
        prefixes.contains { bytes.starts(with: $0.utf8) }
    }

    // MARK: reads and writes of the owning client

    /// The keys' values if every one is here; otherwise the ticket their read from Redis fills with.
    func lookup(_ keys: [String]) -> (values: [[UInt8]?]?, ticket: UInt64?) {
        let now = ContinuousClock.now
        return state.withLock { state in
            var values: [[UInt8]?] = []
            values.reserveCapacity(keys.count)
            for key in keys {
                switch state.cache.lookup(key, now: now) {
                case .hit(let value): values.append(value)
                case .miss(let ticket):
                    state.counts.misses += 1
                    return (nil, ticket)
                }
            }
            state.counts.hits += 1
            return (values, nil)
        }
    }

    /// What Redis answered for `keys`, kept unless something changed since `ticket`.
    func fill(_ keys: [String], _ values: [[UInt8]?], ticket: UInt64) {
        let now = ContinuousClock.now
        state.withLock { state in
            for (key, value) in zip(keys, values) { state.cache.fill(key, value, ticket: ticket, now: now) }
        }
    }

    /// Drops the tracked keys among the commands' arguments (what a write may change);
    /// false when none is tracked.
    @discardableResult
    func invalidate(keysIn commands: [[[UInt8]]]) -> Bool {
        let keys = commands.flatMap { $0.dropFirst().filter { tracks(bytes: $0) } }
        guard !keys.isEmpty else { return false }
        invalidate(keys.map { String(decoding: $0, as: UTF8.self) })
        return true
    }

    func invalidate(_ keys: [String]) { state.withLock { $0.cache.invalidate(keys) } }
    func invalidateAll() { state.withLock { $0.cache.invalidateAll() } }

    func linkUp() {
        state.withLock { state in
            state.cache.linkUp()
            state.counts.linksUp += 1
        }
    }

    func linkDown() { state.withLock { $0.cache.linkDown() } }

    // MARK: the tracking connection

    /// Keeps the tracking connection up, reconnecting with a growing pause, until the task
    /// is cancelled (`RedisClient.run`).
    func keepTracking(host: String, port: Int, group: any EventLoopGroup, logger: Logger) async {
        let current = Mutex<(any Channel)?>(nil)
        await withTaskCancellationHandler {
            var pause = Duration.milliseconds(50)
            while !Task.isCancelled {
                let upBefore = counts.linksUp
                do {
                    let channel = try await ClientBootstrap(group: group)
                        .connectTimeout(.seconds(2))
                        .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                        .channelOption(.socketOption(.so_keepalive), value: 1)
                        .channelInitializer { [self] channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
                                try channel.pipeline.syncOperations.addHandler(TrackingHandler(
                                    link: TrackingLink(prefixes: prefixes, name: name, now: .now), cache: self, logger: logger))
                            }
                        }
                        .connect(host: host, port: port).get()
                    current.withLock { $0 = channel }
                    if Task.isCancelled { channel.close(promise: nil) }
                    try await channel.closeFuture.get()
                } catch {
                    if !Task.isCancelled { logger.warning("Redis client-side cache: no tracking connection, reading Redis", metadata: ["error": "\(error)"]) }
                }
                linkDown()
                // A connection that came up and broke later retries at once; one that never got
                // through its set-up (Redis down, or refusing tracking) waits longer each time,
                // up to 30 s (each failure is logged once).
                pause = counts.linksUp > upBefore ? .milliseconds(50) : min(pause * 2, .seconds(30))
                try? await Task.sleep(for: pause)
            }
        } onCancel: {
            current.withLock { $0 }?.close(promise: nil)
        }
    }
}

/// Carries out the `TrackingLink`'s actions on the tracking connection.
private final class TrackingHandler: ChannelInboundHandler {
    typealias InboundIn = RedisValue
    typealias OutboundOut = ByteBuffer

    private var link: TrackingLink
    private let cache: ClientSideCache
    private let logger: Logger
    private var ticker: RepeatedTask?

    init(link: TrackingLink, cache: ClientSideCache, logger: Logger) {
        self.link = link
        self.cache = cache
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(link.start(), context: context)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let beat = TimeAmount(link.heartbeat)
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: beat, delay: beat) { _ in
            let (handler, context) = loopBound.value
            handler.perform(handler.link.tick(now: .now), context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(link.receive(unwrapInboundIn(data), now: .now), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil
        cache.linkDown()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("Redis client-side cache: tracking connection failed", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func perform(_ action: TrackingLink.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let command):
            var buffer = context.channel.allocator.buffer(capacity: 64)
            RESP.write(command.map { Array($0.utf8) }, into: &buffer)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .up:
            cache.linkUp()
        case .invalidate(let keys):
            cache.invalidate(keys)
        case .invalidateAll:
            cache.invalidateAll()
        case .close(let reason):
            logger.warning("Redis client-side cache: closing the tracking connection", metadata: ["reason": "\(reason)"])
            cache.linkDown()
            context.close(promise: nil)
        case .nothing:
            break
        }
    }
}
