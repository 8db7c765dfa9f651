import Foundation
import HummingbirdWSClient
import Logging
import ServiceLifecycle
import SocketIO
import Synchronization
import Testing
import TestSupport

/// A graceful shutdown (what SIGTERM starts) of a server with Socket.IO mounted, with a
/// connection of every kind open: none may hold it past the grace, and the clients are told.
@Suite struct ShutdownTests {
    @Test func aShutdownEndsEverySessionAndConnectionLongBeforeTheGrace() async throws {
        let port = try freeLoopbackPort()
        // Long heartbeats: only the shutdown can answer the waiting long-poll within the test.
        let engine = EngineConfiguration(pingInterval: .seconds(25), pingTimeout: .seconds(20), maxPayload: 1_000_000)
        let app = Conformance.application(port: port, engine: engine, connectTimeout: .seconds(30), grace: .seconds(30), logger: Logger(label: "shutdown-test"))
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "shutdown-test")))
        let running = Task { try await group.run() }
        let up = await eventually(timeout: .seconds(10)) { (try? await rawHTTPGet(port: port, path: "/socket.io/?EIO=4&transport=polling").status) == 200 }
        try #require(up)

        // A connection that never sends a byte: before its first request the upgrade-capable
        // HTTP/1 pipeline has no handler that would hear the server's quiesce.
        let unused = try connectLoopback(port: port, receiveTimeoutSeconds: 10)
        defer { close(unused) }
        // A long-poll waiting for packets.
        let handshake = try await rawHTTPGet(port: port, path: "/socket.io/?EIO=4&transport=polling")
        let sid = try #require(try JSONValue.parse(String(handshake.body.dropFirst()))["sid"]?.stringValue)
        async let poll = rawHTTPGet(port: port, path: "/socket.io/?EIO=4&transport=polling&sid=\(sid)")
        // A WebSocket session.
        let opened = Mutex(false)
        async let webSocketClose = WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/socket.io/?EIO=4&transport=websocket", logger: Logger(label: "ws")) { inbound, _, _ in
            for try await message in inbound.messages(maxSize: 1 << 20) {
                if case .text(let text) = message, text.hasPrefix("0") { opened.withLock { $0 = true } }
            }
        }
        let ready = await eventually(timeout: .seconds(10)) { opened.withLock { $0 } }
        try #require(ready)
        try await Task.sleep(for: .milliseconds(200))  // the long-poll is waiting

        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        let unusedClosed = try await onOwnThread {
            var byte: UInt8 = 0
            return recv(unused, &byte, 1, 0)
        }
        #expect(unusedClosed == 0, "the unused connection is closed (EOF), not left open")
        let answer = try await poll
        #expect(answer.status == 200 && answer.body == "1", "the waiting long-poll learns the session closed: \(answer.status) \(answer.body)")
        let frame = try await webSocketClose
        #expect(frame != nil, "the WebSocket gets a close frame, not a cut connection")
        _ = try? await running.value
        let took = ContinuousClock.now - started
        #expect(took < .seconds(15), "everything drained long before the 30 s grace: \(took)")
    }
}

/// A shutdown drains WebSockets: a packet already read is still handled and answered before
/// the close frame (a chat message being stored when SIGTERM came lost its acknowledgement).
@Suite struct WebSocketDrainTests {
    @Test func aPacketInHandAtShutdownIsAnsweredBeforeTheCloseFrame() async throws {
        let port = try freeLoopbackPort()
        let logger = Logger(label: "drain-test")
        let sockets = SocketServer(logger: logger)
        let handling = Mutex(false)
        sockets.of("/").onConnection { socket in
            socket.on("slow") { _, ack in
                handling.withLock { $0 = true }
                try? await Task.sleep(for: .milliseconds(500))
                ack?(["done"])
            }
        }
        let engine = EngineServer(handler: sockets, logger: logger)
        let app = EngineMounts([("/socket.io", engine)]).application(
            host: "127.0.0.1", port: port, maxPayload: 1_000_000, serverName: "drain-test", logger: logger, grace: .seconds(10))
        let group = ServiceGroup(configuration: .init(services: [app, engine], logger: logger))
        let running = Task { try await group.run() }
        let up = await eventually(timeout: .seconds(10)) { (try? await rawHTTPGet(port: port, path: "/socket.io/?EIO=4&transport=polling").status) == 200 }
        try #require(up)

        let received = Mutex<[String]>([])
        async let closeFrame = WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/socket.io/?EIO=4&transport=websocket", logger: logger) { inbound, outbound, _ in
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message else { continue }
                received.withLock { $0.append(text) }
                if text.hasPrefix("0{") { try await outbound.write(.text("40")) }
                if text.hasPrefix("40{") {
                    try await outbound.write(.text(#"421["slow"]"#))
                }
                if text == "2" { try await outbound.write(.text("3")) }
            }
        }
        try #require(await eventually(timeout: .seconds(10)) { handling.withLock { $0 } })
        await group.triggerGracefulShutdown()
        let frame = try await closeFrame
        #expect(received.withLock { $0.contains(#"431["done"]"#) }, "the acknowledgement came before the close: \(received.withLock { $0 })")
        #expect(frame?.closeCode == .goingAway, "then a close frame 1001: \(String(describing: frame))")
        _ = try? await running.value
    }
}
