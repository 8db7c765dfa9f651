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
