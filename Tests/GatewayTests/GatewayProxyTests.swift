import EdgeContract
import Foundation
import Gateway
import Logging
import NIOCore
import ServiceKit
import Testing
import TestSupport

/// The gateway over real sockets, in front of real upstream servers.
@Suite struct GatewayProxyTests {
    /// A gateway on a free port with `routes`, stopped afterwards.
    static func withGateway(
        _ text: String, configPath: String? = nil, _ body: (GatewayServer, Int) async throws -> Void
    ) async throws {
        var config = try GatewayConfig.parse(text)
        config.listen = .init(host: "127.0.0.1", port: 0)
        config.accessLog = false
        let gateway = GatewayServer(config: config, configPath: configPath, logger: Logger(label: "gateway-test"))
        let listeners = try await gateway.start()
        do {
            try await body(gateway, listeners.plain.localAddress!.port!)
        } catch {
            try? await listeners.close()
            throw error
        }
        try await listeners.close()
    }

    static func json(_ response: RawHTTPResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]) ?? [:]
    }

    static func errorCode(_ response: RawHTTPResponse) -> String {
        ((json(response)["error"] as? [String: Any])?["code"] as? String) ?? "<\(response.body.prefix(80))>"
    }

    @Test func routesStripsPrefixesAndBalancesRoundRobin() async throws {
        let a = try await Upstream.start("a")
        let b = try await Upstream.start("b")
        let other = try await Upstream.start("other")
        try await Self.withGateway("""
            route /svc/ { upstream 127.0.0.1:\(a.port) 127.0.0.1:\(b.port); strip_prefix /svc; }
            route /svc/special { upstream 127.0.0.1:\(other.port); }
            """) { _, port in
            var instances: [String] = []
            for _ in 0..<4 {
                let response = try await rawHTTPGet(port: port, path: "/svc/users/1?x=2", headers: ["X-Request-Id": "req-42"])
                #expect(response.status == 200)
                let seen = Self.json(response)
                instances.append(seen["instance"] as? String ?? "")
                #expect(seen["uri"] as? String == "/users/1?x=2", "the prefix is stripped, the query kept")
                let headers = seen["headers"] as? [String: String] ?? [:]
                #expect(headers["x-request-id"] == "req-42" && headers["x-forwarded-for"] == "127.0.0.1")
                #expect(response.headers["x-request-id"] == "req-42")
                #expect(response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'")
                #expect(response.headers["x-frame-options"] == "SAMEORIGIN", "a service's own header is kept")
            }
            #expect(Set(instances) == ["a", "b"] && instances[0] != instances[1] && instances[1] != instances[2])
            let special = try await rawHTTPGet(port: port, path: "/svc/special/x")
            #expect(Self.json(special)["instance"] as? String == "other" && Self.json(special)["uri"] as? String == "/svc/special/x",
                    "the longest prefix wins; no strip_prefix keeps the path")
            // Hop-by-hop headers, and those Connection names, stop at the gateway.
            let hop = try await rawHTTPGet(port: port, path: "/svc/x", headers: ["Connection": "X-Custom", "X-Custom": "1", "Keep-Alive": "timeout=5", "X-Kept": "2"])
            let hopHeaders = Self.json(hop)["headers"] as? [String: String] ?? [:]
            #expect(hopHeaders["x-custom"] == nil && hopHeaders["keep-alive"] == nil && hopHeaders["x-kept"] == "2", "\(hopHeaders)")
            let generated = try await rawHTTPGet(port: port, path: "/svc/x", headers: ["X-Request-Id": "bad id with spaces"])
            #expect(generated.headers["x-request-id"]?.count == 32, "an unacceptable request id is replaced")
            let missing = try await rawHTTPGet(port: port, path: "/nowhere")
            #expect(missing.status == 404 && Self.errorCode(missing) == "no_route")
            let health = try await rawHTTPGet(port: port, path: "/health")
            #expect(health.status == 200 && Self.json(health)["status"] as? String == "ok")
            let metrics = try await rawHTTPGet(port: port, path: "/metrics")
            #expect(metrics.status == 200 && metrics.body.contains("gateway_requests_total{route=\"/svc/\",status=\"200\"}"))
        }
        for upstream in [a, b, other] { await upstream.stop() }
    }

    /// 405 with `Allow` wherever the gateway itself refuses a method (RFC 9110 §15.5.6);
    /// TRACE goes on to the service, which knows its path's methods.
    @Test func refusedMethodsSayWhatIsAllowed() async throws {
        let a = try await Upstream.start("a")
        try await Self.withGateway("route /svc/ { upstream 127.0.0.1:\(a.port); strip_prefix /svc; }") { _, port in
            let health = try await rawHTTP("POST", port: port, path: "/health")
            #expect(health.status == 405 && health.headers["allow"] == "GET" && Self.errorCode(health) == "method_not_allowed")
            let connect = try await rawExchange(port: port, Array("CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".utf8))
            #expect(connect.status == 405 && connect.headers["allow"]?.contains("GET") == true, "no tunnel is ever opened")
            let trace = try await rawHTTP("TRACE", port: port, path: "/svc/x")
            #expect(trace.status == 200 && Self.json(trace)["method"] as? String == "TRACE", "TRACE reaches the service")
        }
        await a.stop()
    }

    @Test func aDownInstanceIsSkippedAnd502WhenNoneIsLeft() async throws {
        let a = try await Upstream.start("a")
        // Port 1: nothing listens there, and unlike a freed ephemeral port no concurrent test can take it.
        let deadPort = 1
        try await Self.withGateway("""
            route /svc/ { upstream 127.0.0.1:\(deadPort) 127.0.0.1:\(a.port); strip_prefix /svc; fail_timeout 1h; }
            route /gone/ { upstream 127.0.0.1:\(deadPort); fail_timeout 1h; }
            route /slow/ { upstream 127.0.0.1:\(a.port); read_timeout 500ms; }
            """) { _, port in
            for _ in 0..<4 {
                let response = try await rawHTTP("POST", port: port, path: "/svc/x", body: "{}")
                #expect(response.status == 200 && Self.json(response)["instance"] as? String == "a", "\(response.status) \(response.body)")
            }
            let gone = try await rawHTTPGet(port: port, path: "/gone/x")
            #expect(gone.status == 502 && Self.errorCode(gone) == "bad_gateway")
            let slow = try await rawHTTPGet(port: port, path: "/slow/")
            #expect(slow.status == 504 && Self.errorCode(slow) == "gateway_timeout")
            let health = Self.json(try await rawHTTPGet(port: port, path: "/health"))
            #expect((health["upstreams"] as? [String: String])?["127.0.0.1:\(deadPort)"] == "down")
        }
        await a.stop()
    }

    @Test func ipHashKeepsEachClientOnOneInstanceWhileItIsUp() async throws {
        let a = try await Upstream.start("a")
        let b = try await Upstream.start("b")
        // Port 1 refuses connections: the clients it would have are served by another instance.
        // A long fail_timeout: on a loaded machine the 48 requests can outlast the default 10 s,
        // after which the dead instance is tried again and reported up until then.
        try await Self.withGateway("route /s/ { upstream 127.0.0.1:\(a.port) 127.0.0.1:1 127.0.0.1:\(b.port); balance ip_hash; fail_timeout 10m; rate off; }") { _, port in
            func instance(_ client: String) async throws -> String {
                Self.json(try await rawHTTPGet(port: port, path: "/s/x", headers: ["X-Forwarded-For": client]))["instance"] as? String ?? "?"
            }
            var homes: [String: String] = [:]
            for i in 1...12 {
                let client = "198.51.100.\(i)"
                let first = try await instance(client)
                for _ in 0..<3 { #expect(try await instance(client) == first, "\(client) stays on \(first)") }
                homes[client] = first
            }
            #expect(Set(homes.values) == ["a", "b"], "clients are spread over the live instances, none is refused: \(homes)")
            let health = Self.json(try await rawHTTPGet(port: port, path: "/health"))
            #expect((health["upstreams"] as? [String: String])?["127.0.0.1:1"] == "down", "some clients were homed on the dead instance")
        }
        await a.stop()
        await b.stop()
    }

    @Test func rateLimitsLikeLimitReqPerClientAddress() async throws {
        let a = try await Upstream.start("a")
        try await Self.withGateway("route / { upstream 127.0.0.1:\(a.port); rate 1r/s burst=20 nodelay; }") { _, port in
            func get(_ client: String) async throws -> RawHTTPResponse { try await rawHTTPGet(port: port, path: "/x", headers: ["X-Forwarded-For": client]) }
            // The burst and one more pass; then one a second. On a loaded machine the requests
            // take a while, so the bound counts the seconds they took.
            let started = ContinuousClock.now
            var served = 0
            var refused: RawHTTPResponse?
            while refused == nil, served < 100 {
                let response = try await get("203.0.113.1")
                if response.status == 200 { served += 1 } else { refused = response }
            }
            let seconds = Int((ContinuousClock.now - started).components.seconds) + 1
            #expect(served >= 21 && served <= 21 + seconds, "\(served) served in under \(seconds) s")
            #expect(refused?.status == 429 && refused.map(Self.errorCode) == "rate_limited" && refused?.headers["retry-after"] == "1")
            #expect(try await get("203.0.113.2").status == 200, "another client has its own limit")
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await get("203.0.113.1").status == 200, "the bucket refills at the rate")
            #expect(a.requests.load(ordering: .relaxed) == served + 2, "refused requests never reach the upstream")
        }
        await a.stop()
    }

    @Test func corsMatchesOriginsExactly() async throws {
        let a = try await Upstream.start("a")
        try await Self.withGateway("""
            cors { allow_origin https://yourdomain.com; allow_credentials on; }
            route / { upstream 127.0.0.1:\(a.port); }
            """) { _, port in
            let allowed = try await rawHTTPGet(port: port, path: "/x", headers: ["Origin": "https://yourdomain.com"])
            #expect(allowed.headers["access-control-allow-origin"] == "https://yourdomain.com" && allowed.headers["access-control-allow-credentials"] == "true")
            for lookalike in ["https://yourdomain.com.evil", "https://evil-yourdomain.com", "http://yourdomain.com", "null"] {
                let response = try await rawHTTPGet(port: port, path: "/x", headers: ["Origin": lookalike])
                #expect(response.headers["access-control-allow-origin"] == nil && response.headers["access-control-allow-credentials"] == nil, "\(lookalike)")
            }
            let preflight = try await rawHTTP("OPTIONS", port: port, path: "/x", headers: [
                "Origin": "https://yourdomain.com", "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization",
            ])
            #expect(preflight.status == 204 && preflight.headers["access-control-allow-methods"]?.contains("PATCH") == true)
            #expect(preflight.headers["access-control-allow-headers"]?.contains("Authorization") == true)
            let refused = try await rawHTTP("OPTIONS", port: port, path: "/x", headers: ["Origin": "https://yourdomain.com.evil", "Access-Control-Request-Method": "GET"])
            #expect(refused.status == 403 && refused.headers["access-control-allow-origin"] == nil)
        }
        #expect(a.requests.load(ordering: .relaxed) == 5, "preflights are answered at the gateway")
        await a.stop()
    }

    @Test func everyResponseVariesByOriginOnceCORSIsOnAndAllowedOriginsReadTheExposedHeaders() async throws {
        let a = try await Upstream.start("a")
        try await Self.withGateway("""
            cors { allow_origin https://yourdomain.com; }
            route /limited/ { upstream 127.0.0.1:\(a.port); rate 1r/m burst=1 nodelay; }
            route / { upstream 127.0.0.1:\(a.port); }
            """) { _, port in
            let allowed = try await rawHTTPGet(port: port, path: "/x", headers: ["Origin": "https://yourdomain.com"])
            #expect(allowed.headers["access-control-expose-headers"] == "X-Request-Id, Retry-After")
            #expect(allowed.values("vary").sorted() == ["Accept-Encoding", "Origin"], "the service's Vary stays beside the gateway's: \(allowed.fields)")
            for origin in ["https://evil.example", nil] {
                let other = try await rawHTTPGet(port: port, path: "/x", headers: origin.map { ["Origin": $0] } ?? [:])
                #expect(other.values("vary").sorted() == ["Accept-Encoding", "Origin"] && other.headers["access-control-expose-headers"] == nil,
                        "\(origin ?? "no origin"): \(other.fields)")
            }
            // The gateway's own answers too: a page can read a 429's Retry-After.
            for _ in 0..<2 { _ = try await rawHTTPGet(port: port, path: "/limited/a", headers: ["Origin": "https://yourdomain.com"]) }
            let limited = try await rawHTTPGet(port: port, path: "/limited/a", headers: ["Origin": "https://yourdomain.com"])
            #expect(limited.status == 429 && limited.headers["access-control-allow-origin"] == "https://yourdomain.com")
            #expect(limited.headers["retry-after"] != nil && limited.headers["access-control-expose-headers"]?.contains("Retry-After") == true)
            let refused = try await rawHTTP("POST", port: port, path: "/health")
            #expect(refused.status == 405 && refused.values("vary") == ["Origin"], "\(refused.fields)")
        }
        try await Self.withGateway("route / { upstream 127.0.0.1:\(a.port); }") { _, port in
            let plain = try await rawHTTPGet(port: port, path: "/x", headers: ["Origin": "https://yourdomain.com"])
            #expect(plain.values("vary") == ["Accept-Encoding"] && plain.headers["access-control-allow-origin"] == nil, "no CORS, nothing varies by Origin")
        }
        await a.stop()
    }

    @Test func metricsAndTheUpstreamsInHealthAreForAdminClientsOnly() async throws {
        let a = try await Upstream.start("a")
        // The test speaks from 127.0.0.1, a trusted proxy: X-Forwarded-For names the client.
        try await Self.withGateway("""
            admin_allow 10.0.0.0/8;
            route / { upstream 127.0.0.1:\(a.port); }
            """) { _, port in
            for client in [nil, "203.0.113.9", "10.0.0.1, 203.0.113.9"] {
                let headers = client.map { ["X-Forwarded-For": $0] } ?? [:]
                let metrics = try await rawHTTPGet(port: port, path: "/metrics", headers: headers)
                #expect(metrics.status == 404 && !metrics.body.contains("gateway_"), "\(client ?? "127.0.0.1"): \(metrics.status)")
                let health = try await rawHTTPGet(port: port, path: "/health", headers: headers)
                #expect(health.status == 200 && health.body == #"{"status":"ok"}"# && !health.body.contains("127.0.0.1"), "\(health.body)")
                let traced = try await rawHTTP("TRACE", port: port, path: "/metrics", headers: headers)
                #expect(traced.status == 405 && traced.headers["allow"] == "GET", "the gateway's path, shown or not")
            }
            let admin = ["X-Forwarded-For": "10.1.2.3"]
            let metrics = try await rawHTTPGet(port: port, path: "/metrics", headers: admin)
            #expect(metrics.status == 200 && metrics.body.contains("gateway_"))
            let health = try await rawHTTPGet(port: port, path: "/health", headers: admin)
            #expect(health.body.contains("\"127.0.0.1:\(a.port)\":\"up\""), "\(health.body)")
        }
        await a.stop()
    }

    @Test func servesTheOpenAPIDocumentItNames() async throws {
        let document = URL(fileURLWithPath: GatewayConfigTests.repositoryConfig).deletingLastPathComponent().appendingPathComponent("openapi.json").path
        try await Self.withGateway("openapi \(document);\nroute /svc/ { upstream 1; }") { _, port in
            let response = try await rawHTTPGet(port: port, path: "/openapi.json")
            #expect(response.status == 200 && response.headers["content-type"] == "application/json")
            #expect(Data(response.body.utf8) == (try Data(contentsOf: URL(fileURLWithPath: document))))
        }
        try await Self.withGateway("route /svc/ { upstream 1; }") { _, port in
            let response = try await rawHTTPGet(port: port, path: "/openapi.json")
            #expect(response.status == 404, "no document named, none served")
        }
    }

    @Test func malformedHTTPIsRefusedBeforeAnyUpstream() async throws {
        let a = try await Upstream.start("a")
        try await Self.withGateway("max_header_size 4k;\nroute / { upstream 127.0.0.1:\(a.port); max_body 1k; }") { _, port in
            let badLine = try await rawExchange(port: port, Array("GET /x HTTP/9.9 nonsense\r\n\r\n".utf8))
            #expect(badLine.status == 400)
            let smuggle = try await rawExchange(port: port, Array("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".utf8))
            #expect(smuggle.status == 400, "Content-Length with Transfer-Encoding is refused")
            let huge = try await rawHTTPGet(port: port, path: "/x", headers: ["X-Big": String(repeating: "a", count: 8 * 1024)])
            #expect(huge.status == 431)
            let tooLarge = try await rawHTTP("POST", port: port, path: "/x", body: String(repeating: "b", count: 2048))
            #expect(tooLarge.status == 413 && Self.errorCode(tooLarge) == "payload_too_large")
            let chunkedTooLarge = try await rawExchange(port: port, Array(("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + String(repeating: "c", count: 2048) + "\r\n0\r\n\r\n").utf8))
            #expect(chunkedTooLarge.status == 413)
        }
        #expect(a.requests.load(ordering: .relaxed) == 0)
        await a.stop()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let a = try await Upstream.start("a")
        try await Self.withGateway("route /svc/ { upstream 127.0.0.1:\(a.port); strip_prefix /svc; }") { _, port in
            // Three requests in one write, the second with a body: each waits for the one before.
            let bytes = "GET /svc/first HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /svc/second HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /svc/third HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
            let response = try await rawExchange(port: port, Array(bytes.utf8))
            #expect(response.status == 200)
            let text = response.body
            let order = ["first", "second", "third"].compactMap { text.range(of: "\($0)\"")?.lowerBound }  // each path's only mention: its uri
            #expect(order.count == 3 && order == order.sorted(), "\(text)")
            #expect(text.components(separatedBy: "HTTP/1.1 200").count == 3, "two more responses follow the first")
            #expect(text.contains("\"bodyBytes\":5"))
        }
        #expect(a.requests.load(ordering: .relaxed) == 3)
        await a.stop()
    }

    @Test func responsesPassThroughWithTheirFramingAndWithoutHopByHopHeaders() async throws {
        let chunkedBody = "5;note=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        let upstream = try await ScriptedUpstream { method, path in
            switch path {
            case "/chunked":
                .init(bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\n"
                    + "Keep-Alive: timeout=5\r\nX-Request-Id: made-upstream\r\nX-Frame-Options: SAMEORIGIN\r\n\r\n" + chunkedBody)
            case "/fixed":
                .init(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n" + (method == "HEAD" ? "" : "fixed bytes"))
            case "/until-close":
                .init(bytes: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nruns until close", closeAfter: true)
            case "/continue":
                .init(bytes: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
            default:
                .init(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            }
        }
        try await Self.withGateway("route / { upstream 127.0.0.1:\(upstream.port); }") { _, port in
            let chunked = try await rawHTTPGet(port: port, path: "/chunked", headers: ["X-Request-Id": "from-client"])
            #expect(chunked.status == 200 && chunked.body == chunkedBody, "the body keeps its chunk framing: \(chunked.body.debugDescription)")
            #expect(chunked.headers["transfer-encoding"] == "chunked" && chunked.headers["x-hop"] == nil && chunked.headers["keep-alive"] == nil)
            #expect(chunked.headers["x-request-id"] == "from-client" && chunked.headers["x-frame-options"] == "SAMEORIGIN")
            #expect(chunked.headers["content-security-policy"] != nil && chunked.headers["connection"] == "close")

            // One connection, requests one after another: each response must end where it ends.
            let sequence = try await rawExchange(port: port, Array(("GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n" + "HEAD /fixed HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /continue HTTP/1.1\r\nHost: a\r\n\r\n" + "GET /fixed HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").utf8))
            let text = sequence.body
            #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 3 && text.contains("HTTP/1.1 100 Continue")
                && text.contains("HTTP/1.1 201 Created") && text.hasSuffix("fixed bytes"), "\(text.debugDescription)")
            #expect(text.components(separatedBy: "fixed bytes").count == 2, "the answer to HEAD has no body")

            let untilClose = try await rawHTTPGet(port: port, path: "/until-close")
            #expect(untilClose.status == 200 && untilClose.body == "runs until close" && untilClose.headers["connection"] == "close")

            let broken = try await rawHTTPGet(port: port, path: "/broken")
            #expect(broken.status == 502 && Self.errorCode(broken) == "bad_gateway")
        }
        await upstream.stop()
    }

    @Test func largeBodiesStreamBothWays() async throws {
        let a = try await Upstream.start("a")
        try await Self.withGateway("route / { upstream 127.0.0.1:\(a.port); max_body 6m; }") { _, port in
            let fiveMB = String(repeating: "x", count: 5 * 1024 * 1024)
            let response = try await rawHTTP("POST", port: port, path: "/upload", headers: ["Content-Type": "application/octet-stream"], body: fiveMB)
            #expect(response.status == 200 && Self.json(response)["bodyBytes"] as? Int == 5 * 1024 * 1024)
        }
        await a.stop()
    }

    @Test func aBadReloadKeepsTheRunningConfiguration() async throws {
        let a = try await Upstream.start("a")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID()).conf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = "route /one/ { upstream 127.0.0.1:\(a.port); }"
        try first.write(toFile: path, atomically: true, encoding: .utf8)
        try await Self.withGateway(first, configPath: path) { gateway, port in
            #expect(try await rawHTTPGet(port: port, path: "/one/x").status == 200)
            try "route /two/ { upstream 127.0.0.1:\(a.port); }\nroute /bad/ { }".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(gateway.reload() == false)
            #expect(try await rawHTTPGet(port: port, path: "/one/x").status == 200, "the old configuration stays")
            try "route /two/ { upstream 127.0.0.1:\(a.port); }".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(gateway.reload())
            #expect(try await rawHTTPGet(port: port, path: "/two/x").status == 200)
            #expect(try await rawHTTPGet(port: port, path: "/one/x").status == 404)
        }
        await a.stop()
    }
}
