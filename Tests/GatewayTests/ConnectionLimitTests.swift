import Foundation
import Gateway
import Testing
import TestSupport

/// `limit_conn` and `limit_websockets` through the gateway, over real sockets.
@Suite struct ConnectionLimitTests {
    @Test func aClientsRequestsInProgressAreLimitedAndTheirPlacesComeBack() async throws {
        let a = try await Upstream.start("a")
        try await GatewayProxyTests.withGateway("""
            limit_conn 2;
            route / { upstream 127.0.0.1:\(a.port); rate off; }
            """) { _, port in
            let client = ["X-Forwarded-For": "203.0.113.7"]
            // Two requests the upstream answers after 3 s hold the client's two places.
            async let first = rawHTTPGet(port: port, path: "/slow/1", headers: client)
            async let second = rawHTTPGet(port: port, path: "/slow/2", headers: client)
            // Both are at the upstream (it answers 3 s after each arrives): both in progress.
            for _ in 0..<500 where a.requests.load(ordering: .relaxed) < 2 { try await Task.sleep(for: .milliseconds(10)) }
            try #require(a.requests.load(ordering: .relaxed) == 2)
            let answer = try await rawHTTPGet(port: port, path: "/x", headers: client)
            #expect(answer.status == 429, "a third request while two are in progress is refused")
            #expect(GatewayProxyTests.errorCode(answer) == "too_many_connections" && answer.headers["retry-after"] == "1", "\(answer.body)")
            #expect(try await rawHTTPGet(port: port, path: "/x", headers: ["X-Forwarded-For": "203.0.113.8"]).status == 200, "another client is not limited")
            let (one, two) = try await (first, second)
            #expect(one.status == 200 && two.status == 200, "\(one.status) \(two.status)")
            // Both places are free again (and a refused request took none).
            async let third = rawHTTPGet(port: port, path: "/slow/3", headers: client)
            #expect(try await rawHTTPGet(port: port, path: "/x", headers: client).status == 200)
            let last = try await third
            #expect(last.status == 200)
        }
        await a.stop()
    }

    @Test func aClientsWebSocketTunnelsAreLimitedUntilOneCloses() async throws {
        let echo = try await Upstream.start("echo")
        try await GatewayProxyTests.withGateway("""
            limit_websockets 1;
            route /chat/socket { upstream 127.0.0.1:\(echo.port); strip_prefix /chat; websocket on; }
            route / { upstream 127.0.0.1:\(echo.port); }
            """) { _, port in
            let open = try await RawWebSocket.connect(port: port, path: "/chat/socket")
            #expect(open.handshake.hasPrefix("HTTP/1.1 101"))
            let second = try await RawWebSocket.connect(port: port, path: "/chat/socket")
            #expect(second.handshake.hasPrefix("HTTP/1.1 429") && second.handshake.lowercased().contains("retry-after: 1"), "\(second.handshake)")
            second.close()
            #expect(try await rawHTTPGet(port: port, path: "/x").status == 200, "plain requests are not WebSockets")
            try open.sendText("still here")
            #expect(try await open.nextText() == "echo: still here")
            open.close()
            // Its place comes back once the gateway has seen the tunnel's connection close.
            var upgraded = false
            var answers: [String: Int] = [:]
            let deadline = ContinuousClock.now + .seconds(10)
            while !upgraded, ContinuousClock.now < deadline {
                let next = try await RawWebSocket.connect(port: port, path: "/chat/socket")
                upgraded = next.handshake.hasPrefix("HTTP/1.1 101")
                answers[String(next.handshake.split(separator: "\r\n", maxSplits: 1).first ?? ""), default: 0] += 1
                next.close()
                if !upgraded { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(upgraded, "answers meanwhile: \(answers)")
        }
        await echo.stop()
    }
}
