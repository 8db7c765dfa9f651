import BSON
import Foundation
import Logging
import ServiceKit
import SocketIO

/// The chat's Socket.IO side: sockets authenticate with the access token (handshake
/// `auth.token`, `Authorization: Bearer`, or the `token` cookie); `joinChat {chatId}`
/// puts a participant's socket in the chat's room; `sendMessage {chatId, text}` stores
/// the message, acknowledges it with the stored message, and sends `receiveMessage`
/// to the room, the sender included; `typing` / `stopTyping {chatId}` tell the rest of the
/// room (live only). Refusals come back in the acknowledgement (or as `chatError`); a
/// refused join also emits `error`, as the reference did. Every event a socket sends counts
/// against its own and its user's flood limits, and a user has at most so many sockets.
struct ChatSockets: Sendable {
    let store: any ChatStore
    let membership: Membership
    let live: LiveMessages
    let access: AccessTokenCheck
    let limits: SocketLimits
    let presence: Presence
    let logger: Logger
    var reading: ReadMarkers { ReadMarkers(store: store, live: live) }

    func install(on namespace: Namespace) {
        namespace.authorize { socket in
            let userId = try await authenticate(socket.handshake)
            // A recovered socket is its user's only: another's private session id gets nothing.
            if socket.recovered, socket[data: "userId"] != userId { throw SocketConnectionRefused("Unauthorized - Invalid or expired token") }
            // Counted from here; every admitted socket reaches onConnection, and its disconnect.
            guard limits.admit(socket: socket.id, user: userId) else { throw SocketConnectionRefused("Too many connections for this user") }
            socket[data: "userId"] = userId
        }
        namespace.onConnection { socket in
            guard let userId = socket[data: "userId"] else { return }
            socket.join(LiveMessages.userRoom(userId))
            presence.socketOpened(user: userId)
            socket.onDisconnect { _ in
                limits.disconnected(socket: socket.id, user: userId)
                presence.socketClosed(user: userId)
            }
            on(socket, "joinChat") { arguments, ack in await join(socket, arguments, ack) }
            on(socket, "leaveChat") { arguments, ack in
                guard let chatId = Self.chatId(in: arguments) else { return reply(socket, ack, error: "invalid_id", "chatId is required") }
                socket.leave(LiveMessages.room(chatId))
                ack?([["ok": true, "chatId": .string(chatId)]])
            }
            on(socket, "sendMessage") { arguments, ack in await send(socket, arguments, ack) }
            on(socket, "markRead") { arguments, ack in await markRead(socket, arguments, ack) }
            on(socket, "typing") { arguments, ack in await typing(socket, arguments, ack, started: true) }
            on(socket, "stopTyping") { arguments, ack in await typing(socket, arguments, ack, started: false) }
        }
    }

    /// `handler` for `event`, once the socket's and its user's flood limits allow it; beyond
    /// them the event is refused (`rate_limited`) and nothing of it is done or stored.
    private func on(_ socket: Socket, _ event: String, _ handler: @escaping Socket.EventHandler) {
        socket.on(event) { arguments, ack in
            guard let userId = socket[data: "userId"], limits.allows(socket: socket.id, user: userId) else {
                return reply(socket, ack, error: "rate_limited", "Too many events: slow down")
            }
            await handler(arguments, ack)
        }
    }

    /// Refusals say what the reference's socket middleware said, so its clients' connect_error
    /// handlers read the same messages.
    func authenticate(_ handshake: SocketHandshake) async throws -> String {
        guard let token = Self.token(handshake) else {
            throw SocketConnectionRefused(handshake.engine.headers[.cookie] == nil ? "Unauthorized - No cookies" : "Unauthorized - No token")
        }
        do {
            guard let claims = try await access.claims(of: token) else { throw SocketConnectionRefused("Unauthorized - Invalid or expired token") }
            return claims.userId
        } catch is VerificationKeysUnavailable {
            throw SocketConnectionRefused("Token keys are not available yet, try again shortly")
        }
    }

    /// The handshake's `auth.token` (what Socket.IO clients send), else what HTTP requests carry.
    static func token(_ handshake: SocketHandshake) -> String? {
        if let token = handshake.auth["token"]?.stringValue, !token.isEmpty {
            return token.lowercased().hasPrefix("bearer ") ? String(token.dropFirst(7)) : token
        }
        return AuthenticationMiddleware<ServiceRequestContext>.token(in: handshake.engine.headers)
    }

    /// `{chatId}` or the id alone, as clients of the reference system send it.
    static func chatId(in arguments: [JSONValue]) -> String? {
        let raw = arguments.first?["chatId"]?.stringValue ?? arguments.first?.stringValue
        guard let raw, ObjectId(raw) != nil else { return nil }
        return raw.lowercased()
    }

