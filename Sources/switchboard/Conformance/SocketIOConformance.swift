import ArgumentParser
import Hummingbird
import Logging
import ServiceKit
import SocketIO

/// `switchboard socketio-conformance`: the server the official Engine.IO and Socket.IO
/// protocol test suites run against (an echo at /engine.io/, Socket.IO at /socket.io/).
struct SocketIOConformanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketio-conformance", abstract: "Serve the official Socket.IO protocol test suites' reference set-up.")

    @Option(name: .long, help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port (the suites expect 3000).")
    var port = 3000

    func run() async throws {
        ServiceLogging.bootstrap(level: .warning, format: .text)
        try await Conformance.application(host: host, port: port, logger: Logger(label: "socketio-conformance")).runService()
    }
}
