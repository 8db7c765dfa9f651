import HTTPTypes

/// What the layer above Engine.IO (Socket.IO, or the conformance echo) is told. Each
/// session's calls come one at a time, in the order its packets arrived.
public protocol EngineHandler: Sendable {
    func engineOpened(_ session: EngineSession) async
    func engine(_ session: EngineSession, received message: EngineMessage) async
    func engineClosed(_ session: EngineSession, reason: EngineCloseReason) async
}

public enum EngineCloseReason: String, Sendable {
    case clientClose = "client close"
    case transportClose = "transport close"
    case transportError = "transport error"
    case pingTimeout = "ping timeout"
    case parseError = "parse error"
    case serverClose = "server close"
    /// The server is shutting down: clients should reconnect, to another replica if there is one.
    case serverShutdown = "server shutting down"
}

/// The HTTP request that opened a session: what authentication and logs may look at.
public struct EngineHandshake: Sendable {
    public let headers: HTTPFields
    public let query: [String: String]

    public init(headers: HTTPFields, query: [String: String]) {
        self.headers = headers
        self.query = query
    }
}
