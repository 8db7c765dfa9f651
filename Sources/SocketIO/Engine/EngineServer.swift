import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import NIOCore
import Synchronization

/// An Engine.IO 4 server: sessions over HTTP long-polling and WebSocket, the upgrade
/// from one to the other, heartbeats. What the messages mean is its handler's business.
/// A `Service` of the application that mounts it: when the service group shuts down it
/// closes every session left (those not in a transport when the HTTP server drained).
public final class EngineServer: Service, Sendable {
    public let configuration: EngineConfiguration
    let handler: any EngineHandler
    let logger: Logger
    private let sessions = Mutex<[String: EngineSession]>([:])

    public init(configuration: EngineConfiguration = .init(), handler: any EngineHandler, logger: Logger) {
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
    }

    func session(_ id: String) -> EngineSession? { sessions.withLock { $0[id] } }

    func openSession(handshake: EngineHandshake, transport: EngineSession.Transport, eventLoop: any EventLoop) -> EngineSession {
        let session = EngineSession(id: Self.newId(), handshake: handshake, transport: transport, configuration: configuration,
                                    eventLoop: eventLoop) { [self] session, reason in
            sessions.withLock { _ = $0.removeValue(forKey: session.id) }
            Task { await handler.engineClosed(session, reason: reason) }
        }
        sessions.withLock { $0[session.id] = session }
        session.startHeartbeat()
        return session
    }

    public func run() async throws {
        try? await gracefulShutdown()
        endAll()
    }

    /// Ends every session (at shutdown): waiting long-polls are answered with a close
    /// packet; a WebSocket stops reading, finishes the packets it has read (their answers
    /// go out), then gets a close frame 1001; the clients reconnect.
    public func endAll() {
        for session in sessions.withLock({ Array($0.values) }) { session.shutDown() }
    }

    /// Runs `body` (a long-poll waiting for packets); a graceful shutdown of the server
    /// meanwhile ends the session, so the poll is answered at once instead of holding the
    /// shutdown until the next ping. (WebSockets drain on their own: `endAll`.)
    func closingOnShutdown<T: Sendable>(_ session: EngineSession, _ body: () async -> T) async -> T {
        await withGracefulShutdownHandler {
            await body()
        } onGracefulShutdown: {
            session.close(.serverShutdown)
        }
    }

    /// 120 random bits, URL-safe.
    static func newId() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<15).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    // MARK: packets from the client, whatever the transport

    /// Applies one packet; false when the packet breaks the protocol (the session is closed).
    func receive(_ packet: EnginePacket, on session: EngineSession) async -> Bool {
        switch packet {
        case .pong: session.pongReceived()
        case .message(let message): await handler.engine(session, received: message)
        case .close: session.close(.clientClose, final: [.noop])
        case .noop, .upgrade, .ping: break  // a v4 client does not ping; stray upgrades are harmless
        case .open:
            session.close(.parseError)
            return false
        }
        return true
    }

    // MARK: query checks

    enum QueryError: Error {
        case badVersion, badTransport, unknownSession, badMethod, badRequest
    }

    struct Query {
        let transport: String
        let sid: String?
        let all: [String: String]
    }

    static func parseQuery(_ items: [String: String]) throws(QueryError) -> Query {
        guard items["EIO"] == "4" else { throw .badVersion }
        guard let transport = items["transport"], transport == "polling" || transport == "websocket" else { throw .badTransport }
        return Query(transport: transport, sid: items["sid"], all: items)
    }

    /// The query of `uri`, decoded by Hummingbird's URI (the first value of a repeated key).
    static func queryItems(_ uri: URI) -> [String: String] {
        var items: [String: String] = [:]
        for (key, value) in uri.queryParameters where items[String(key)] == nil { items[String(key)] = String(value) }
        return items
    }

    static func errorResponse(_ error: QueryError) -> Response {
        let (code, message) = switch error {
        case .unknownSession: (1, "Session ID unknown")
        case .badMethod: (2, "Bad handshake method")
        case .badVersion: (5, "Unsupported protocol version")
        case .badTransport: (0, "Transport unknown")
        case .badRequest: (3, "Bad request")
        }
        return Response(status: .badRequest, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: #"{"code":\#(code),"message":"\#(message)"}"#)))
    }
}
