import Logging
import NIOCore
import NIOPosix
import Synchronization

public struct RedisMessage: Sendable, Equatable {
    public let channel: String
    public let payload: [UInt8]
}

/// Messages published to some channels, on a connection of their own. When the
/// connection breaks it reconnects and subscribes again; Redis pub/sub keeps no
/// history, so what was published in between is not delivered.
public final class RedisSubscription: AsyncSequence, Sendable {
    public typealias Element = RedisMessage

    private let stream: AsyncStream<RedisMessage>
    private let continuation: AsyncStream<RedisMessage>.Continuation
    private let state = Mutex(State())
    private let ready = Mutex<[CheckedContinuation<Void, Never>]?>([])

    private struct State {
        var stopped = false
        var channel: (any Channel)?
        var loop: Task<Void, Never>?
    }

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: RedisMessage.self, bufferingPolicy: .bufferingNewest(10_000))
        continuation.onTermination = { [self] _ in cancel() }
    }

    /// Starts the connection (by `RedisClient.subscribe`, once the subscription exists).
    func start(host: String, port: Int, channels: [String], logger: Logger, group: any EventLoopGroup) {
        let loop = Task { [self] in
            await run(host: host, port: port, channels: channels, logger: logger, group: group)
        }
        state.withLock { $0.loop = loop }
    }

    /// Returns once the first SUBSCRIBE has been confirmed by the server.
    public func waitUntilSubscribed() async {
        await withCheckedContinuation { c in
            let alreadyReady = ready.withLock { waiting in
                guard waiting != nil else { return true }
                waiting!.append(c)
                return false
            }
            if alreadyReady { c.resume() }
        }
    }

    public func cancel() {
        let (channel, loop) = state.withLock { state in
            state.stopped = true
            return (state.channel, state.loop)
        }
        channel?.close(promise: nil)
        loop?.cancel()
    }

    public func makeAsyncIterator() -> AsyncStream<RedisMessage>.Iterator { stream.makeAsyncIterator() }

    private func run(host: String, port: Int, channels: [String], logger: Logger, group: any EventLoopGroup) async {
        var backoff = 0.05
        while !state.withLock({ $0.stopped }) {
            do {
                let channel = try await ClientBootstrap(group: group)
                    .connectTimeout(.seconds(2))
                    .channelOption(.socketOption(.so_keepalive), value: 1)
                    .channelInitializer { [continuation] channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
                            try channel.pipeline.syncOperations.addHandler(
                                SubscriberHandler(continuation: continuation, onSubscribed: { [self] in markReady() }))
                        }
                    }
                    .connect(host: host, port: port).get()
                let stopped = state.withLock { state in
                    state.channel = channel
                    return state.stopped
                }
                if stopped { try? await channel.close(); break }
                var command = channel.allocator.buffer(capacity: 64)
                RESP.write((["SUBSCRIBE"] + channels).map { Array($0.utf8) }, into: &command)
                try await channel.writeAndFlush(command)
                backoff = 0.05
                try await channel.closeFuture.get()
                guard !state.withLock({ $0.stopped }) else { break }
                logger.warning("Redis subscription lost, reconnecting", metadata: ["error": "connection closed"])
            } catch {
                guard !state.withLock({ $0.stopped }) else { break }
                logger.warning("Redis subscription lost, reconnecting", metadata: ["error": "\(RedisError.unavailable("\(host):\(port): \(error)"))"])
            }
            try? await Task.sleep(for: .seconds(backoff))
            backoff = Swift.min(backoff * 2, 2)
        }
        continuation.finish()
        markReady()
    }

    private func markReady() {
        let waiting = ready.withLock { waiting -> [CheckedContinuation<Void, Never>] in
            defer { waiting = nil }
            return waiting ?? []
        }
        waiting.forEach { $0.resume() }
    }
}

/// Passes `message` pushes on; the first `subscribe` confirmation says the subscription is live.
private final class SubscriberHandler: ChannelInboundHandler {
    typealias InboundIn = RedisValue
    let continuation: AsyncStream<RedisMessage>.Continuation
    let onSubscribed: @Sendable () -> Void

    init(continuation: AsyncStream<RedisMessage>.Continuation, onSubscribed: @escaping @Sendable () -> Void) {
        self.continuation = continuation
        self.onSubscribed = onSubscribed
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .array(let parts) = unwrapInboundIn(data), parts.count == 3, let kind = parts[0].string else { return }
        if kind == "message", let channel = parts[1].string, let payload = parts[2].bytes {
            continuation.yield(RedisMessage(channel: channel, payload: payload))
        } else if kind == "subscribe" {
            onSubscribed()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
