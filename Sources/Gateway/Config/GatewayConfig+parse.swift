import EdgeContract
import Foundation

/// A `gateway.conf` that cannot be used: where and why.
public struct GatewayConfigError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let reason: String

    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file):\(line): \(reason)" }
}

extension GatewayConfig {
    /// Reads and checks a configuration file.
    public static func load(path: String) throws -> GatewayConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw GatewayConfigError(file: path, line: 0, reason: "cannot be read: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    /// Parses the text of a configuration (nginx-like: `directive arguments;` and
    /// `block { ... }`, `#` comments, "quoted strings"); every mistake names its line.
    public static func parse(_ text: String, file: String = "gateway.conf") throws -> GatewayConfig {
        let statements = try ConfigSyntax.parse(text, file: file)
        var config = GatewayConfig()
        var defaults = Route(prefix: "/")
        // Defaults first, wherever they are written, so they reach every route.
        for statement in statements where statement.name == "defaults" {
            let block = try statement.block()
            for inner in block { try defaults.apply(inner) }
        }
        var seenPrefixes: Set<String> = []
        var refreshStatement: ConfigSyntax.Statement?
        var tlsListen: (address: Address, statement: ConfigSyntax.Statement)?
        var certificates: [ServerCertificate] = []
        var hsts: String?? = .none
        var redirectPlain: (Bool, ConfigSyntax.Statement)?
        for statement in statements {
            switch statement.name {
            case "listen" where statement.arguments.count == 2 && statement.arguments[1] == "ssl":
                tlsListen = (try statement.address(statement.arguments[0]), statement)
            case "listen": config.listen = try statement.address(statement.single())
            case "ssl_certificate": certificates.append(try statement.certificate(configFile: file))
            case "hsts" where statement.arguments == ["off"]: hsts = .some(nil)
            case "hsts": hsts = .some(try statement.single())
            case "redirect_to_https": redirectPlain = (try statement.flag(statement.single()), statement)
            case "trusted_proxies": config.trustedProxies = try statement.networks()
            case "admin_allow": config.adminNetworks = try statement.networks()
            case "header_timeout": config.headerTimeoutSeconds = try statement.duration(statement.single())
            case "max_header_size": config.maxHeaderBytes = try statement.size(statement.single(), in: 1024...(1024 * 1024))
            case "limiter_max_clients": config.limiterMaxClients = try statement.integer(statement.single(), in: 100...10_000_000)
            case "limit_conn": config.connectionLimit = try statement.integer(statement.single(), in: 1...1_000_000)
            case "limit_websockets": config.webSocketLimit = try statement.integer(statement.single(), in: 1...1_000_000)
            case "access_log": config.accessLog = try statement.flag(statement.single())
            case "openapi": config.openAPIDocument = try statement.openAPIDocument(statement.single(), configFile: file)
            case "cors":
                for inner in try statement.block() { try config.cors.apply(inner) }
            case "security_headers":
                if statement.children == nil, try statement.single() == "off" {
                    config.securityHeaders = []
                    continue
                }
                config.securityHeaders = try statement.block().map { inner in
                    guard inner.children == nil, inner.arguments.count == 1 else {
                        throw inner.error("write a security header as: Name \"value\";")
                    }
                    guard inner.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                        throw inner.error("\"\(inner.name)\" is not a header name")
                    }
                    return Header(name: inner.name, value: inner.arguments[0])
                }
            case "session_refresh":
                var refresh = GatewayConfig.SessionRefresh()
                for inner in try statement.block() { try refresh.apply(inner) }
                config.sessionRefresh = refresh
                refreshStatement = statement
            case "defaults": continue
            case "static":
                let prefix = try statement.single()
                guard prefix.hasPrefix("/"), prefix.hasSuffix("/") else { throw statement.error("a static prefix starts and ends with /: \"\(prefix)\"") }
                guard seenPrefixes.insert(prefix).inserted else { throw statement.error("\(prefix) is defined twice") }
                var site = StaticSite(prefix: prefix, root: "")
                for inner in try statement.block() {
                    switch inner.name {
                    case "root": site.root = try inner.single()
                    case "csp": site.contentSecurityPolicy = try inner.single()
                    default: throw inner.error("unknown directive \"\(inner.name)\" in static")
                    }
                }
                guard !site.root.isEmpty else { throw statement.error("static \(prefix) has no root") }
                let base = URL(fileURLWithPath: file).deletingLastPathComponent()
                let directory = site.root.hasPrefix("/") ? URL(fileURLWithPath: site.root) : base.appendingPathComponent(site.root)
                do {
                    site.files = try StaticSite.read(directory: directory)
                } catch {
                    throw statement.error("static \(prefix): root \(site.root) \(error)")
                }
                config.staticSites.append(site)
            case "route":
                let prefix = try statement.single()
                guard prefix.hasPrefix("/") else { throw statement.error("a route prefix starts with /: \"\(prefix)\"") }
                guard seenPrefixes.insert(prefix).inserted else { throw statement.error("route \(prefix) is defined twice") }
                var route = defaults
                route.prefix = prefix
                for inner in try statement.block() { try route.apply(inner) }
                guard !route.upstreams.isEmpty else { throw statement.error("route \(prefix) has no upstream") }
                if let strip = route.stripPrefix, !prefix.hasPrefix(strip) {
                    throw statement.error("strip_prefix \(strip) is not a prefix of \(prefix)")
                }
                config.routes.append(route)
            default:
                throw statement.error("unknown directive \"\(statement.name)\"")
            }
        }
        guard !config.routes.isEmpty else { throw GatewayConfigError(file: file, line: 0, reason: "no route is defined") }
        if let (address, statement) = tlsListen {
            guard !certificates.isEmpty else { throw statement.error("listen \(address) ssl needs an ssl_certificate") }
            guard address != config.listen else { throw statement.error("listen \(address) ssl is also the plain listener") }
            var tls = TLS(listen: address, certificates: certificates)
            if case .some(let value) = hsts { tls.hsts = value }
            tls.redirectPlain = redirectPlain?.0 ?? false
            config.tls = tls
        } else if let (_, statement) = redirectPlain {
            throw statement.error("redirect_to_https needs a listen ... ssl")
        } else if !certificates.isEmpty {
            throw GatewayConfigError(file: file, line: 0, reason: "ssl_certificate is set but no listen ... ssl uses it")
        }
        if let refresh = config.sessionRefresh, let statement = refreshStatement, config.routeIndex(for: refresh.endpoint) == nil {
            throw statement.error("session_refresh endpoint \(refresh.endpoint) matches no route")
        }
        return config
    }
}

