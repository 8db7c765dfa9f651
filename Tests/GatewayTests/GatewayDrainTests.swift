import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport
@testable import Gateway

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM at the gateway (a graceful shutdown of its service group) with a connection in
/// every state: it stops accepting, closes idle ones, answers the request in progress with
/// `Connection: close`, sends WebSocket tunnels a close 1001 between two frames, and is done
/// long before its grace.
@Suite struct GatewayDrainTests {
    @Test func frameEndsAreFoundAcrossReadsWhateverTheLengthForm() {
        var frames = WebSocketFrames()
        #expect(frames.atBoundary)
        // A text frame "hi", then a binary frame of 300 bytes (16-bit length), fed in pieces.
        let text: [UInt8] = [0x81, 0x02, 0x68, 0x69]
        let big: [UInt8] = [0x82, 126, 0x01, 0x2C] + [UInt8](repeating: 7, count: 300)
        #expect(frames.read(text[0..<1]) == [] && !frames.atBoundary)
        #expect(frames.read(text[1...]) == [3], "the frame ends 3 bytes into the second piece")
        #expect(frames.atBoundary)
        #expect(frames.read(big[0..<3]) == [] && frames.read(big[3..<200]) == [] && !frames.atBoundary)
        #expect(frames.read(big[200...] + text) == [104, 108], "two frames end in one piece")
        // A masked empty ping (the client's direction), and a 64-bit length.
        #expect(frames.read([0x89, 0x80, 1, 2, 3, 4]) == [6])
        var huge = WebSocketFrames()
        #expect(huge.read([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]) == [] && !huge.atBoundary, "65,536 bytes still to come")
        #expect(huge.read([UInt8](repeating: 0, count: 65_536)) == [65_536])
    }

