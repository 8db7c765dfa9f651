import ConnectionDrain
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The gateway: listens where gateway.conf says, proxies, and reloads the file on SIGHUP
/// (a bad file keeps the configuration in force and says why). Open connections are not
/// dropped by a reload; they see the new configuration from their next request.
/// On graceful shutdown (SIGTERM) it drains: it stops accepting, closes idle connections,
/// answers the requests in progress with `Connection: close`, sends WebSocket tunnels a
/// close (1001), and cuts what is left when `shutdownGrace` ends.
public final class GatewayServer: Service, Sendable {
    public let runtime: GatewayRuntime
    let configPath: String?
    let group: any EventLoopGroup
    let pools: PoolRegistry
    let shutdownGrace: Duration

    public init(config: GatewayConfig, configPath: String?, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                shutdownGrace: Duration = .seconds(20)) {
        runtime = GatewayRuntime(config: config, logger: logger)
        self.configPath = configPath
        self.group = group
        self.shutdownGrace = shutdownGrace
        pools = PoolRegistry(group: group)
    }

    /// Listens; with `quiesce`, its connections can be drained.
    public func start(quiesce: ServerQuiescingHelper? = nil) async throws -> any Channel {
        let config = runtime.config
        let runtime = self.runtime
        let pools = self.pools
        let grace = shutdownGrace
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                guard let quiesce else { return channel.eventLoop.makeSucceededVoidFuture() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    // First: a connection that sent nothing closes at once when draining, any other at the grace's end.
                    try sync.addHandler(DrainHandler(grace: grace))
                    try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)), name: "decoder")
                    try sync.addHandler(ClientHandler(runtime: runtime, pool: pools.pool(for: channel.eventLoop)), name: "proxy")
                }
            }
            .bind(host: config.listen.host, port: config.listen.port).get()
        runtime.logger.info("gateway listening", metadata: ["address": "\(config.listen)", "routes": "\(config.routes.count)"])
        return channel
    }

    /// Reads gateway.conf again; keeps the old configuration if the new one is bad.
    @discardableResult
    public func reload() -> Bool {
        guard let configPath else { return false }
        do {
            let fresh = try GatewayConfig.load(path: configPath)
            if fresh.listen != runtime.config.listen {
                runtime.logger.warning("listen changed in \(configPath): it takes effect at the next start")
            }
            runtime.replace(with: fresh)
            runtime.logger.info("configuration reloaded", metadata: ["routes": "\(fresh.routes.count)"])
            return true
        } catch {
            runtime.logger.error("configuration not reloaded, the previous one stays: \(error)")
            return false
        }
    }

    public func run() async throws {
        let quiesce = ServerQuiescingHelper(group: group)
        let channel = try await start(quiesce: quiesce)
        let drained = channel.eventLoop.makePromise(of: Void.self)
        let draining = Atomic<Bool>(false)
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) { self.reload() }
                }
                group.addTask { try await channel.closeFuture.get() }
                try await group.next()
                group.cancelAll()
            }
            // The listener closed because the gateway drains: wait for its connections (each
            // is cut at the grace's end at the latest).
            if draining.load(ordering: .acquiring) { try await drained.futureResult.get() }
        } onGracefulShutdown: {
            draining.store(true, ordering: .releasing)
            self.runtime.logger.info("draining", metadata: ["grace": "\(self.shutdownGrace)"])
            quiesce.initiateShutdown(promise: drained)
        }
        if !draining.load(ordering: .acquiring) { drained.succeed() }  // a promise must be completed
    }
}

/// One upstream pool per event loop, made up front; each is only touched on its loop.
final class PoolRegistry: @unchecked Sendable {
    private let pools: [ObjectIdentifier: UpstreamPool]

    init(group: any EventLoopGroup) {
        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in group.makeIterator() { pools[ObjectIdentifier(loop)] = UpstreamPool(eventLoop: loop) }
        self.pools = pools
    }

    func pool(for loop: any EventLoop) -> UpstreamPool {
        pools[ObjectIdentifier(loop)] ?? UpstreamPool(eventLoop: loop)
    }
}
