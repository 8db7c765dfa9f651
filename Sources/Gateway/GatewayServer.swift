import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// The gateway: listens where gateway.conf says, proxies, and reloads the file on SIGHUP
/// (a bad file keeps the configuration in force and says why). Open connections are not
/// dropped by a reload; they see the new configuration from their next request.
public final class GatewayServer: Service, Sendable {
    public let runtime: GatewayRuntime
    let configPath: String?
    let group: any EventLoopGroup
    let pools: PoolRegistry

    public init(config: GatewayConfig, configPath: String?, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        runtime = GatewayRuntime(config: config, logger: logger)
        self.configPath = configPath
        self.group = group
        pools = PoolRegistry(group: group)
    }

    public func start() async throws -> any Channel {
        let config = runtime.config
        let runtime = self.runtime
        let pools = self.pools
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
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
        let channel = try await start()
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) { self.reload() }
                }
                group.addTask { try await channel.closeFuture.get() }
                try await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
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
