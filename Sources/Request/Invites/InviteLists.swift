import Foundation
import Hummingbird
import ServiceKit

/// The two lists a user sees — invites they sent, invites they received (each with its
/// status, newest first, as the reference listed them) — whole answers cached in Redis per
/// list and status filter, and dropped for both users whenever an invite between them
/// changes.
public struct InviteLists: Sendable {
    let invites: any InviteRepository
    let directory: any Directory
    let cache: ResponseCache
    /// The newest this many of each list.
    static let limit = 200

    public enum Kind: String, Sendable, CaseIterable {
        case sent, received

        /// The route that reads the list.
        var path: String { "/invites/\(rawValue)" }

        init?(path: String) {
            guard let kind = Self.allCases.first(where: { $0.path == path }) else { return nil }
            self = kind
        }

        /// The reference's message for the list.
        var message: String {
            switch self {
            case .sent: "Sent requests retrieved successfully"
            case .received: "Received requests retrieved successfully"
            }
        }
    }

    /// The answer to a list read: `{message, data, count}`, only invites of `status` if given.
    func answer(_ kind: Kind, status: InviteStatus?, for userId: String, prefetched: PrefetchedRead?) async throws -> CachedResponse {
        let key = Self.key(kind, status, userId)
        if let hit = await cache.cached(key, prefetched: prefetched) { return hit }
        let found = kind == .sent
            ? try await invites.sent(by: userId, limit: Self.limit)
            : try await invites.received(by: userId, limit: Self.limit)
        let views = try await views(found).filter { status == nil || $0.status == status }
        return try await cache.store(key, InviteListResponse(message: kind.message, data: views))
    }

    /// The list a `GET /invites/sent|received[?status=]` will answer, read with the caller's
    /// token check.
    var prefetch: AuthenticationMiddleware<ServiceRequestContext>.Prefetch {
        let cache = cache
        return { request, claims in
            guard request.method == .get, let kind = Kind(path: request.uri.path) else { return nil }
            let raw = request.uri.queryParameters["status"]
            let status = raw.flatMap { InviteStatus(rawValue: String($0)) }
            guard raw == nil || status != nil else { return nil }  // refused by the route
            return cache.fullKey(Self.key(kind, status, claims.userId))
        }
    }

    static func key(_ kind: Kind, _ status: InviteStatus?, _ userId: String) -> String {
        "\(kind.rawValue):\(status?.rawValue ?? "all"):\(userId)"
    }

    /// Invites with their two users filled in from the directory.
    func views(_ found: [Invite]) async throws -> [InviteView] {
        let users = try await directory.find(userIds: found.flatMap { [$0.fromUserId, $0.toUserId] })
        return found.map { InviteView($0, users: users) }
    }

    func invalidate(for userIds: [String]) async {
        let statuses: [InviteStatus?] = [nil] + InviteStatus.allCases
        await cache.invalidate(Set(userIds).flatMap { userId in
            Kind.allCases.flatMap { kind in statuses.map { Self.key(kind, $0, userId) } }
        })
    }
}
