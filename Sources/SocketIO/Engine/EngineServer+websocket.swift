import Foundation
import HTTPTypes
import HummingbirdCore

/// How a WebSocket to an Engine.IO server begins.
enum EngineWebSocketPlan: Sendable {
    /// A session of its own.
    case open(EngineHandshake)
    /// The upgrade of a long-polling session (probe, then `5`).
    case upgrade(EngineSession)
    /// Accepted and closed at once (1008), as the reference server does for a session that
    /// cannot upgrade.
    case refuse
}

extension EngineServer {
    /// What to do with a WebSocket upgrade request for this server: nil refuses it (a bad
    /// query; the client gets a 400).
    func webSocketPlan(for request: HTTPRequest) -> EngineWebSocketPlan? {
        let items = Self.queryItems(URI(request.path ?? ""))
        guard let query = try? Self.parseQuery(items), query.transport == "websocket" else { return nil }
        guard let sid = query.sid else { return .open(EngineHandshake(headers: request.headerFields, query: query.all)) }
        // Only a long-polling session that has not upgraded yet may move here.
        guard let session = session(sid), session.claimUpgrade() else { return .refuse }
        return .upgrade(session)
    }

    /// A client's packet as the WebSocket carried it; nil when it breaks the protocol.
    static func packet(_ message: WebSocketFrameReader.Message) -> EnginePacket? {
        switch message {
        case .text(let text): try? EnginePacket.decode(text: Substring(text))
        case .binary(let buffer): .message(.binary(Data(buffer.readableBytesView)))
        }
    }
}