extension ConfigSyntax.Statement {
    /// The bytes of an OpenAPI document, its path relative to the configuration file; it
    /// must be a JSON object naming an OpenAPI 3 version, so a wrong file fails at load.
    /// `ssl_certificate CERTIFICATE.pem KEY.pem [NAME …];` (paths relative to the file).
    func certificate(configFile: String) throws -> ServerCertificate {
        let arguments = try arguments(atLeast: 2)
        let base = URL(fileURLWithPath: configFile).deletingLastPathComponent()
        func read(_ path: String) throws -> [UInt8] {
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
            guard let data = try? Data(contentsOf: url) else { throw error("ssl_certificate: \(path) cannot be read") }
            return Array(data)
        }
        let names = Array(arguments.dropFirst(2))
        for name in names where !name.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "*") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) || (name.contains("*") && !name.hasPrefix("*.")) {
            throw error("ssl_certificate: \"\(name)\" is not a server name (a.example.com or *.example.com)")
        }
        do {
            return try ServerCertificate(names: names, certificatePath: arguments[0], keyPath: arguments[1], chainPEM: try read(arguments[0]), keyPEM: try read(arguments[1]))
        } catch let reason as ServerCertificateError {
            throw error("ssl_certificate \(arguments[0]) \(arguments[1]): \(reason)")
        }
    }

    func openAPIDocument(_ path: String, configFile: String) throws -> [UInt8] {
        let base = URL(fileURLWithPath: configFile).deletingLastPathComponent()
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw self.error("openapi \(path) cannot be read")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let version = object["openapi"] as? String, version.hasPrefix("3.")
        else { throw self.error("openapi \(path) is not an OpenAPI 3 JSON document") }
        return Array(data)
    }
}

