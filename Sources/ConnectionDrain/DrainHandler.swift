import NIOCore

/// First handler of every server connection: carries out `DrainState`'s actions when the
/// server's quiescing helper sends `ChannelShouldQuiesceEvent`, and passes everything on.
/// `cut` says, once the connection is over, whether the grace period ended it (so the
/// request handler still running on it is cancelled too).
public final class DrainHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    let grace: TimeAmount
    let cut: EventLoopPromise<Bool>?
    private var state = DrainState()
    private var deadline: Scheduled<Void>?

    public convenience init(grace: Duration) {
        self.init(grace: TimeAmount(grace))
    }

    /// `cut`, when given, is told whether the grace period ended the connection.
    init(grace: TimeAmount, cut: EventLoopPromise<Bool>? = nil) {
        self.grace = grace
        self.cut = cut
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        state.read()
        context.fireChannelRead(data)
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            switch state.drain() {
            case .none: break
            case .closeNow:
                context.close(promise: nil)
                return
            case .closeAfterGrace:
                let (channel, cut) = (context.channel, self.cut)
                deadline = context.eventLoop.scheduleTask(in: grace) {
                    cut?.succeed(true)
                    channel.close(promise: nil)
                }
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        cut?.succeed(false)  // a no-op when the grace already ended it
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        cut?.succeed(false)
    }
}