    func join(_ socket: Socket, _ arguments: [JSONValue], _ ack: Acknowledgement?) async {
        guard let userId = socket[data: "userId"] else { return }
        guard let chatId = Self.chatId(in: arguments) else { return reply(socket, ack, error: "invalid_id", "chatId must be a chat id (24 hex digits)") }
        do {
            guard try await membership.isParticipant(userId, of: chatId) else {
                // The reference's clients listen on `error` for this; a chat the caller is not
                // in does not exist for them, so it is "Chat not found" either way.
                socket.emit("error", ["Chat not found"])
                return reply(socket, ack, error: "not_found", "Chat not found")
            }
            socket.join(LiveMessages.room(chatId))
            try await reading.markRead(chatId: chatId, userId: userId)
            ack?([["ok": true, "chatId": .string(chatId)]])
        } catch {
            logger.error("joinChat failed: \(error)", metadata: ["chatId": "\(chatId)"])
            reply(socket, ack, error: "unavailable", "Try again shortly")
        }
    }

    func send(_ socket: Socket, _ arguments: [JSONValue], _ ack: Acknowledgement?) async {
        guard let userId = socket[data: "userId"] else { return }
        guard let chatId = Self.chatId(in: arguments) else { return reply(socket, ack, error: "invalid_id", "chatId must be a chat id (24 hex digits)") }
        guard let raw = arguments.first?["text"]?.stringValue else { return reply(socket, ack, error: "missing_field", "text is required") }
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...LiveMessages.maxText).contains(text.count) else {
            return reply(socket, ack, error: "invalid_text", "text must be 1 to \(LiveMessages.maxText) characters")
        }
        do {
            guard try await membership.isParticipant(userId, of: chatId) else { return reply(socket, ack, error: "not_found", "Chat not found") }
            // Stored before it is acknowledged or delivered: nothing anyone saw can be lost.
            let message = Message(_id: ObjectId(), chatId: chatId, senderId: userId, text: text, file: nil, readBy: [userId], createdAt: Date())
            try await store.add(message)
            let view = MessageView(message)
            let payload = view.json
            ack?([["ok": true, "data": payload]])
            // To the whole room, the sender's sockets included, as the reference's io.to(chatId).
            live.announce(view, payload: payload)
        } catch {
            logger.error("sendMessage failed: \(error)", metadata: ["chatId": "\(chatId)"])
            reply(socket, ack, error: "unavailable", "The message was not stored; try again")
        }
    }

    /// The socket's user has read the chat up to its newest message; ack `{ok, chatId, readAt}`
    /// (`readAt` null when the marker was there already).
    func markRead(_ socket: Socket, _ arguments: [JSONValue], _ ack: Acknowledgement?) async {
        guard let (userId, chatId) = await participantChat(socket, arguments, ack) else { return }
        do {
            let marker = try await reading.markRead(chatId: chatId, userId: userId)
            ack?([["ok": true, "chatId": .string(chatId), "readAt": marker.map { .string(ISO8601Seconds.format($0)) } ?? .null]])
        } catch {
            logger.error("markRead failed: \(error)", metadata: ["chatId": "\(chatId)"])
            reply(socket, ack, error: "unavailable", "Try again shortly")
        }
    }

    /// Relayed to the rest of the room at most once per interval per user and chat; a stop
    /// only after a relayed start. Participants only.
    func typing(_ socket: Socket, _ arguments: [JSONValue], _ ack: Acknowledgement?, started: Bool) async {
        guard let (userId, chatId) = await participantChat(socket, arguments, ack) else { return }
        let relayed = started ? limits.relaysTypingStart(user: userId, chat: chatId) : limits.relaysTypingStop(user: userId, chat: chatId)
        if relayed { live.typing(userId, in: chatId, started: started, except: socket.id) }
        ack?([["ok": true, "chatId": .string(chatId)]])
    }

    /// The socket's user and the chat its event names, when they are a participant of it;
    /// otherwise the refusal is sent (`invalid_id`, `not_found`, `unavailable`) and nil comes back.
    private func participantChat(_ socket: Socket, _ arguments: [JSONValue], _ ack: Acknowledgement?) async -> (userId: String, chatId: String)? {
        guard let userId = socket[data: "userId"] else { return nil }
        guard let chatId = Self.chatId(in: arguments) else {
            reply(socket, ack, error: "invalid_id", "chatId must be a chat id (24 hex digits)")
            return nil
        }
        do {
            guard try await membership.isParticipant(userId, of: chatId) else {
                reply(socket, ack, error: "not_found", "Chat not found")
                return nil
            }
            return (userId, chatId)
        } catch {
            reply(socket, ack, error: "unavailable", "Try again shortly")
            return nil
        }
    }

    /// A refusal: in the acknowledgement when the client asked for one, else as `chatError`.
    func reply(_ socket: Socket, _ ack: Acknowledgement?, error code: String, _ message: String) {
        let body: JSONValue = ["ok": false, "error": ["code": .string(code), "message": .string(message)]]
        if let ack { ack([body]) } else { socket.emit("chatError", [body]) }
    }
}
