import NIOCore
import NIOHTTP1
import NIOPosix

/// Receives what an upstream connection reads while it is leased to a client connection.
protocol UpstreamDelegate: AnyObject {
    func upstreamRead(_ part: HTTPClientResponsePart)
    func upstreamClosed()
    func upstreamError(_ error: any Error)
    func upstreamWritabilityChanged(_ writable: Bool)
    func upstreamReadComplete()
}

/// The upstream end of one keep-alive connection: hands what it reads to whoever leases it.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    weak var delegate: (any UpstreamDelegate)?
    var onClose: (() -> Void)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        delegate?.upstreamRead(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose?()
        delegate?.upstreamClosed()
        delegate = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        delegate?.upstreamError(error)
        context.close(promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(context.channel.isWritable)
    }
}

/// A leased upstream connection.
struct UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
    let address: GatewayConfig.Address
}

/// Idle keep-alive connections to the upstream instances, one pool per event loop so a
/// client connection and its upstream connection share a thread and need no locks.
final class UpstreamPool {
    let eventLoop: any EventLoop
    private var idle: [String: [UpstreamConnection]] = [:]
    static let maxIdlePerInstance = 64

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    /// An idle connection to `address`, or a new one (always new when `fresh`); `done` runs on this loop.
    func lease(_ address: GatewayConfig.Address, connectTimeout: TimeAmount, fresh: Bool = false,
               _ done: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        eventLoop.assertInEventLoop()
        while !fresh, var list = idle[address.description], let connection = list.popLast() {
            idle[address.description] = list
            if connection.channel.isActive {
                connection.handler.onClose = nil
                return done(.success(connection))
            }
        }
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(HTTPRequestEncoder(), name: "upstream-encoder")
                    try sync.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes)), name: "upstream-decoder")
                    try sync.addHandler(UpstreamHandler(), name: "upstream")
                }
            }
            .connect(host: address.host, port: address.port)
            .assumeIsolated()
            .whenComplete { result in
                done(result.flatMap { channel in
                    Result {
                        UpstreamConnection(channel: channel, handler: try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self), address: address)
                    }
                })
            }
    }

    /// Takes a connection back after a complete exchange that left it reusable.
    func release(_ connection: UpstreamConnection) {
        eventLoop.assertInEventLoop()
        connection.handler.delegate = nil
        guard connection.channel.isActive, (idle[connection.address.description]?.count ?? 0) < Self.maxIdlePerInstance else {
            connection.channel.close(promise: nil)
            return
        }
        let key = connection.address.description
        let channel = connection.channel
        connection.handler.onClose = { [weak self] in
            self?.idle[key]?.removeAll { $0.channel === channel }
        }
        idle[key, default: []].append(connection)
    }
}
