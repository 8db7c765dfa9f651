import BSON
import ServiceKit

/// Who may read and write a chat, cached in Redis for an hour (DESIGN.md) and dropped
/// whenever the chat's membership changes. Without Redis every check reads MongoDB.
struct Membership: Sendable {
    let store: any ChatStore
    let cache: FlagCache

    func isParticipant(_ userId: String, of chatId: String) async throws -> Bool {
        guard let id = ObjectId(chatId) else { return false }
        return try await cache.value(for: "\(chatId):\(userId)") {
            try await store.chat(id: id).map { $0.participants.contains(userId) } ?? false
        }
    }

    func changed(chatId: String, users: [String]) async {
        await cache.invalidate(users.map { "\(chatId):\($0)" })
    }
}
