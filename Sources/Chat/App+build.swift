import Events
import Hummingbird
import Logging
import Mongo
import Redis
import ServiceKit
import SocketIO

/// Assembles the chat service from its configuration: the same function serves
/// `switchboard chat` and the tests. REST routes and Socket.IO (`/socket.io/`, both
/// transports) share one port.
public func buildChatApplication(_ config: ChatConfiguration, logger: Logger, routes: RouteCatalog? = nil) async throws -> some ApplicationProtocol {
    let service = config.service
    let cachePrefix = "chat:v2:member"
    let clients = try ServiceClients(service, logger: logger, locallyCached: [cachePrefix])
    let (mongo, database, redis) = (clients.mongo, clients.database, clients.redis)

    let store = MongoChatStore(database: database, logger: logger)
    let membership = Membership(store: store, cache: FlagCache(redis: redis, prefix: cachePrefix, ttlSeconds: config.permissionCacheSeconds, logger: logger))

    let recovery = config.recoveryWindowSeconds > 0
        ? ChatSessionRecovery(redis: redis, store: store, membership: membership, windowSeconds: config.recoveryWindowSeconds, logger: logger) : nil
    let sockets = SocketServer(connectTimeout: .milliseconds(config.connectTimeoutMilliseconds), recovery: recovery, logger: logger)
    let namespace = sockets.of("/")
    let offsets = recovery != nil
    let deliveries = Deliveries(amqp: service.amqp, logger: logger) { event in LiveMessages.apply(event, on: namespace, offsets: offsets) }
    let live = LiveMessages(namespace: namespace, deliveries: deliveries, offsets: offsets)

    let consumer = EventConsumer(service: service.consumerName, mongo: mongo, database: service.mongoDatabase, amqp: service.amqp, logger: logger)
    ChatEvents.register(on: consumer, store: store, membership: membership, live: live)
    // Sockets and REST share one key cache, one memory of verified tokens and one deny-list
    // (an AccessTokenCheck given a VerifiedTokens uses it as it is).
    let verifier = VerifiedTokens(JWKSVerifier(url: service.jwksURL, logger: logger))
    let denyList = TokenDenyList(redis: redis, logger: logger)
    let presence = Presence(
        replicaId: deliveries.replicaId, redis: redis, heartbeat: .milliseconds(config.presenceHeartbeatMilliseconds),
        deadAfter: .milliseconds(config.presenceDeadAfterMilliseconds), logger: logger,
        audience: { try await store.audience(of: $0) },
        announce: { live.tell(.presence(userId: $0, online: $1, audience: $2)) })
    let limits = SocketLimits(limits: config.flood, typingInterval: .milliseconds(config.typingIntervalMilliseconds))
    ChatSockets(store: store, membership: membership, live: live, access: AccessTokenCheck(verifier: verifier, denyList: denyList),
                limits: limits, presence: presence, logger: logger)
        .install(on: namespace)
    let engine = EngineServer(configuration: config.engine, handler: sockets, logger: logger)
    let mounts = EngineMounts([("/socket.io", engine)])

    let router = makeServiceRouter(checks: [.mongo(mongo), .redis(redis), .amqp(consuming: { consumer.isConnected && deliveries.isConnected })])
    router.add(middleware: AuthenticationMiddleware(verifier: verifier, denyList: denyList))
    mounts.addRoutes(to: router)
    ChatRoutes(store: store, membership: membership, files: ChatFiles(database: database, maxBytes: config.fileMaxBytes), live: live,
               presence: presence).add(to: router)

    routes?.record("chat", router)
    var app = Application(
        router: router,
        server: mounts.serverBuilder(maxPayload: config.engine.maxPayload, grace: service.shutdownGrace),
        configuration: .init(address: .hostname(service.host, port: service.port), serverName: "switchboard-chat"),
        // Started in this order; a graceful shutdown stops the HTTP server first (its sockets
        // drain), then these in reverse: the sessions left, presence (its users leave),
        // deliveries, events, the chats' last messages (written), the clients.
        services: clients.services + [store.recentActivity, consumer, deliveries, presence, engine],
        logger: logger)
    app.beforeServerStarts {
        try await store.prepare()
        try await consumer.prepare()
    }
    return app
}
