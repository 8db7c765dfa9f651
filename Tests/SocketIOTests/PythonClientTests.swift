import Foundation
import Gateway
import Hummingbird
import HummingbirdTesting
import Logging
import SocketIO
import Testing
import TestSupport

/// python-socketio, an independent client, against the conformance server over real sockets.
@Suite struct PythonClientTests {
    @Test(arguments: ["polling", "websocket", "polling,websocket"])
    func pythonSocketIOConnectsAndTalks(transports: String) async throws {
        let app = Conformance.application(port: 0, engine: PollingProtocolTests.roomy, connectTimeout: .seconds(20), logger: Logger(label: "socketio-test"))
        try await app.test(.live) { client in
            try await Self.runClient(url: "http://127.0.0.1:\(client.port!)", transports: transports, path: "socket.io")
        }
    }

    /// The same session through the gateway, configured as gateway.conf routes chat's
    /// Socket.IO: `/chat/socket.io/` with the prefix stripped and WebSocket upgrades on.
    @Test(arguments: ["polling", "websocket", "polling,websocket"])
    func pythonSocketIOTalksThroughTheGateway(transports: String) async throws {
        try await Self.throughGateway(transports: transports, certificates: nil)
    }

    /// And through the gateway's TLS listener: HTTPS long-polling and WebSocket over TLS (wss).
    @Test(arguments: ["polling", "websocket", "polling,websocket"])
    func pythonSocketIOTalksThroughTheGatewayOverTLS(transports: String) async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await Self.throughGateway(transports: transports, certificates: certificates)
    }

    static func throughGateway(transports: String, certificates: TestCertificates?) async throws {
        let app = Conformance.application(port: 0, engine: PollingProtocolTests.roomy, connectTimeout: .seconds(20), logger: Logger(label: "socketio-test"))
        try await app.test(.live) { client in
            let tls = certificates.map { "listen 127.0.0.1:1 ssl;\nssl_certificate \($0.certificate("localhost")) \($0.key("localhost"));\n" } ?? ""
            var config = try GatewayConfig.parse(tls + """
                route /chat/socket.io/ { upstream 127.0.0.1:\(client.port!); strip_prefix /chat; websocket on; read_timeout 1h; rate off; }
                """)
            config.listen = .init(host: "127.0.0.1", port: 0)
            config.tls?.listen.port = 0
            config.accessLog = false
            let gateway = GatewayServer(config: config, configPath: nil, logger: Logger(label: "gateway-test"))
            let listeners = try await gateway.start()
            do {
                let plainPort = listeners.plain.localAddress!.port!
                // Plain requests first, so the gateway holds used keep-alive connections to the
                // server: an upgrade must not go over one of them (the server would answer 307).
                for _ in 0..<6 {
                    let handshake = try await rawHTTPGet(port: plainPort, path: "/chat/socket.io/?EIO=4&transport=polling")
                    #expect(handshake.status == 200)
                }
                if let certificates, let tlsPort = listeners.tls?.localAddress?.port {
                    try await Self.runClient(url: "https://localhost:\(tlsPort)", transports: transports, path: "chat/socket.io", authority: certificates.authority)
                } else {
                    try await Self.runClient(url: "http://127.0.0.1:\(plainPort)", transports: transports, path: "chat/socket.io")
                }
            } catch {
                try? await listeners.close()
                throw error
            }
            try await listeners.close()
        }
    }

    static func runClient(url: String, transports: String, path: String, authority: String? = nil) async throws {
        let run = try await PythonRun("Tests/SocketIOTests/Clients/python_socketio_client.py", [url, transports, path] + (authority.map { [$0] } ?? []))
        try #require(run.status == 0, "\(run.output)")
        let seen = try JSONValue.parse(run.lastLine)
        #expect(seen["auth"] == ["token": "abc"], "the handshake's auth payload reaches the server")
        #expect(seen["customAuth"] == ["token": "abc"], "and the /custom namespace")
        #expect(seen["back"] == [1, "2", ["3": [true]], [1, 2, 3]], "text and a binary attachment come back")
        #expect(seen["ack"] == ["x", ["y": nil]])
        #expect(seen["transport"] == .string(transports.hasSuffix("websocket") ? "websocket" : "polling"))
    }
}
