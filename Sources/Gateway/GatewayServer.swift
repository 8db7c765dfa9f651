import ConnectionDrain
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
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

    public init(config: GatewayConfig, configPath: String?, logger: Logger, accessLog: AccessLogOutput = .logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, shutdownGrace: Duration = .seconds(20)) {
        runtime = GatewayRuntime(config: config, logger: logger, accessLog: accessLog)
        self.configPath = configPath
        self.group = group
        self.shutdownGrace = shutdownGrace
        pools = PoolRegistry(group: group)
    }

    /// Listens (and on TLS, when gateway.conf says so); closing the listeners is the caller's.
    public func start() async throws -> GatewayListeners {
        try await start(drains: nil)
    }

    /// The same; with `drains`, the listeners' connections can be drained.
    func start(drains: ListenerDrains?) async throws -> GatewayListeners {
        let config = runtime.config
        // TLS first: once the plain listener answers (where health checks ask), both accept.
        var tls: (any Channel)?
        if let settings = config.tls {
            tls = try await listen(on: settings.listen, overTLS: true, quiesce: drains?.tls)
        }
        let plain: any Channel
        do {
            plain = try await listen(on: config.listen, overTLS: false, quiesce: drains?.plain)
        } catch {
            try? await tls?.close()
            throw error
        }
        var metadata: Logger.Metadata = ["address": "\(config.listen)", "routes": "\(config.routes.count)"]
        if let settings = config.tls {
            metadata["tls"] = "\(settings.listen)"
            metadata["certificates"] = "\(settings.certificates.count)"
        }
        runtime.logger.info("gateway listening", metadata: metadata)
        warnAboutExpiry(config)
        return GatewayListeners(plain: plain, tls: tls)
    }

    private func listen(on address: GatewayConfig.Address, overTLS: Bool, quiesce: ServerQuiescingHelper?) async throws -> any Channel {
        let runtime = self.runtime
        let pools = self.pools
        let grace = shutdownGrace
        return try await ServerBootstrap(group: group)
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
                    let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
                    if overTLS, let tls = runtime.snapshot.config.tls {
                        // The certificate the client names in its hello (SNI), from the configuration
                        // in force when it connected: a reload serves new connections, keeps open ones.
                        // The TLS handler goes after the SNI one, which then hands it the hello.
                        try sync.addHandler(ByteToMessageHandler(SNIHandler { result in
                            var name: String?
                            if case .hostname(let hostname) = result { name = hostname }
                            let certificate = tls.certificate(for: name)
                            return channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: certificate.context), position: .before(decoder))
                            }
                        }))
                    }
                    try sync.addHandler(decoder, name: "decoder")
                    try sync.addHandler(ClientHandler(runtime: runtime, pool: pools.pool(for: channel.eventLoop), overTLS: overTLS), name: "proxy")
                }
            }
            .bind(host: address.host, port: address.port).get()
    }

    /// A certificate past (or within two weeks of) its end is served still, and said so.
    private func warnAboutExpiry(_ config: GatewayConfig) {
        let now = runtime.wallSeconds()
        for certificate in config.tls?.certificates ?? [] where certificate.notValidAfter < now + 14 * 86_400 {
            runtime.logger.warning(certificate.notValidAfter < now ? "TLS certificate expired" : "TLS certificate expires within two weeks",
                                   metadata: ["certificate": "\(certificate.certificatePath)", "notValidAfter": "\(certificate.notValidAfter)"])
        }
    }

    /// Reads gateway.conf again; keeps the old configuration if the new one is bad.
    @discardableResult
    public func reload() -> Bool {
        guard let configPath else { return false }
        do {
            let fresh = try GatewayConfig.load(path: configPath)
            if fresh.listen != runtime.config.listen || fresh.tls?.listen != runtime.config.tls?.listen {
                runtime.logger.warning("listen changed in \(configPath): it takes effect at the next start")
            }
            runtime.replace(with: fresh)
            runtime.logger.info("configuration reloaded", metadata: ["routes": "\(fresh.routes.count)", "certificates": "\(fresh.tls?.certificates.count ?? 0)"])
            warnAboutExpiry(fresh)
            return true
        } catch {
            runtime.logger.error("configuration not reloaded, the previous one stays: \(error)")
            return false
        }
    }

    public func run() async throws {
        let drains = ListenerDrains(group: group)
        let listeners = try await start(drains: drains)
        let drained = listeners.plain.eventLoop.makePromise(of: Void.self)
        let draining = Atomic<Bool>(false)
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) { self.reload() }
                }
                group.addTask { try await listeners.plain.closeFuture.get() }
                if let tls = listeners.tls { group.addTask { try await tls.closeFuture.get() } }
                try await group.next()
                // One listener closed (a drain closes both): the other must not keep the group
                // waiting, and a close future does not answer cancellation.
                try? await listeners.plain.close()
                try? await listeners.tls?.close()
                group.cancelAll()
            }
            // The listeners closed because the gateway drains: wait for their connections
            // (each is cut at the grace's end at the latest).
            if draining.load(ordering: .acquiring) { try await drained.futureResult.get() }
        } onGracefulShutdown: {
            draining.store(true, ordering: .releasing)
            self.runtime.logger.info("draining", metadata: ["grace": "\(self.shutdownGrace)"])
            drains.initiateShutdown(tls: listeners.tls != nil, promise: drained)
        }
        if !draining.load(ordering: .acquiring) { drained.succeed() }  // a promise must be completed
    }
}

/// Drains the listeners' connections at shutdown. NIOExtras' `ServerQuiescingHelper` collects
/// the connections of one server channel only, so each listener has its own.
struct ListenerDrains: Sendable {
    let plain: ServerQuiescingHelper
    let tls: ServerQuiescingHelper

    init(group: any EventLoopGroup) {
        plain = ServerQuiescingHelper(group: group)
        tls = ServerQuiescingHelper(group: group)
    }

    /// Closes the listeners and tells their connections to finish; `promise` when every one has.
    /// `tls`: whether the TLS listener was opened (a helper never given a channel never completes).
    func initiateShutdown(tls withTLS: Bool, promise: EventLoopPromise<Void>) {
        let plainDrained = promise.futureResult.eventLoop.makePromise(of: Void.self)
        plain.initiateShutdown(promise: plainDrained)
        guard withTLS else { return plainDrained.futureResult.cascade(to: promise) }
        let tlsDrained = promise.futureResult.eventLoop.makePromise(of: Void.self)
        tls.initiateShutdown(promise: tlsDrained)
        plainDrained.futureResult.and(tlsDrained.futureResult).map { _ in () }.cascade(to: promise)
    }
}

/// The gateway's listening channels: plain HTTP, and TLS when configured.
public struct GatewayListeners: Sendable {
    public let plain: any Channel
    public let tls: (any Channel)?

    public func close() async throws {
        try await plain.close()
        try await tls?.close()
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
