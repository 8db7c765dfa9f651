import Logging
import NIOPosix
import Synchronization
import Testing
import TestSupport

@testable import SocketIO

/// What a socket leaves behind once its session ends.
@Suite struct SocketLifetimeTests {
    /// Holds a socket weakly: whether anything else still keeps it.
    final class Watched: Sendable {
        struct Reference { weak var socket: Socket? }
        private let reference = Mutex(Reference())
        func watch(_ socket: Socket) { reference.withLock { $0.socket = socket } }
        var isAlive: Bool { reference.withLock { $0.socket != nil } }
    }

    /// Event handlers usually capture their socket; once the session is over the socket, its
    /// connection and session must still be freed (a cycle kept 2 KB per connection for good).
    @Test func aDisconnectedSocketIsFreedThoughItsHandlersCaptureIt() async throws {
        let sockets = SocketServer(logger: Logger(label: "lifetime"))
        let watched = Watched()
        sockets.of("/").onConnection { socket in
            socket.on("echo") { arguments, _ in socket.emit("echo", arguments) }
            socket.onDisconnect { _ in _ = socket.id }
            watched.watch(socket)
        }
        let engine = EngineServer(handler: sockets, logger: Logger(label: "lifetime"))
        let session = engine.openSession(handshake: EngineHandshake(headers: [:], query: [:]), transport: .polling,
                                         eventLoop: MultiThreadedEventLoopGroup.singleton.any())
        await sockets.engineOpened(session)
        await sockets.engine(session, received: .text("0"))
        #expect(watched.isAlive, "connected")
        session.close(.clientClose)
        let freed = await eventually(timeout: .seconds(5)) { !watched.isAlive }
        #expect(freed, "the socket is freed once its session ended")
    }
}
