import Hummingbird
import Logging

/// The servers the official `engine.io-protocol` and `socket.io-protocol` test suites
/// expect (their READMEs give the settings): an Engine.IO echo at `/engine.io/`, and
/// Socket.IO at `/socket.io/` with namespaces `/` and `/custom`.
public enum Conformance {
    public static let engineConfiguration = EngineConfiguration(pingInterval: .milliseconds(300), pingTimeout: .milliseconds(200), maxPayload: 1_000_000)

    public static let connectTimeout = Duration.milliseconds(1000)

    /// The suites' set-up; tests on a loaded machine may pass roomier timings.
    public static func application(
        host: String = "127.0.0.1", port: Int = 3000, engine engineConfiguration: EngineConfiguration = engineConfiguration,
        connectTimeout: Duration = connectTimeout, grace: Duration = .seconds(10), logger: Logger
    ) -> some ApplicationProtocol {
        let echo = EngineServer(configuration: engineConfiguration, handler: EchoHandler(), logger: logger)
        let sockets = SocketServer(connectTimeout: connectTimeout, logger: logger)
        for name in ["/", "/custom"] {
            sockets.of(name).onConnection { socket in
                socket.emit("auth", [socket.handshake.auth])
                guard name == "/" else { return }
                socket.on("message") { arguments, _ in socket.emit("message-back", arguments) }
                socket.on("message-with-ack") { arguments, ack in ack?(arguments) }
            }
        }
        let socketEngine = EngineServer(configuration: engineConfiguration, handler: sockets, logger: logger)
        return EngineMounts([("/engine.io", echo), ("/socket.io", socketEngine)]).application(
            host: host, port: port, maxPayload: engineConfiguration.maxPayload, serverName: "switchboard-socketio-conformance", logger: logger, grace: grace)
    }

    /// Sends every message back as it came.
    struct EchoHandler: EngineHandler {
        func engineOpened(_ session: EngineSession) async {}
        func engine(_ session: EngineSession, received message: EngineMessage) async { session.send([message]) }
        func engineClosed(_ session: EngineSession, reason: EngineCloseReason) async {}
    }
}
