import Events
import Foundation

/// How chat follows the other services: an accepted invite connects two users; a
/// rejected one changes nothing here (consumed so it does not pile up); a deleted
/// account leaves every chat and connection.
enum ChatEvents {
    static func register(on consumer: EventConsumer, store: any ChatStore, membership: Membership, live: LiveMessages) {
        consumer.on(RequestAccepted.self) { event, context in
            try await store.connect(event.data.fromUserId, event.data.toUserId, now: Date(), session: context.session)
            context.logger.info("users connected", metadata: ["requestId": "\(event.data.requestId)"])
        }
        consumer.on(RequestRejected.self) { event, context in
            context.logger.debug("invite rejected", metadata: ["requestId": "\(event.data.requestId)"])
        }
        consumer.on(UserDeleted.self) { event, context in
            let userId = event.data.userId
            let chats = try await store.forget(userId: userId, session: context.session)
            context.afterCommit {
                for chatId in chats {
                    await membership.changed(chatId: chatId, users: [userId])
                    live.evict(userId, from: chatId)
                }
            }
            context.logger.info("user left every chat", metadata: ["userId": "\(userId)", "chats": "\(chats.count)"])
        }
    }
}
