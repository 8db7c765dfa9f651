import Foundation
import ServiceKit

/// The two lists a user sees — invites they sent, invites they received (each with its
/// status, newest first, as the reference listed them) — cached in Redis and dropped for
/// both users whenever an invite between them changes.
public struct InviteLists: Sendable {
    let invites: any InviteRepository
    let directory: any Directory
    let cache: JSONCache<[InviteView]>
    /// The newest this many of each list.
    static let limit = 200

    public enum Kind: String, Sendable { case sent, received }

    public func list(_ kind: Kind, for userId: String) async throws -> [InviteView] {
        try await cache.value(for: "\(kind.rawValue):\(userId)") {
            let found = kind == .sent
                ? try await invites.sent(by: userId, limit: Self.limit)
                : try await invites.received(by: userId, limit: Self.limit)
            return try await views(found)
        } ?? []
    }

    /// Invites with their two users filled in from the directory.
    func views(_ found: [Invite]) async throws -> [InviteView] {
        let users = try await directory.find(userIds: found.flatMap { [$0.fromUserId, $0.toUserId] })
        return found.map { InviteView($0, users: users) }
    }

    func invalidate(for userIds: [String]) async {
        await cache.invalidate(Set(userIds).flatMap { ["\(Kind.sent.rawValue):\($0)", "\(Kind.received.rawValue):\($0)"] })
    }
}
