import HummingbirdWSClient
import Logging
import NIOPosix
import ServiceLifecycle
import SocketIO
import Synchronization
import Testing
import TestSupport

/// A WebSocket client's events are handled on its connection's event loop, and a handler
/// comes back there after awaiting work elsewhere: no hop to the task pool per packet.
@Suite struct HandlerPlacementTests {
    @Test func eventsAreHandledOnTheConnectionsEventLoopBeforeAndAfterAnAwait() async throws {
        let port = try freeLoopbackPort()
        let logger = Logger(label: "placement-test")
        let sockets = SocketServer(logger: logger)
        sockets.of("/").onConnection { socket in
            socket.on("where") { _, ack in
                let before = MultiThreadedEventLoopGroup.currentEventLoop.map { "\(ObjectIdentifier($0))" } ?? "none"
                // Work on another thread, as a database call on its client's threads.
                _ = try? await NIOThreadPool.singleton.runIfActive { 1 }
                let after = MultiThreadedEventLoopGroup.currentEventLoop.map { "\(ObjectIdentifier($0))" } ?? "none"
                ack?([.string(before), .string(after)])
            }
        }
        let engine = EngineServer(handler: sockets, logger: logger)
        let app = EngineMounts([("/socket.io", engine)]).application(
            host: "127.0.0.1", port: port, maxPayload: 1_000_000, serverName: "placement-test", logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app, engine], logger: logger))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        let up = await eventually(timeout: .seconds(10)) { (try? await rawHTTPGet(port: port, path: "/socket.io/?EIO=4&transport=polling").status) == 200 }
        try #require(up)

        let answer = Mutex<String?>(nil)
        _ = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/socket.io/?EIO=4&transport=websocket", logger: logger) { inbound, outbound, _ in
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message else { continue }
                if text.hasPrefix("0{") { try await outbound.write(.text("40")) }
                if text.hasPrefix("40{") { try await outbound.write(.text(#"421["where"]"#)) }
                if text.hasPrefix("431") {
                    answer.withLock { $0 = String(text.dropFirst(3)) }
                    try await outbound.close(.normalClosure, reason: nil)
                }
            }
        }
        let arguments = try #require(try answer.withLock { $0 }.map { try JSONValue.parse($0) }?.arrayValue)
        try #require(arguments.count == 2)
        let before = try #require(arguments[0].stringValue), after = try #require(arguments[1].stringValue)
        #expect(before != "none", "the handler starts on an event loop")
        #expect(after == before, "and is back on the same loop after its await: \(before) then \(after)")
        await group.triggerGracefulShutdown()
    }
}
