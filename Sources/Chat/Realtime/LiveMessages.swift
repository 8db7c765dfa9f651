import Foundation
import SocketIO

/// What happens in a chat's room, for the sockets in it on every replica.
enum RoomEvent: Sendable, Equatable {
    /// A new, stored message, as the `receiveMessage` argument (`MessageView.json`), and its
    /// offset for connection state recovery (`MessageOffset`).
    case message(chatId: String, payload: JSONValue, offset: String)
    /// A participant left or was removed (or their account was deleted): their sockets stop hearing the chat.
    case left(chatId: String, userId: String)
    /// The sender changed a message's text: its new value (`MessageView.json`).
    case edited(chatId: String, payload: JSONValue)
    /// The sender deleted a message.
    case deleted(chatId: String, messageId: String)
    /// A member's read marker moved up to `at` (they read every message created until then).
    case read(chatId: String, userId: String, at: Date)
    /// A user came online or went offline (their first socket anywhere opened, or their
    /// last closed): told to `audience`, their contacts and fellow chat members.
    case presence(userId: String, online: Bool, audience: [String])
    /// A participant started (or stopped) typing: live only, never stored.
    case typing(chatId: String, userId: String, started: Bool)

    var chatId: String {
        switch self {
        case .message(let chatId, _, _): chatId
        case .left(let chatId, _): chatId
        case .edited(let chatId, _): chatId
        case .deleted(let chatId, _): chatId
        case .read(let chatId, _, _): chatId
        case .presence: ""
        case .typing(let chatId, _, _): chatId
        }
    }

    /// As it crosses to the other replicas: the message's value goes as it is, so they
    /// parse it with the socket parser (linear) and emit it without decoding a `MessageView`.
    var json: JSONValue {
        switch self {
        case .message(let chatId, let payload, let offset): ["type": "message", "chatId": .string(chatId), "payload": payload, "offset": .string(offset)]
        case .left(let chatId, let userId): ["type": "left", "chatId": .string(chatId), "userId": .string(userId)]
        case .edited(let chatId, let payload): ["type": "edited", "chatId": .string(chatId), "payload": payload]
        case .deleted(let chatId, let messageId): ["type": "deleted", "chatId": .string(chatId), "messageId": .string(messageId)]
        case .presence(let userId, let online, let audience):
            ["type": "presence", "chatId": "", "userId": .string(userId), "online": .bool(online), "audience": .array(audience.map(JSONValue.string))]
        case .read(let chatId, let userId, let at):
            ["type": "read", "chatId": .string(chatId), "userId": .string(userId), "at": .number(at.timeIntervalSince1970 * 1000)]
        case .typing(let chatId, let userId, let started):
            ["type": started ? "typing" : "stopTyping", "chatId": .string(chatId), "userId": .string(userId)]
        }
    }

    init?(json: JSONValue) {
        guard let chatId = json["chatId"]?.stringValue else { return nil }
        switch json["type"]?.stringValue {
        case "message":
            guard let payload = json["payload"], payload.isObject, let offset = json["offset"]?.stringValue else { return nil }
            self = .message(chatId: chatId, payload: payload, offset: offset)
        case "edited":
            guard let payload = json["payload"], payload.isObject else { return nil }
            self = .edited(chatId: chatId, payload: payload)
        case "deleted":
            guard let messageId = json["messageId"]?.stringValue else { return nil }
            self = .deleted(chatId: chatId, messageId: messageId)
        case "presence":
            guard let userId = json["userId"]?.stringValue, case .bool(let online)? = json["online"],
                  let audience = json["audience"]?.arrayValue?.compactMap(\.stringValue) else { return nil }
            self = .presence(userId: userId, online: online, audience: audience)
        case "read":
            guard let userId = json["userId"]?.stringValue, case .number(let millis)? = json["at"] else { return nil }
            self = .read(chatId: chatId, userId: userId, at: Date(timeIntervalSince1970: millis / 1000))
        case "left":
            guard let userId = json["userId"]?.stringValue else { return nil }
            self = .left(chatId: chatId, userId: userId)
        case let type? where type == "typing" || type == "stopTyping":
            guard let userId = json["userId"]?.stringValue else { return nil }
            self = .typing(chatId: chatId, userId: userId, started: type == "typing")
        default:
            return nil
        }
    }
}

