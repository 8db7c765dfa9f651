import Foundation
import Gateway
import Testing
import TestSupport

/// `static PREFIX { root …; csp …; }`: the gateway serves a directory's files itself.
@Suite struct StaticSiteTests {
    static func site() throws -> (directory: URL, config: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("static-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("js"), withIntermediateDirectories: true)
        try "<!doctype html><title>app</title>".write(to: directory.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        try "console.log(1)".write(to: directory.appendingPathComponent("js/app.js"), atomically: true, encoding: .utf8)
        try "secret".write(to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let config = """
            static /app/ { root \(directory.path); csp "default-src 'self'"; }
            route / { upstream 127.0.0.1:1; }
            """
        return (directory, config)
    }

    @Test func filesAreServedWithTheirTypeAndTheSitesCSP() async throws {
        let (directory, config) = try Self.site()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await GatewayProxyTests.withGateway(config) { _, port in
            let index = try await rawHTTPGet(port: port, path: "/app/")
            #expect(index.status == 200 && index.body == "<!doctype html><title>app</title>")
            #expect(index.headers["content-type"] == "text/html; charset=utf-8")
            #expect(index.headers["content-security-policy"] == "default-src 'self'", "the site's CSP replaces the API's")
            #expect(index.headers["x-content-type-options"] == "nosniff", "the other security headers stay")
            let script = try await rawHTTPGet(port: port, path: "/app/js/app.js?v=2")
            #expect(script.status == 200 && script.headers["content-type"] == "text/javascript; charset=utf-8" && script.body == "console.log(1)")
            let head = try await rawHTTP("HEAD", port: port, path: "/app/js/app.js")
            #expect(head.status == 200 && head.headers["content-length"] == "14" && head.body.isEmpty)
            for path in ["/app/.env", "/app/../Package.swift", "/app/js/../../etc/passwd", "/app/%2e%2e/x", "/app/missing.js"] {
                let response = try await rawHTTPGet(port: port, path: path)
                #expect(response.status == 404, "\(path): \(response.status)")
            }
            let post = try await rawHTTP("POST", port: port, path: "/app/index.html", body: "x")
            #expect(post.status == 405 && post.headers["allow"] == "GET, HEAD")
        }
    }

    @Test func aMissingRootIsAConfigurationError() throws {
        #expect(throws: GatewayConfigError.self) { try GatewayConfig.parse("static /app/ { root /nonexistent-\(UUID().uuidString); }\nroute / { upstream 127.0.0.1:1; }") }
        #expect(throws: GatewayConfigError.self) { try GatewayConfig.parse("static /app { root /tmp; }\nroute / { upstream 127.0.0.1:1; }") }
    }
}
