import BSON
import Foundation
import Hummingbird
import ServiceKit

/// A sender changes or takes back their own message; every member's socket hears it.
extension ChatRoutes {
    /// The new text (1–5000 characters; a file's caption may be emptied) → 200 with the
    /// message, `editedAt` set; `messageEdited` to the chat's room on every replica.
    @Sendable func editMessage(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let (me, chatId, messageId) = try await ownMessageRoute(context)
        let body = try await request.decodeBody(as: EditMessageRequest.self, context: context)
        let original = try await requireSender(me, of: messageId, in: chatId)
        let text = original.file == nil
            ? try TextInput.required(body.text, field: "text", length: 1...LiveMessages.maxText, code: "invalid_text")
            : try TextInput.optional(body.text, field: "text", maxLength: LiveMessages.maxText, code: "invalid_text")
        // Deleted meanwhile: as if it had never been there.
        guard let edited = try await store.editMessage(id: messageId, chatId: chatId.hex, senderId: me, text: text, now: Date()) else {
            throw APIError.notFound("Message not found")
        }
        let view = MessageView(edited)
        live.tell(.edited(chatId: chatId.hex, payload: view.json))
        return try Self.bare(view, status: .ok, request: request, context: context)
    }

    /// → 204; `messageDeleted {chatId, messageId}` to the chat's room on every replica. A
    /// file sent with the message goes with it.
    @Sendable func deleteMessage(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let (me, chatId, messageId) = try await ownMessageRoute(context)
        try await requireSender(me, of: messageId, in: chatId)
        guard let deleted = try await store.deleteMessage(id: messageId, chatId: chatId.hex, senderId: me) else {
            throw APIError.notFound("Message not found")
        }
        // The message is gone already: a file left behind costs space, not a wrong answer.
        if let file = deleted.file { try? await files.delete(file) }
        live.tell(.deleted(chatId: chatId.hex, messageId: messageId.hex))
        return Response(status: .noContent)
    }

    /// The caller, who must be in the chat (else 404, as everywhere), and the route's ids.
    private func ownMessageRoute(_ context: ServiceRequestContext) async throws -> (me: String, chatId: ObjectId, messageId: ObjectId) {
        let me = try context.requireIdentity().userId
        let chatId = try context.idParameter("chatId", naming: "a chat id")
        let messageId = try context.idParameter("messageId", naming: "a message id")
        try await requireParticipant(me, of: chatId.hex)
        return (me, chatId, messageId)
    }

    /// 404 when the chat has no such message; 403 when it is someone else's.
    @discardableResult
    private func requireSender(_ me: String, of messageId: ObjectId, in chatId: ObjectId) async throws -> Message {
        guard let message = try await store.message(id: messageId, chatId: chatId.hex) else { throw APIError.notFound("Message not found") }
        guard message.senderId == me else { throw APIError(.forbidden, code: "not_sender", message: "Only the sender can change or delete a message") }
        return message
    }
}
