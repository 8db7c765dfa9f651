import SocketIO

/// New messages, told to every socket in the chat's room: here at once, on the other
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

    /// To the room (except the socket that sent it, which has its acknowledgement).
    func announce(_ message: MessageView, except socketId: String? = nil) {
        Self.emit(message, on: namespace, except: socketId)
        deliveries?.publish(chatId: message.chatId, message: message)
    }

    /// To the sockets of this replica in the chat's room (also for messages another replica stored).
    static func emit(_ message: MessageView, on namespace: Namespace, except socketId: String? = nil) {
        guard let payload = try? JSONValue(encoding: message) else { return }
        namespace.emit(to: room(message.chatId), except: socketId, "receiveMessage", [payload])
    }

    /// Someone left or was removed: their sockets here stop hearing the chat.
    func evict(_ userId: String, from chatId: String) {
        let room = Self.room(chatId)
        for socket in namespace.sockets(in: room) where socket[data: "userId"] == userId { socket.leave(room) }
    }
}
