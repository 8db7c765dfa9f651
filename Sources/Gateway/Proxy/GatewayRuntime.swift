import EdgeContract
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// What every connection reads per request: the configuration in force (swapped whole
/// on SIGHUP), the rate limiter (kept across reloads), and which upstream instances
/// refused connections lately (passive health).
public final class GatewayRuntime: Sendable {
    private let current: NIOLockedValueBox<ConfigSnapshot>
    let limiter: RateLimiter
    let connections = ConnectionLimiter()
    let tunnels = ConnectionLimiter()
    let logger: Logger
    /// Where `access_log on` writes its lines.
    let accessLog: AccessLogOutput
    private let roundRobin = Atomic<Int>(0)
    private let failedUntil = Mutex<[GatewayConfig.Address: Double]>([:])
    /// Whether any instance failed lately: most requests need not look at the table.
    private let anyFailed = Atomic<Bool>(false)
    /// Browser sessions refreshed on the way (`session_refresh`), shared by every connection.
    let sessions = SessionRefresher()
    /// Seconds since 1970: what access tokens' `exp` is compared with.
    let wallSeconds: @Sendable () -> Int

    public init(config: GatewayConfig, logger: Logger, accessLog: AccessLogOutput = .logger,
                wallSeconds: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        current = NIOLockedValueBox(ConfigSnapshot(config))
        limiter = RateLimiter(maxClients: config.limiterMaxClients)
        self.logger = logger
        self.accessLog = accessLog
        self.wallSeconds = wallSeconds
    }

    public var config: GatewayConfig { snapshot.config }

    /// The configuration in force, read once per request (a reference, not a copy).
    var snapshot: ConfigSnapshot { current.withLockedValue { $0 } }

    /// Swaps in a new configuration; connections pick it up at their next request.
    public func replace(with config: GatewayConfig) {
        let fresh = ConfigSnapshot(config)
        current.withLockedValue { $0 = fresh }
    }

    /// The next instance for `route` (round robin, or the client's own with `ip_hash`),
    /// skipping those that failed within their `fail_timeout` unless all have (then the
    /// least recently failed is tried).
    func pickInstance(_ route: GatewayConfig.Route, client: String, excluding tried: [GatewayConfig.Address], now: Double) -> GatewayConfig.Address? {
        let candidates = tried.isEmpty ? route.upstreams : route.upstreams.filter { !tried.contains($0) }
        guard !candidates.isEmpty else { return nil }
        let start = switch route.balance {
        case .roundRobin: roundRobin.add(1, ordering: .relaxed).newValue
        // Over all instances, not the untried ones: a client keeps its instance.
        case .ipHash: Self.stableHash(client) % route.upstreams.count
        }
        if !anyFailed.load(ordering: .relaxed) { return candidates[start % candidates.count] }
        let failures = failedUntil.withLock { $0 }
        for offset in 0..<candidates.count {
            let candidate = candidates[(start + offset) % candidates.count]
            if (failures[candidate] ?? 0) <= now { return candidate }
        }
        return candidates.min { (failures[$0] ?? 0) < (failures[$1] ?? 0) }
    }

    /// FNV-1a: the same for an address in every gateway process (Swift's `hashValue` is seeded per process).
    static func stableHash(_ text: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(hash % UInt64(Int.max))
    }

    func markFailed(_ address: GatewayConfig.Address, for seconds: Double, now: Double) {
        failedUntil.withLock { $0[address] = now + seconds }
        anyFailed.store(true, ordering: .relaxed)
    }

    func markHealthy(_ address: GatewayConfig.Address) {
        guard anyFailed.load(ordering: .relaxed) else { return }
        let empty = failedUntil.withLock { failures in
            failures.removeValue(forKey: address)
            return failures.isEmpty
        }
        if empty { anyFailed.store(false, ordering: .relaxed) }
    }

