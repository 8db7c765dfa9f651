import NIOCore
import NIOHTTP1

/// After a WebSocket upgrade both connections stop speaking HTTP: the client's HTTP
/// decoder and both proxy handlers are removed and bytes flow through unchanged, each side's reads paced by the other
/// side's writability. A tunnel with no traffic either way for the idle timeout closes
/// (Socket.IO pings keep live sockets busy).
enum Tunnel {
    static func join(client: ChannelHandlerContext, upstream: UpstreamConnection, idleTimeoutSeconds: Double) {
        let clientChannel = client.channel
        let upstreamChannel = upstream.channel
        let idle = IdleTimer(eventLoop: client.eventLoop, seconds: idleTimeoutSeconds) {
            clientChannel.close(promise: nil)
            upstreamChannel.close(promise: nil)
        }
        let toUpstream = Splice(peer: upstreamChannel, idle: idle)
        let toClient = Splice(peer: clientChannel, idle: idle)
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

    /// Writes what one side reads to the other side.
    final class Splice: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let peer: any Channel
        let idle: IdleTimer

        init(peer: any Channel, idle: IdleTimer) {
            self.peer = peer
            self.idle = idle
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            idle.touch()
            peer.write(unwrapInboundIn(data), promise: nil)
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