extension GatewayConfig.Route {
    /// One directive of a `route` or `defaults` block.
    mutating func apply(_ s: ConfigSyntax.Statement) throws {
        guard s.children == nil else { throw s.error("\"\(s.name)\" takes no block here") }
        switch s.name {
        case "upstream": upstreams = try s.arguments(atLeast: 1).map(s.address)
        case "strip_prefix":
            let value = try s.single()
            guard value == "off" || value.hasPrefix("/") else { throw s.error("strip_prefix takes a path or off") }
            stripPrefix = value == "off" ? nil : value
        case "rate": rateLimit = try s.rateLimit()
        case "max_body": maxBodyBytes = try s.size(s.single(), in: 0...(1 << 30))
        case "connect_timeout": connectTimeoutSeconds = try s.duration(s.single())
        case "read_timeout": readTimeoutSeconds = try s.duration(s.single())
        case "fail_timeout": failTimeoutSeconds = try s.duration(s.single())
        case "websocket": websocket = try s.flag(s.single())
        case "retries": retries = try s.integer(s.single(), in: 0...10)
        case "balance":
            let value = try s.single()
            guard let chosen = GatewayConfig.Balance(rawValue: value) else { throw s.error("balance takes round_robin or ip_hash, not \"\(value)\"") }
            balance = chosen
        default: throw s.error("unknown directive \"\(s.name)\" in a route")
        }
    }
}

extension GatewayConfig.SessionRefresh {
    mutating func apply(_ s: ConfigSyntax.Statement) throws {
        guard s.children == nil else { throw s.error("\"\(s.name)\" takes no block here") }
        func path(_ raw: String) throws -> String {
            guard raw.hasPrefix("/") else { throw s.error("\"\(raw)\" is not a path (it starts with /)") }
            return raw
        }
        func cookieName(_ raw: String) throws -> String {
            guard !raw.isEmpty, raw.utf8.allSatisfy({ $0 > 32 && $0 < 127 && !"()<>@,;:\\\"/[]?={}".utf8.contains($0) }) else {
                throw s.error("\"\(raw)\" is not a cookie name")
            }
            return raw
        }
        switch s.name {
        case "endpoint": endpoint = try path(s.single())
        case "access_cookie": accessCookie = try cookieName(s.single())
        case "refresh_cookie": refreshCookie = try cookieName(s.single())
        case "refresh_cookie_to": refreshCookieTo = try s.arguments(atLeast: 1).map(path)
        case "skip": skip = try s.arguments(atLeast: 1).map(path)
        case "early": earlySeconds = Int(try s.duration(s.single()))
        default: throw s.error("unknown directive \"\(s.name)\" in session_refresh")
        }
    }
}

extension GatewayConfig.CORS {
    mutating func apply(_ s: ConfigSyntax.Statement) throws {
        guard s.children == nil else { throw s.error("\"\(s.name)\" takes no block here") }
        switch s.name {
        case "allow_origin":
            for origin in try s.arguments(atLeast: 1) {
                guard Self.isExactOrigin(origin) else {
                    throw s.error("\"\(origin)\" is not an origin (scheme://host[:port], no path, no wildcard)")
                }
                allowedOrigins.append(origin)
            }
        case "allow_credentials": allowCredentials = try s.flag(s.single())
        case "max_age": maxAgeSeconds = Int(try s.duration(s.single()))
        case "allow_methods": allowedMethods = try s.arguments(atLeast: 1).map { $0.uppercased() }
        case "allow_headers": allowedHeaders = try s.arguments(atLeast: 1)
        case "expose_headers": exposedHeaders = try s.arguments(atLeast: 1)
        default: throw s.error("unknown directive \"\(s.name)\" in cors")
        }
    }

    static func isExactOrigin(_ origin: String) -> Bool {
        guard let url = URL(string: origin), let scheme = url.scheme, ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty else {
            return false
        }
        return url.path.isEmpty && url.query == nil && url.fragment == nil && !origin.contains("*") && !origin.hasSuffix("/")
    }
}

// MARK: typed arguments

extension ConfigSyntax.Statement {
    func error(_ reason: String) -> GatewayConfigError { GatewayConfigError(file: file, line: line, reason: reason) }

    func arguments(atLeast count: Int) throws -> [String] {
        guard arguments.count >= count else { throw error("\"\(name)\" needs at least \(count) argument\(count == 1 ? "" : "s")") }
        return arguments
    }