    @Test func aDrainClosesIdleConnectionsFinishesRequestsAndClosesTunnelsWith1001() async throws {
        // Event loops of its own for the upstream and the gateway: the shared ones carry other
        // suites' work, which would time them instead.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { loops.shutdownGracefully { _ in } }
        let echo = try await Upstream.start("echo", group: loops)
        var config = try GatewayConfig.parse("""
            route /svc/ { upstream 127.0.0.1:\(echo.port); strip_prefix /svc; rate off; }
            route /ws/ { upstream 127.0.0.1:\(echo.port); strip_prefix /ws; websocket on; read_timeout 1h; rate off; }
            """)
        let port = try freeLoopbackPort()
        config.listen = .init(host: "127.0.0.1", port: port)
        config.accessLog = false
        let gateway = GatewayServer(config: config, configPath: nil, logger: Logger(label: "gateway-drain"),
                                    group: loops, shutdownGrace: .seconds(60))
        let group = ServiceGroup(configuration: .init(services: [gateway], logger: Logger(label: "gateway-drain")))
        let running = Task { try await group.run() }
        #expect(await eventually(timeout: .seconds(10)) { (try? await rawHTTPGet(port: port, path: "/health").status) == 200 })

        // An idle keep-alive connection (one request answered), a request in flight, a tunnel.
        let idle = try connectLoopback(port: port, receiveTimeoutSeconds: 30)
        defer { close(idle) }
        _ = "GET /svc/x HTTP/1.1\r\nHost: a\r\n\r\n".withCString { send(idle, $0, strlen($0), 0) }
        let answered = try await onOwnThread { () -> Int in
            var buffer = [UInt8](repeating: 0, count: 65536)
            return recv(idle, &buffer, buffer.count, 0)
        }
        #expect(answered > 0)
        let slow = try connectLoopback(port: port, receiveTimeoutSeconds: 30)
        defer { close(slow) }
        _ = "GET /svc/slow HTTP/1.1\r\nHost: a\r\n\r\n".withCString { send(slow, $0, strlen($0), 0) }
        let socket = try await RawWebSocket.connect(port: port, path: "/ws/socket")
        defer { socket.close() }
        try socket.sendText("hello")
        #expect(try await socket.nextText() == "echo: hello")
        try await Task.sleep(for: .milliseconds(300))  // the slow request reached the upstream

        // The readers are on threads of their own from now on, so what they see (and when)
        // is the gateway's doing, not a busy cooperative pool's.
        let idleClosed = ThreadWork { () -> (Int, ContinuousClock.Instant) in
            var byte: UInt8 = 0
            return (recv(idle, &byte, 1, 0), .now)
        }
        let tunnelClosed = ThreadWork { try socket.receiveClose() }
        let slowAnswer = ThreadWork { () -> (String, ContinuousClock.Instant) in
            var data = [UInt8]()
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = recv(slow, &chunk, chunk.count, 0)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                data += chunk[..<n]
            }
            return (String(decoding: data, as: UTF8.self), .now)
        }
        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        let (idleEnd, idleAt) = try await idleClosed.value
        #expect(idleEnd == 0 && idleAt - started < .seconds(10), "the idle connection is closed at once: \(idleAt - started)")
        let (close, status) = try await tunnelClosed.value
        #expect(close && status == 1001, "the tunnel gets a close frame, 1001 going away")
        let (answer, answeredAt) = try await slowAnswer.value
        #expect(answer.hasPrefix("HTTP/1.1 200") && answer.lowercased().contains("connection: close"),
                "the request in flight is answered, and told the connection closes: \(answer.prefix(200))")
        #expect(answeredAt - started < .seconds(15), "when its upstream answers, not at the grace: \(answeredAt - started)")
        await #expect(throws: (any Error).self, "nothing is accepted any more") { try await rawHTTPGet(port: port, path: "/health") }
        // With every connection gone the gateway stops; waiting for the grace would take 60 s.
        try await running.value
        #expect(ContinuousClock.now - started < .seconds(45), "done long before the 60 s grace")
        await echo.stop()
    }

    /// With a TLS listener too: both stop accepting, the connections of both are drained, and
    /// the gateway stops. (One drain helper served only the first listener: the TLS one kept
    /// listening, and the gateway never stopped until it was killed.)
    @Test func aDrainEndsTheTLSListenerAndItsConnectionsToo() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { loops.shutdownGracefully { _ in } }
        let echo = try await Upstream.start("echo", group: loops)
        let (port, tlsPort) = (try freeLoopbackPort(), try freeLoopbackPort())
        var config = try GatewayConfig.parse("""
            listen 127.0.0.1:\(port);
            listen 127.0.0.1:\(tlsPort) ssl;
            ssl_certificate \(certificates.certificate("localhost")) \(certificates.key("localhost"));
            route /svc/ { upstream 127.0.0.1:\(echo.port); strip_prefix /svc; rate off; }
            """)
        config.accessLog = false
        let gateway = GatewayServer(config: config, configPath: nil, logger: Logger(label: "gateway-drain"),
                                    group: loops, shutdownGrace: .seconds(60))
        let group = ServiceGroup(configuration: .init(services: [gateway], logger: Logger(label: "gateway-drain")))
        let stopped = Atomic<Bool>(false)
        let running = Task {
            try await group.run()
            stopped.store(true, ordering: .releasing)
        }
        #expect(await eventually(timeout: .seconds(10)) { (try? await rawHTTPGet(port: port, path: "/health").status) == 200 })
        // A connection to each listener that has sent nothing yet.
        let (idle, idleTLS) = (try connectLoopback(port: port, receiveTimeoutSeconds: 30), try connectLoopback(port: tlsPort, receiveTimeoutSeconds: 30))
        defer { close(idle); close(idleTLS) }
        let ended = [idle, idleTLS].map { fd in
            ThreadWork { () -> ContinuousClock.Instant in
                var byte: UInt8 = 0
                _ = recv(fd, &byte, 1, 0)
                return .now
            }
        }
        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        for (name, end) in zip(["plain", "TLS"], ended) {
            let at = try await end.value
            #expect(at - started < .seconds(10), "the idle \(name) connection is closed at once: \(at - started)")
        }
        // Bounded: a gateway that never stops must fail this test, not hang the run.
        #expect(await eventually(timeout: .seconds(30)) { stopped.load(ordering: .acquiring) }, "the gateway stops long before its 60 s grace")
        for listener in [port, tlsPort] {
            #expect(throws: (any Error).self, "nothing is accepted on \(listener) any more") { close(try connectLoopback(port: listener, receiveTimeoutSeconds: 1)) }
        }
        if stopped.load(ordering: .acquiring) { try await running.value } else { running.cancel() }
        await echo.stop()
    }
}
