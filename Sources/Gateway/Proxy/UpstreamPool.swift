import NIOCore
import NIOPosix

/// Receives what an upstream connection reads while it is leased to a client connection.
protocol UpstreamDelegate: AnyObject {
    func upstreamRead(_ bytes: ByteBuffer)
    func upstreamClosed()
    func upstreamError(_ error: any Error)
    func upstreamWritabilityChanged(_ writable: Bool)
    func upstreamReadComplete()
}

/// The upstream end of one keep-alive connection: hands the bytes it reads to whoever leases it.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
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

/// A leased upstream connection (a class: it is handed around on every request).
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
    let address: GatewayConfig.Address

    init(channel: any Channel, handler: UpstreamHandler, address: GatewayConfig.Address) {
        self.channel = channel
        self.handler = handler
        self.address = address
    }
}

/// Idle keep-alive connections to the upstream instances, one pool per event loop so a
/// client connection and its upstream connection share a thread and need no locks.
final class UpstreamPool {
    let eventLoop: any EventLoop
    /// The idle connections to one instance; a class, so taking and giving back touch
    /// neither the dictionary nor a copy of the list.
    final class Idle {
        var connections: [UpstreamConnection] = []
    }
    private var idle: [GatewayConfig.Address: Idle] = [:]
    static let maxIdlePerInstance = 64
    /// Opens a connection to an instance whose pipeline holds an `UpstreamHandler` named
    /// "upstream": over TCP in the gateway, to in-memory channels in tests.
    typealias Connector = (_ address: GatewayConfig.Address, _ timeout: TimeAmount, _ loop: any EventLoop) -> EventLoopFuture<any Channel>
    private let connector: Connector

    init(eventLoop: any EventLoop, connector: @escaping Connector = UpstreamPool.tcp) {
        self.eventLoop = eventLoop
        self.connector = connector
    }

    /// An idle connection to `address`, if one is open.
    func takeIdle(_ address: GatewayConfig.Address) -> UpstreamConnection? {
        eventLoop.assertInEventLoop()
        guard let list = idle[address] else { return nil }
        while let connection = list.connections.popLast() {
            if connection.channel.isActive { return connection }
        }
        return nil
    }

    static func tcp(_ address: GatewayConfig.Address, timeout: TimeAmount, loop: any EventLoop) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                // No HTTP codec: requests go out as the gateway wrote them, responses come in as bytes.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(), name: "upstream")
                }
            }
            .connect(host: address.host, port: address.port)
    }

    /// A new connection to `address`; `done` runs on this loop.
    func connect(_ address: GatewayConfig.Address, connectTimeout: TimeAmount,
                 _ done: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        eventLoop.assertInEventLoop()
        connector(address, connectTimeout, eventLoop)
            .assumeIsolated()
            .whenComplete { [self] result in
                done(result.flatMap { channel in
                    Result {
                        let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
                        // An idle connection the upstream closes leaves the pool at once.
                        handler.onClose = { [weak self] in self?.idle[address]?.connections.removeAll { !$0.channel.isActive } }
                        return UpstreamConnection(channel: channel, handler: handler, address: address)
                    }
                })
            }
    }

    /// Takes a connection back after a complete exchange that left it reusable.
    func release(_ connection: UpstreamConnection) {
        eventLoop.assertInEventLoop()
        connection.handler.delegate = nil
        let list = idle[connection.address] ?? {
            let list = Idle()
            idle[connection.address] = list
            return list
        }()
        guard connection.channel.isActive, list.connections.count < Self.maxIdlePerInstance else {
            connection.channel.close(promise: nil)
            return
        }
        list.connections.append(connection)
    }
}