    /// Addresses or CIDR ranges, at least one.
    func networks() throws -> [IPNetwork] {
        try arguments(atLeast: 1).map { raw in
            guard let network = IPNetwork(raw) else { throw error("\"\(raw)\" is not an IP address or CIDR range") }
            return network
        }
    }

    func single() throws -> String {
        guard arguments.count == 1 else { throw error("\"\(name)\" takes one argument") }
        return arguments[0]
    }

    func block() throws -> [ConfigSyntax.Statement] {
        guard let children, arguments.count <= 1 else { throw error("\"\(name)\" takes a { ... } block") }
        return children
    }

    /// `host:port`, `[v6]:port` or a bare `port` (on 127.0.0.1).
    func address(_ raw: String) throws -> GatewayConfig.Address {
        var host = "127.0.0.1"
        var portText = raw
        if raw.hasPrefix("[") {
            guard let close = raw.firstIndex(of: "]"), raw[raw.index(after: close)...].hasPrefix(":") else {
                throw error("\"\(raw)\" is not an address ([v6]:port)")
            }
            host = String(raw[raw.index(after: raw.startIndex)..<close])
            portText = String(raw[raw.index(close, offsetBy: 2)...])
        } else if let colon = raw.lastIndex(of: ":") {
            host = String(raw[..<colon])
            portText = String(raw[raw.index(after: colon)...])
        }
        guard let port = Int(portText), (1...65535).contains(port), !host.isEmpty else {
            throw error("\"\(raw)\" is not an address (host:port)")
        }
        return GatewayConfig.Address(host: host, port: port)
    }

    func flag(_ raw: String) throws -> Bool {
        switch raw {
        case "on": return true
        case "off": return false
        default: throw error("\"\(name)\" takes on or off, not \"\(raw)\"")
        }
    }

    func integer(_ raw: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(raw), range.contains(value) else { throw error("\"\(raw)\" is not a whole number in \(range.lowerBound)...\(range.upperBound)") }
        return value
    }

    /// `500ms`, `10s`, `5m`, `1h` (a bare number is seconds).
    func duration(_ raw: String) throws -> Double {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where raw.hasSuffix(suffix) {
            if let value = Double(raw.dropLast(suffix.count)), value >= 0, value.isFinite { return value * factor }
        }
        if let value = Double(raw), value >= 0, value.isFinite { return value }
        throw error("\"\(raw)\" is not a duration (like 500ms, 10s, 5m, 1h)")
    }

    /// `512`, `16k`, `5m`, `1g` bytes.
    func size(_ raw: String, in range: ClosedRange<Int>) throws -> Int {
        let lower = raw.lowercased()
        let factors: [Character: Int] = ["k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024]
        var value: Int?
        if let last = lower.last, let factor = factors[last] {
            value = Int(lower.dropLast()).map { $0 * factor }
        } else {
            value = Int(lower)
        }
        guard let value, range.contains(value) else { throw error("\"\(raw)\" is not a size (like 512, 16k, 5m) in range") }
        return value
    }

    /// `rate 10r/s burst=20 nodelay;`, `rate 30r/m;` or `rate off;`.
    func rateLimit() throws -> GatewayConfig.RateLimit? {
        let args = try arguments(atLeast: 1)
        if args == ["off"] { return nil }
        let rate = args[0]
        let perSecond: Double
        if rate.hasSuffix("r/s"), let value = Double(rate.dropLast(3)), value > 0 {
            perSecond = value
        } else if rate.hasSuffix("r/m"), let value = Double(rate.dropLast(3)), value > 0 {
            perSecond = value / 60
        } else {
            throw error("\"\(rate)\" is not a rate (like 10r/s or 30r/m)")
        }
        var limit = GatewayConfig.RateLimit(perSecond: perSecond, burst: 0, nodelay: false)
        for option in args.dropFirst() {
            if option == "nodelay" {
                limit.nodelay = true
            } else if option.hasPrefix("burst="), let burst = Int(option.dropFirst(6)), burst >= 0 {
                limit.burst = burst
            } else {
                throw error("unknown rate option \"\(option)\" (burst=N, nodelay)")
            }
        }
        return limit
    }
}