    func isFailed(_ address: GatewayConfig.Address, now: Double) -> Bool {
        guard anyFailed.load(ordering: .relaxed) else { return false }
        return (failedUntil.withLock { $0[address] } ?? 0) > now
    }
}

/// Monotonic seconds, for rate limits and timers.
func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// A configuration with what each request needs worked out once: the CORS policy, the
/// security headers as NIO headers, each route's index (for metrics).
final class ConfigSnapshot: Sendable {
    let config: GatewayConfig
    let cors: CORSPolicy
    let clientAddress: ClientAddress
    /// Counted per configuration: a reload starts them again, as a restart would.
    let metrics: GatewayMetrics
    let openAPI: ByteBuffer?
    let securityHeaders: [HeadWriter.SecurityHeader]
    /// The same, and HSTS: for responses over TLS.
    let tlsSecurityHeaders: [HeadWriter.SecurityHeader]
    /// The routes by reference: copying a route per request would retain each of its strings and arrays.
    let routes: [ActiveRoute]
    /// The static sites, their files as buffers made once.
    let staticSites: [ActiveStaticSite]

    init(_ config: GatewayConfig) {
        self.config = config
        cors = CORSPolicy(cors: config.cors)
        clientAddress = ClientAddress(trustedProxies: config.trustedProxies)
        metrics = GatewayMetrics(routes: config.routes.map(\.prefix))
        openAPI = config.openAPIDocument.map { ByteBuffer(bytes: $0) }
        securityHeaders = config.securityHeaders.map { HeadWriter.SecurityHeader(name: $0.name, value: $0.value) }
        tlsSecurityHeaders = securityHeaders + (config.tls?.hsts.map { [HeadWriter.SecurityHeader(name: "Strict-Transport-Security", value: $0)] } ?? [])
        routes = config.routes.enumerated().map { ActiveRoute(settings: $0.element, index: $0.offset) }
        staticSites = config.staticSites.map(ActiveStaticSite.init)
    }

    /// The static site with the longest prefix of `path`, if any.
    func staticSite(for path: String) -> ActiveStaticSite? {
        var best: ActiveStaticSite?
        for site in staticSites where path.hasPrefix(site.prefix) && site.prefix.count > (best?.prefix.count ?? -1) { best = site }
        return best
    }

    /// Whether a client (its address behind trusted proxies) may see `/metrics` and the upstreams.
    func isAdmin(_ clientAddress: String) -> Bool { config.adminNetworks.contains { $0.contains(clientAddress) } }

    /// The route with the longest prefix of `path`.
    func route(for path: String) -> ActiveRoute? {
        config.routeIndex(for: path).map { routes[$0] }
    }
}

/// A static site of the configuration in force: each file's bytes as a buffer, its
/// response's own headers (Cache-Control, the site's CSP) worked out once.
final class ActiveStaticSite: Sendable {
    let prefix: String
    let files: [String: (body: ByteBuffer, contentType: String)]
    let headers: [(String, String)]

    init(_ site: StaticSite) {
        prefix = site.prefix
        files = site.files.mapValues { (ByteBuffer(bytes: $0.bytes), $0.contentType) }
        headers = [("Cache-Control", "no-cache")] + (site.contentSecurityPolicy.map { [("Content-Security-Policy", $0)] } ?? [])
    }

    /// The file a request path names: `PREFIX` and `PREFIX…/` mean their `index.html`.
    func file(for path: String) -> (body: ByteBuffer, contentType: String)? {
        guard path.hasPrefix(prefix) else { return nil }
        var name = String(path.dropFirst(prefix.count))
        if name.isEmpty || name.hasSuffix("/") { name += "index.html" }
        return files[name]
    }
}

/// One route of the configuration in force, held by reference by the requests it serves.
final class ActiveRoute: Sendable {
    let settings: GatewayConfig.Route
    /// Its place in the configuration (metrics count by it).
    let index: Int

    init(settings: GatewayConfig.Route, index: Int) {
        self.settings = settings
        self.index = index
    }
}
