import Events
import Foundation
import ServiceKit

/// How the request service follows accounts: the directory gains a user on
/// `auth.user.created`; on `auth.user.deleted` it forgets them and every invite to or
/// from them (their connections go with the accepted ones).
enum RequestEvents {
    static func register(on consumer: EventConsumer, directory: any Directory, invites: any InviteRepository, lists: InviteLists) {
        consumer.on(UserCreated.self) { event, context in
            let user = event.data
            try await directory.upsert(
                DirectoryEntry(_id: user.userId, email: user.email, firstName: user.firstName, lastName: user.lastName),
                session: context.session)
        }
        consumer.on(UserDeleted.self) { event, context in
            let userId = event.data.userId
            try await directory.remove(userId: userId, session: context.session)
            let removed = try await invites.removeAll(involving: userId, session: context.session)
            context.afterCommit { await lists.invalidate(for: [userId] + removed.flatMap { [$0.fromUserId, $0.toUserId] }) }
            context.logger.info("user forgotten", metadata: ["userId": "\(userId)", "invitesRemoved": "\(removed.count)"])
        }
    }
}
