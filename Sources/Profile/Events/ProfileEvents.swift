import Events
import Foundation
import ServiceKit

/// How profiles follow accounts: made from `auth.user.created`, removed (with the picture)
/// on `auth.user.deleted`. Each handler runs in the event's transaction, once per event.
enum ProfileEvents {
    static func register(on consumer: EventConsumer, profiles: any ProfileRepository, pictures: PictureStore, cache: ResponseCache) {
        consumer.on(UserCreated.self) { event, context in
            let user = event.data
            try await profiles.createFromAccount(userId: user.userId, firstName: user.firstName, lastName: user.lastName, at: event.occurredAt,
                                                 session: context.session)
            context.logger.info("profile created", metadata: ["userId": "\(user.userId)"])
        }
        consumer.on(UserDeleted.self) { event, context in
            let userId = event.data.userId
            if let removed = try await profiles.delete(userId: userId, session: context.session), let picture = removed.picture {
                // Not part of the transaction: if it rolls back, the retry removes the file again (a no-op).
                try await pictures.remove(picture)
            }
            context.afterCommit { await cache.invalidate([userId]) }
            context.logger.info("profile removed", metadata: ["userId": "\(userId)"])
        }
    }
}
