import NIOCore

/// Commands for one connection: sent together, answered together.
struct RedisRequest: Sendable {
    let encoded: [[[UInt8]]]
    let replies: EventLoopPromise<[RedisValue]>
}

/// Many requests share one connection: Redis answers in the order it was asked, so
/// replies are matched to requests by a queue. A request that waits longer than the
/// timeout means the server hangs: the connection is closed and every request on it fails
/// (`unavailable`), as a blocked socket read did before.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RedisValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var expected: Int
        var replies: [RedisValue]
        let promise: EventLoopPromise<[RedisValue]>
        let deadline: NIODeadline
    }

    private var waiting = CircularBuffer<Waiting>()
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: 64)
        for command in request.encoded { RESP.write(command, into: &buffer) }
        waiting.append(Waiting(expected: request.encoded.count, replies: [], promise: request.replies,
                               deadline: .now() + timeout))
        if waiting.count == 1 { armTimer(context: context) }
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard !waiting.isEmpty else {
            fail(context: context, RedisError.unavailable("a reply nobody asked for: \(value)"))
            return
        }
        waiting[waiting.startIndex].replies.append(value)
        if waiting[waiting.startIndex].replies.count == waiting[waiting.startIndex].expected {
            let done = waiting.removeFirst()
            done.promise.succeed(done.replies)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, RedisError.unavailable("\(error)"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        failAll(RedisError.unavailable("connection closed"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        failAll(RedisError.unavailable("connection closed"))
    }

    private func fail(context: ChannelHandlerContext, _ error: RedisError) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        while let next = waiting.popFirst() { next.promise.fail(error) }
    }

    /// One timer for the oldest request; when it fires with that one answered, it moves on
    /// to the next oldest (so a busy connection costs no timer per command).
    private func armTimer(context: ChannelHandlerContext) {
        guard timer == nil, let oldest = waiting.first else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: oldest.deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            guard let oldest = handler.waiting.first else { return }
            if oldest.deadline <= .now() {
                handler.fail(context: context, RedisError.unavailable("no reply within \(handler.timeout.nanoseconds / 1_000_000) ms"))
            } else {
                handler.armTimer(context: context)
            }
        }
    }
}
