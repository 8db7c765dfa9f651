import NIOHTTP1

/// CORS as `gateway.conf` allows it: an origin is allowed only if it equals one listed
/// (scheme, host and port), never by pattern, so `https://app.example.com.evil` is not
/// `https://app.example.com`. Credentials are allowed only for listed origins.
struct CORSPolicy: Sendable {
    let cors: GatewayConfig.CORS

    func isAllowed(_ origin: String) -> Bool { cors.allowedOrigins.contains(origin) }

    /// Headers for a response to a request from `origin` (nil: the request had none).
    /// Once any origin is allowed, every response depends on Origin — an allowed one gets
    /// the CORS headers, others not — so every response says `Vary: Origin`, or a shared
    /// cache could hand one origin's answer to another.
    func responseHeaders(origin: String?) -> [(String, String)] {
        guard !cors.allowedOrigins.isEmpty else { return [] }
        guard let origin, isAllowed(origin) else { return [("Vary", "Origin")] }
        var headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if cors.allowCredentials { headers.append(("Access-Control-Allow-Credentials", "true")) }
        if !cors.exposedHeaders.isEmpty { headers.append(("Access-Control-Expose-Headers", cors.exposedHeaders.joined(separator: ", "))) }
        return headers
    }

    /// A preflight is an OPTIONS with an Origin and Access-Control-Request-Method.
    static func isPreflight(_ head: HTTPRequestHead) -> Bool {
        head.method == .OPTIONS && head.headers.contains(name: "Origin") && head.headers.contains(name: "Access-Control-Request-Method")
    }

    /// The preflight answer's own headers (besides `responseHeaders`), or nil when the
    /// origin is not allowed.
    func preflightHeaders(_ head: HTTPRequestHead) -> [(String, String)]? {
        guard let origin = head.headers.first(name: "Origin"), isAllowed(origin) else { return nil }
        return [
            ("Access-Control-Allow-Methods", cors.allowedMethods.joined(separator: ", ")),
            ("Access-Control-Allow-Headers", cors.allowedHeaders.joined(separator: ", ")),
            ("Access-Control-Max-Age", String(cors.maxAgeSeconds)),
        ]
    }
}
