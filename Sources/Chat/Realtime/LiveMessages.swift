import SocketIO

/// What happens in a chat's room, for the sockets in it on every replica.
enum RoomEvent: Codable, Sendable {
    /// A new, stored message.
    case message(MessageView)
    /// A participant left or was removed (or their account was deleted): their sockets stop hearing the chat.
    case left(chatId: String, userId: String)

    var chatId: String {
        switch self {
        case .message(let message): message.chatId
        case .left(let chatId, _): chatId
        }
    }
}

/// New messages and departures, told to the chat's room: here at once, on the other
/// replicas through `Deliveries`.
final class LiveMessages: Sendable {
    static let maxText = 5000
    let namespace: Namespace
    let deliveries: Deliveries?

    init(namespace: Namespace, deliveries: Deliveries?) {
        self.namespace = namespace
        self.deliveries = deliveries
    }

    static func room(_ chatId: String) -> String { "chat:\(chatId)" }

    /// To every socket in the room, on every replica.
    func announce(_ message: MessageView) {
        Self.apply(.message(message), on: namespace)
        deliveries?.publish(.message(message))
    }

    /// Someone left or was removed: their sockets, here and on the other replicas, stop hearing the chat.
    func evict(_ userId: String, from chatId: String) {
        Self.apply(.left(chatId: chatId, userId: userId), on: namespace)
        deliveries?.publish(.left(chatId: chatId, userId: userId))
    }

    /// Applies an event to this replica's sockets (also events from other replicas).
    static func apply(_ event: RoomEvent, on namespace: Namespace) {
        switch event {
        case .message(let message):
            guard let payload = try? JSONValue(encoding: message) else { return }
            namespace.emit(to: room(message.chatId), "receiveMessage", [payload])
        case .left(let chatId, let userId):
            let room = room(chatId)
            for socket in namespace.sockets(in: room) where socket[data: "userId"] == userId { socket.leave(room) }
        }
    }
}
