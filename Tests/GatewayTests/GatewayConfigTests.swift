import Foundation
import Gateway
import ServiceKit
import Testing

@Suite struct GatewayConfigTests {
    /// The file at the repository root, which `scripts/up` uses.
    static var repositoryConfig: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("gateway.conf").path
    }

    @Test func theRepositoryFileIsValidAndSaysWhatDESIGNSays() throws {
        let config = try GatewayConfig.load(path: Self.repositoryConfig)
        #expect(config.listen.description == "127.0.0.1:3000")
        let auth = try #require(config.route(for: "/auth/me"))
        #expect(auth.prefix == "/auth/" && auth.stripPrefix == "/auth" && auth.upstreams.map(\.port) == [5000])
        #expect(auth.rateLimit == GatewayConfig.RateLimit(perSecond: 10, burst: 20, nodelay: true))
        #expect(config.route(for: "/auth/login")?.rateLimit?.perSecond == 1, "stricter on login")
        let socket = try #require(config.route(for: "/chat/socket.io/?EIO=4&transport=websocket"))
        #expect(socket.websocket && socket.readTimeoutSeconds == 3600 && socket.stripPrefix == "/chat")
        #expect(config.route(for: "/chat/my-chats")?.websocket == false)
        #expect(config.route(for: "/nowhere") == nil)
        #expect(config.securityHeaders.map(\.name).contains("Content-Security-Policy"))
        #expect(config.securityHeaders.first { $0.name == "Content-Security-Policy" }?.value == "default-src 'none'; frame-ancestors 'none'")
        #expect(config.cors.allowedOrigins == ["http://localhost:5173"] && config.cors.allowCredentials && config.cors.maxAgeSeconds == 600)
        #expect(config.route(for: "/profile/patchProfile")?.maxBodyBytes == 8 * 1024 * 1024)
        let sessions = try #require(config.sessionRefresh, "browser sessions are refreshed on the way")
        #expect(sessions.endpoint == "/auth/refresh" && sessions.accessCookie == "token" && sessions.refreshCookie == "refresh_token")
        #expect(sessions.refreshCookieTo == ["/auth/"] && Set(sessions.skip) == ["/auth/login", "/auth/signup", "/auth/register", "/auth/logout"])
        let document = try #require(config.openAPIDocument, "gateway.conf names the repository's OpenAPI document")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(document)) as? [String: Any])
        #expect(object["openapi"] as? String == "3.1.0")
    }

    @Test func theOpenAPIFileMustBeAnOpenAPIDocument() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"{"openapi": "3.1.0", "paths": {}}"#.utf8).write(to: dir.appendingPathComponent("api.json"))
        try Data(#"{"swagger": "2.0"}"#.utf8).write(to: dir.appendingPathComponent("old.json"))
        let file = dir.appendingPathComponent("gw.conf").path
        let good = try GatewayConfig.parse("openapi api.json;\nroute / { upstream 1; }", file: file)
        #expect(good.openAPIDocument == Array(#"{"openapi": "3.1.0", "paths": {}}"#.utf8), "relative to the configuration file")
        #expect(throws: GatewayConfigError(file: file, line: 2, reason: "openapi missing.json cannot be read")) {
            _ = try GatewayConfig.parse("route / { upstream 1; }\nopenapi missing.json;", file: file)
        }
        #expect(throws: GatewayConfigError(file: file, line: 1, reason: "openapi old.json is not an OpenAPI 3 JSON document")) {
            _ = try GatewayConfig.parse("openapi old.json;\nroute / { upstream 1; }", file: file)
        }
    }

    @Test func everyValueHasItsUnits() throws {
        let config = try GatewayConfig.parse("""
            listen [::1]:8080;
            trusted_proxies 10.0.0.0/8 ::1;
            header_timeout 500ms;
            max_header_size 32k;
            security_headers off;
            defaults { rate 30r/m burst=2; read_timeout 2m; }
            route / { upstream a.internal:80 b.internal:81; websocket on; retries 0; rate off; }
            route /x/ { upstream 9000; strip_prefix /x; }   # a bare port is on 127.0.0.1
            """)
        #expect(config.listen.description == "[::1]:8080" && config.headerTimeoutSeconds == 0.5 && config.maxHeaderBytes == 32 * 1024)
        #expect(config.trustedProxies.count == 2 && config.securityHeaders.isEmpty)
        let root = try #require(config.route(for: "/y"))
        #expect(root.upstreams.map(\.description) == ["a.internal:80", "b.internal:81"] && root.rateLimit == nil && root.retries == 0)
        let x = try #require(config.route(for: "/x/1"))
        #expect(x.upstreams.map(\.description) == ["127.0.0.1:9000"] && x.readTimeoutSeconds == 120)
        #expect(x.rateLimit == GatewayConfig.RateLimit(perSecond: 0.5, burst: 2, nodelay: false), "defaults reach every route")
    }

    @Test func aBadFileNamesTheLineAndTheReason() {
        let cases: [(String, Int, String)] = [
            ("listen 127.0.0.1:3000\nroute / { upstream 1; }", 1, "\"listen\" is not finished: add ; at the end of the line"),
            ("route / { upstream 1; }\n{ }", 2, "unexpected { (a block needs a name)"),
            ("route / {\n  upstream 127.0.0.1:5000;\n  stirp_prefix /a;\n}", 3, "unknown directive \"stirp_prefix\" in a route"),
            ("route /a/ { upstream 1; }\nroute /a/ { upstream 2; }", 2, "route /a/ is defined twice"),
            ("route /a/ {\n strip_prefix /b;\n upstream 1; }", 1, "strip_prefix /b is not a prefix of /a/"),
            ("route /a/ { }", 1, "route /a/ has no upstream"),
            ("route a { upstream 1; }", 1, "a route prefix starts with /: \"a\""),
            ("route / { upstream 1; }\ncors {\n allow_origin https://*.example.com; }", 3,
             "\"https://*.example.com\" is not an origin (scheme://host[:port], no path, no wildcard)"),
            ("route / { upstream 1; }\ncors { allow_origin https://example.com/app; }", 2,
             "\"https://example.com/app\" is not an origin (scheme://host[:port], no path, no wildcard)"),
            ("route / { upstream 1; rate 10 r/s; }", 1, "\"10\" is not a rate (like 10r/s or 30r/m)"),
            ("route / { upstream 1;\n max_body 5x; }", 2, "\"5x\" is not a size (like 512, 16k, 5m) in range"),
            ("route / { upstream 99999; }", 1, "\"99999\" is not an address (host:port)"),
            ("route / { upstream 1; websocket yes; }", 1, "\"websocket\" takes on or off, not \"yes\""),
            ("header_timeout soon;\nroute / { upstream 1; }", 1, "\"soon\" is not a duration (like 500ms, 10s, 5m, 1h)"),
            ("route / { upstream 1;\n", 1, "a { block is not closed"),
            ("route / { upstream 1; }\n}", 2, "unexpected }"),
            ("security_headers {\n X-Frame-Options \"DENY;\n}", 2, "a quoted string is not closed"),
            ("# nothing but a comment\n", 0, "no route is defined"),
            ("trusted_proxies 10.0.0.0/99;\nroute / { upstream 1; }", 1, "\"10.0.0.0/99\" is not an IP address or CIDR range"),
            ("route /chat/ { upstream 1; }\nsession_refresh {\n endpoint /auth/refresh;\n}", 2, "session_refresh endpoint /auth/refresh matches no route"),
            ("route / { upstream 1; }\nsession_refresh {\n refresh_cookie a;b; }", 3, "unknown directive \"b\" in session_refresh"),
            ("route / { upstream 1; }\nsession_refresh { skip auth/login; }", 2, "\"auth/login\" is not a path (it starts with /)"),
            ("admin_allow everyone;\nroute / { upstream 1; }", 1, "\"everyone\" is not an IP address or CIDR range"),
            ("route / { upstream 1; }\nlisten 127.0.0.1:3443 ssl;", 2, "listen 127.0.0.1:3443 ssl needs an ssl_certificate"),
            ("route / { upstream 1; }\nredirect_to_https on;", 2, "redirect_to_https needs a listen ... ssl"),
            ("route / { upstream 1; }\nssl_certificate /nonexistent/a.pem /nonexistent/a.key;", 2, "ssl_certificate: /nonexistent/a.pem cannot be read"),
            ("route / { upstream 1; }\nssl_certificate /etc/hostname /etc/hostname;\nlisten 127.0.0.1:3443 ssl;", 2, "ssl_certificate /etc/hostname /etc/hostname: the certificate file holds no PEM certificate"),
        ]
        for (text, line, reason) in cases {
            #expect(throws: GatewayConfigError(file: "test.conf", line: line, reason: reason), "\(text)") {
                _ = try GatewayConfig.parse(text, file: "test.conf")
            }
        }
        #expect(throws: GatewayConfigError.self) { _ = try GatewayConfig.load(path: "/nonexistent/gateway.conf") }
        // A key that is not PEM, beside a good certificate; a name that is no server name.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-config-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("c.pem").path
        _ = FileManager.default.createFile(atPath: certificate, contents: Data(Self.selfSignedCertificate.utf8))
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("k.pem").path, contents: Data("not a key".utf8))
        for (text, reason) in [
            ("ssl_certificate c.pem k.pem;", "ssl_certificate c.pem k.pem: the key file holds no PEM private key"),
            ("ssl_certificate c.pem k.pem bad_name!;", "ssl_certificate: \"bad_name!\" is not a server name (a.example.com or *.example.com)"),
        ] {
            #expect(throws: GatewayConfigError(file: directory.appendingPathComponent("gw.conf").path, line: 1, reason: reason)) {
                _ = try GatewayConfig.parse(text + "\nlisten 127.0.0.1:3443 ssl;\nroute / { upstream 1; }", file: directory.appendingPathComponent("gw.conf").path)
            }
        }
        let error = GatewayConfigError(file: "gateway.conf", line: 12, reason: "route /a/ has no upstream")
        #expect(error.description == "gateway.conf:12: route /a/ has no upstream")
    }

    /// A self-signed certificate (no key: only its parsing matters here).
    static let selfSignedCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBgTCCASegAwIBAgIUXWuXOsNnBS9YATYAspHwjeil7FgwCgYIKoZIzj0EAwIw
        FjEUMBIGA1UEAwwLY29uZmlnLXRlc3QwHhcNMjYxMjAyMTU1NjUxWhcNMzYxMTI5
        MTU1NjUxWjAWMRQwEgYDVQQDDAtjb25maWctdGVzdDBZMBMGByqGSM49AgEGCCqG
        SM49AwEHA0IABFbmqbqCsjoGr3jlXJ3KUqTLHODe6Ydg01oJaU4k/n85E4Yr/n+v
        BqFsYHw20XXgpM3Ox/Drv1Mm4oQpp3Ue/omjUzBRMB0GA1UdDgQWBBRYJUBZLr5u
        jO3EH0ZhUMIuoFjGMDAfBgNVHSMEGDAWgBRYJUBZLr5ujO3EH0ZhUMIuoFjGMDAP
        BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIH/hQi0vfHYXxbrUPYIf
        8JMhAOcrUwxFMm6s6248v0x2AiEAzPL0Rn0wEj9MqPPQTMRjDPouXf9826x0Uetv
        PrKVvjQ=
        -----END CERTIFICATE-----
        """
}
