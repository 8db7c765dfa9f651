import NIOCore
import NIOHTTP1

/// After a WebSocket upgrade both connections stop speaking HTTP: the client's HTTP
/// decoder and both proxy handlers are removed and bytes flow through unchanged, each side's reads paced by the other
/// side's writability. A tunnel with no traffic either way for the idle timeout closes
/// (Socket.IO pings keep live sockets busy). When the gateway drains, the client gets a
/// close frame (1001, going away) between two of the upstream's frames, the upstream
/// connection closes, and the client's a moment later (or at the grace's end).
enum Tunnel {
    /// `place`: the client's `limit_websockets` place, given back when its connection closes.
    static func join(client: ChannelHandlerContext, upstream: UpstreamConnection, idleTimeoutSeconds: Double, place: ConnectionLimiter.Slot?) {
        let clientChannel = client.channel
        let upstreamChannel = upstream.channel
        if let place { clientChannel.closeFuture.whenComplete { _ in place.release() } }
        let idle = IdleTimer(eventLoop: client.eventLoop, seconds: idleTimeoutSeconds) {
            clientChannel.close(promise: nil)
            upstreamChannel.close(promise: nil)
        }
        let drain = Drain(client: clientChannel, upstream: upstreamChannel)
        let toUpstream = Splice(peer: upstreamChannel, idle: idle, drain: drain)
        let toClient = Splice(peer: clientChannel, idle: idle, drain: drain, carriesServerFrames: true)
        do {
            let clientPipeline = clientChannel.pipeline.syncOperations
            // The decoder goes last: bytes it already read past the request head are forwarded, to the splice.
            try clientPipeline.addHandler(toUpstream, position: .last)
            _ = clientChannel.pipeline.removeHandler(name: "proxy")
            // Bytes the decoders already held (a first frame in the same read as the head)
            // reach the splice as they are removed, outside any read burst: flush them.
            clientChannel.pipeline.removeHandler(name: "decoder").whenComplete { _ in upstreamChannel.flush() }

            let upstreamPipeline = upstreamChannel.pipeline.syncOperations
            try upstreamPipeline.addHandler(toClient, position: .last)
            _ = upstreamChannel.pipeline.removeHandler(name: "upstream")
            idle.start()
        } catch {
            clientChannel.close(promise: nil)
            upstreamChannel.close(promise: nil)
        }
    }

    /// A draining tunnel's close: after the last whole frame the upstream sent, a close
    /// frame to the client; the upstream connection closes then, the client's soon after.
    /// Both channels share an event loop, and so does this.
    final class Drain {
        let client: any Channel
        let upstream: any Channel
        /// The upstream's frames, so the close goes between two of them.
        var frames = WebSocketFrames()
        private(set) var draining = false
        private(set) var closed = false
        /// How long the client may take to answer the close before its connection is closed.
        static let clientCloseWait = TimeAmount.seconds(2)

        init(client: any Channel, upstream: any Channel) {
            self.client = client
            self.upstream = upstream
        }

        func begin() {
            guard !draining else { return }
            draining = true
            if frames.atBoundary { sendClose() }
        }

        func sendClose() {
            guard !closed else { return }
            closed = true
            var bytes = client.allocator.buffer(capacity: 4)
            bytes.writeBytes(WebSocketFrames.goingAway)
            client.writeAndFlush(bytes, promise: nil)
            upstream.close(promise: nil)
            let client = self.client
            client.eventLoop.scheduleTask(in: Self.clientCloseWait) { client.close(promise: nil) }
        }
    }

    /// Writes what one side reads to the other side.
    final class Splice: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let peer: any Channel
        let idle: IdleTimer
        let drain: Drain
        /// This side reads the upstream's frames (and so finds where the close may go).
        let carriesServerFrames: Bool

        init(peer: any Channel, idle: IdleTimer, drain: Drain, carriesServerFrames: Bool = false) {
            self.peer = peer
            self.idle = idle
            self.drain = drain
            self.carriesServerFrames = carriesServerFrames
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            idle.touch()
            let bytes = unwrapInboundIn(data)
            guard carriesServerFrames else {
                if !drain.closed { peer.write(bytes, promise: nil) }
                return
            }
            guard !drain.closed else { return }
            let ends = drain.frames.read(bytes.readableBytesView)
            if drain.draining, let end = ends.first {
                // Up to the end of a frame, then the close; the rest is not the client's any more.
                peer.write(bytes.getSlice(at: bytes.readerIndex, length: end) ?? bytes, promise: nil)
                drain.sendClose()
            } else {
                peer.write(bytes, promise: nil)
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelShouldQuiesceEvent { drain.begin() }
            context.fireUserInboundEventTriggered(event)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            peer.flush()
            if !peer.isWritable { context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in } }
        }

        func channelWritabilityChanged(context: ChannelHandlerContext) {
            // This side can take more: let the other side read again.
            if context.channel.isWritable { peer.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in } }
            context.fireChannelWritabilityChanged()
        }

        func channelInactive(context: ChannelHandlerContext) {
            idle.cancel()
            peer.close(promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    /// Closes the tunnel after `seconds` without a byte either way.
    final class IdleTimer {
        let eventLoop: any EventLoop
        let seconds: Double
        let onIdle: () -> Void
        var lastActivity = monotonicSeconds()
        var task: Scheduled<Void>?

        init(eventLoop: any EventLoop, seconds: Double, onIdle: @escaping () -> Void) {
            self.eventLoop = eventLoop
            self.seconds = seconds
            self.onIdle = onIdle
        }

        func touch() { lastActivity = monotonicSeconds() }

        func start() {
            let due = lastActivity + seconds - monotonicSeconds()
            task = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(max(0.01, due) * 1e9))) { [self] in
                if monotonicSeconds() - lastActivity >= seconds { onIdle() } else { start() }
            }
        }

        func cancel() { task?.cancel() }
    }
}
