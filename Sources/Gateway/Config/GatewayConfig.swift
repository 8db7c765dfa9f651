import EdgeContract

/// What `gateway.conf` says: where to listen, which prefix goes where, and the policies
/// around it. Parsed by `GatewayConfig.parse`; every field has the default the README
/// lists, so a file only says what differs.
public struct GatewayConfig: Sendable, Equatable {
    public var listen = Address(host: "127.0.0.1", port: 3000)
    /// `listen ADDRESS ssl;` with its certificates: HTTPS beside the plain listener.
    public var tls: TLS?
    public var trustedProxies: [IPNetwork] = [IPNetwork("127.0.0.1")!, IPNetwork("::1")!]
    /// Clients (by their address behind trusted proxies) shown `/metrics` and the upstreams in
    /// `/health`; everyone else gets 404 and a bare status.
    public var adminNetworks: [IPNetwork] = [IPNetwork("127.0.0.1")!, IPNetwork("::1")!]
    /// A client must send its whole request head within this (slow clients).
    public var headerTimeoutSeconds = 10.0
    public var maxHeaderBytes = 16 * 1024
    /// At most this many client addresses are tracked by the rate limiter.
    public var limiterMaxClients = 100_000
    /// `limit_conn N;`: a client's requests in progress at once; off when nil.
    public var connectionLimit: Int?
    /// `limit_websockets N;`: a client's open WebSocket tunnels; off when nil.
    public var webSocketLimit: Int?
    /// One JSON line per request on standard output.
    public var accessLog = true
    public var cors = CORS()
    public var securityHeaders: [Header] = GatewayConfig.defaultSecurityHeaders
    /// The OpenAPI document served at `/openapi.json` (`openapi FILE;`), read and checked at load.
    public var openAPIDocument: [UInt8]?
    public var routes: [Route] = []
    /// `static PREFIX { … }`: files served by the gateway itself (a browser app).
    public var staticSites: [StaticSite] = []
    /// `session_refresh { … }`: browser sessions refreshed on the way (see `SessionCookies`); off when absent.
    public var sessionRefresh: SessionRefresh?

    public init() {}

    /// Where and how the gateway refreshes a browser's access cookie from its refresh cookie.
    public struct SessionRefresh: Sendable, Equatable {
        /// The public path of auth's refresh route, asked through the route that serves it.
        public var endpoint = "/auth/refresh"
        public var accessCookie = "token"
        public var refreshCookie = "refresh_token"
        /// Paths whose upstreams get the refresh cookie (auth's); no other service sees it.
        public var refreshCookieTo: [String] = ["/auth/"]
        /// Paths that are never refreshed on the way: they start, renew or end sessions themselves.
        public var skip: [String] = []
        /// An access token this close to its expiry is refreshed already: it could expire on the way.
        public var earlySeconds = 30

        public init() {}

        func passesRefreshCookie(to path: String) -> Bool { refreshCookieTo.contains { path.hasPrefix($0) } }
    }

    /// TLS termination: a listener of its own, certificates chosen by SNI (the first is the
    /// default), HSTS on its responses, and optionally the plain listener redirecting to it.
    public struct TLS: Sendable, Equatable {
        public var listen: Address
        public var certificates: [ServerCertificate]
        /// The `Strict-Transport-Security` value added to TLS responses (`hsts off;`: none).
        public var hsts: String? = "max-age=63072000"
        /// `redirect_to_https on;`: the plain listener answers 308 to the same URL over HTTPS
        /// (but `/health`, for probes that speak plain HTTP).
        public var redirectPlain = false
    }

    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public struct CORS: Sendable, Equatable {
        /// Exact origins (scheme, host and port), compared whole: never a pattern.
        public var allowedOrigins: [String] = []
        public var allowCredentials = false
        public var maxAgeSeconds = 600
        public var allowedMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        public var allowedHeaders = ["Authorization", "Content-Type", "X-Request-Id"]
        /// Response headers a page's script may read besides the safelisted ones.
        public var exposedHeaders = ["X-Request-Id", "Retry-After"]
    }

    /// NGINX `limit_req`: `rate` requests a second on average, `burst` more queued (or,
    /// with `nodelay`, served at once), the rest refused.
    public struct RateLimit: Sendable, Equatable {
        public var perSecond: Double
        public var burst: Int
        public var nodelay: Bool

        public init(perSecond: Double, burst: Int, nodelay: Bool) {
            self.perSecond = perSecond
            self.burst = burst
            self.nodelay = nodelay
        }
    }

    public struct Route: Sendable, Equatable {
        /// Requests whose path starts with this go here; the longest matching prefix wins.
        public var prefix: String
        public var upstreams: [Address] = []
        /// Removed from the path before it is sent upstream (`/auth/login` → `/login`).
        public var stripPrefix: String?
        public var rateLimit: RateLimit? = RateLimit(perSecond: 10, burst: 20, nodelay: true)
        public var maxBodyBytes = 1024 * 1024
        public var connectTimeoutSeconds = 2.0
        /// Longest wait for the upstream's response head, and the idle limit of a
        /// WebSocket (which a ping resets).
        public var readTimeoutSeconds = 60.0
        public var websocket = false
        /// Another instance is tried for idempotent requests when one refuses or fails.
        public var retries = 1
        /// An instance that refused a connection is skipped for this long.
        public var failTimeoutSeconds = 10.0
        public var balance = Balance.roundRobin
    }

    /// How a route spreads requests over its instances.
    public enum Balance: String, Sendable, Equatable {
        /// Each request to the next instance.
        case roundRobin = "round_robin"
        /// Each client address to the same instance while it is up (NGINX `ip_hash`): what
        /// Socket.IO long-polling needs, as a session lives on the instance that made it.
        case ipHash = "ip_hash"
    }

    public static let defaultSecurityHeaders: [Header] = [
        Header(name: "X-Frame-Options", value: "DENY"),
        Header(name: "X-Content-Type-Options", value: "nosniff"),
        Header(name: "Referrer-Policy", value: "no-referrer"),
        Header(name: "Content-Security-Policy", value: "default-src 'none'; frame-ancestors 'none'"),
    ]

    /// The route for `path`: the longest prefix that matches.
    public func route(for path: String) -> Route? {
        routeIndex(for: path).map { routes[$0] }
    }

    /// The index of the route with the longest prefix of `path`.
    public func routeIndex(for path: String) -> Int? {
        var best: Int?
        var bestLength = -1
        for (index, route) in routes.enumerated() where route.prefix.utf8.count > bestLength && path.hasPrefix(route.prefix) {
            best = index
            bestLength = route.prefix.utf8.count
        }
        return best
    }
}
