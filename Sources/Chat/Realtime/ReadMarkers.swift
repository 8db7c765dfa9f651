import Foundation

/// Reading a chat: the member's read marker moves up to its newest message, and when it
/// moved, every socket in the chat's room hears `messagesRead` on every replica.
struct ReadMarkers: Sendable {
    let store: any ChatStore
    let live: LiveMessages

    /// The marker, when it moved.
    @discardableResult
    func markRead(chatId: String, userId: String) async throws -> Date? {
        guard let marker = try await store.markRead(chatId: chatId, userId: userId) else { return nil }
        live.tell(.read(chatId: chatId, userId: userId, at: marker))
        return marker
    }
}
