import ArgumentParser
import Hummingbird
import Logging
import NIOPosix
import ServiceKit
import SocketIO

/// `switchboard socketio-fanout`: the Socket.IO module alone, doing a chat's fan-out without
/// storage (`join {room}`, then `send {room, ...}` reaches everyone in the room as
/// `message`): what scripts/bench-fanout runs side by side with python-socketio.
struct SocketIOFanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketio-fanout", abstract: "Serve a storage-free Socket.IO fan-out, for the fan-out benchmark.")

    @Option(name: .long, help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port.")
    var port = 3950

    @Option(name: .long, help: "Event loop threads (0: one per core).")
    var eventLoops = 0

    func run() async throws {
        ServiceLogging.bootstrap(level: .warning, format: .text)
        let logger = Logger(label: "socketio-fanout")
        let sockets = SocketServer(logger: logger)
        let namespace = sockets.of("/")
        namespace.onConnection { socket in
            socket.on("join") { arguments, ack in
                guard let room = arguments.first?["room"]?.stringValue else { return }
                socket.join(room)
                ack?([true])
            }
            socket.on("send") { arguments, _ in
                guard let message = arguments.first, let room = message["room"]?.stringValue else { return }
                namespace.emit(to: room, "message", [message])
            }
        }
        let engine = EngineServer(handler: sockets, logger: logger)
        try await EngineMounts([("/socket.io", engine)]).application(
            host: host, port: port, maxPayload: engine.configuration.maxPayload, serverName: "switchboard-socketio-fanout", logger: logger,
            eventLoopGroup: eventLoops > 0 ? MultiThreadedEventLoopGroup(numberOfThreads: eventLoops) : MultiThreadedEventLoopGroup.singleton
        ).runService()
    }
}