/// New messages and departures, told to the chat's room: here at once, on the other
/// replicas through `Deliveries`.
final class LiveMessages: Sendable {
    static let maxText = 5000
    let namespace: Namespace
    let deliveries: Deliveries?
    /// Whether messages go out with their offsets (connection state recovery is on).
    let offsets: Bool

    init(namespace: Namespace, deliveries: Deliveries?, offsets: Bool) {
        self.namespace = namespace
        self.deliveries = deliveries
        self.offsets = offsets
    }

    static func room(_ chatId: String) -> String { "chat:\(chatId)" }
    /// Every socket of a user, for what is told to them whichever chats they have open.
    static func userRoom(_ userId: String) -> String { "user:\(userId)" }

    /// To every socket in the room, on every replica; `payload` is `message.json`, when the caller has it already.
    func announce(_ message: MessageView, payload: JSONValue? = nil) {
        let event = RoomEvent.message(chatId: message.chatId, payload: payload ?? message.json, offset: MessageOffset(message).text)
        apply(event)
        deliveries?.publish(event)
    }

    /// Someone left or was removed: their sockets, here and on the other replicas, stop hearing the chat.
    func evict(_ userId: String, from chatId: String) {
        apply(.left(chatId: chatId, userId: userId))
        deliveries?.publish(.left(chatId: chatId, userId: userId))
    }

    /// An edit or a deletion, to every socket in the room on every replica.
    func tell(_ event: RoomEvent) {
        apply(event)
        deliveries?.publish(event)
    }

    /// Someone's typing indicator, to the rest of the room here (`except` their socket) and on the other replicas.
    func typing(_ userId: String, in chatId: String, started: Bool, except socketId: String) {
        let event = RoomEvent.typing(chatId: chatId, userId: userId, started: started)
        apply(event, except: socketId)
        deliveries?.publish(event)
    }

    func apply(_ event: RoomEvent, except socketId: String? = nil) {
        Self.apply(event, on: namespace, offsets: offsets, except: socketId)
    }

    /// Applies an event to this replica's sockets (also events from other replicas).
    static func apply(_ event: RoomEvent, on namespace: Namespace, offsets: Bool, except socketId: String? = nil) {
        switch event {
        case .message(let chatId, let payload, let offset):
            namespace.emit(to: room(chatId), "receiveMessage", [payload], offset: offsets ? offset : nil)
        case .edited(let chatId, let payload):
            namespace.emit(to: room(chatId), "messageEdited", [payload])
        case .deleted(let chatId, let messageId):
            namespace.emit(to: room(chatId), "messageDeleted", [["chatId": .string(chatId), "messageId": .string(messageId), "_id": .string(messageId)]])
        case .presence(let userId, let online, let audience):
            for listener in audience { namespace.emit(to: userRoom(listener), "presence", [["userId": .string(userId), "online": .bool(online)]]) }
        case .read(let chatId, let userId, let at):
            namespace.emit(to: room(chatId), "messagesRead", [["chatId": .string(chatId), "userId": .string(userId), "readAt": .string(ISO8601Seconds.format(at))]])
        case .typing(let chatId, let userId, let started):
            namespace.emit(to: room(chatId), except: socketId, started ? "typing" : "stopTyping", [["chatId": .string(chatId), "userId": .string(userId)]])
        case .left(let chatId, let userId):
            let room = room(chatId)
            for socket in namespace.sockets(in: room) where socket[data: "userId"] == userId { socket.leave(room) }
        }
    }
}
