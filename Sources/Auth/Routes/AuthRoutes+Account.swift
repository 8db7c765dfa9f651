import BSON
import Foundation
import Hummingbird
import ServiceKit

/// The caller's own account, and looking others up by email.
extension AuthRoutes {
    /// From the cache of public records (they never change while the account exists; a
    /// deletion drops its entry), so a signed-in client asking who it is reads no database.
    @Sendable func me(_ request: Request, context: ServiceRequestContext) async throws -> CachedResponse {
        let identity = try context.requireIdentity()
        guard let id = ObjectId(identity.userId),
              let answer = try await meAnswers.response(for: id.hex, prefetched: context.prefetched, load: {
                  try await users.find(id: id).map { Envelope("User fetched successfully", PublicUser($0)) }
              })
        else { throw APIError.notFound("User not found") }
        return answer
    }

    /// `GET /me`'s cached answer, read with the caller's token check.
    static func prefetch(_ meAnswers: ResponseCache) -> AuthenticationMiddleware<ServiceRequestContext>.Prefetch {
        { request, claims in
            guard request.method == .get, request.uri.path == mePath, let id = ObjectId(claims.userId) else { return nil }
            return meAnswers.fullKey(id.hex)
        }
    }

    /// Authenticated (the reference system left it open to anyone).
    @Sendable func userByEmail(_ request: Request, context: ServiceRequestContext) async throws -> UserByEmailResponse {
        _ = try context.requireIdentity()
        guard let raw = request.uri.queryParameters["emailId"] ?? request.uri.queryParameters["email"] else {
            throw APIError.badRequest("emailId is required", code: "missing_field")
        }
        let email = try EmailAddress.normalized(String(raw))
        guard let user = try await users.find(email: email) else { throw APIError.notFound("User not found") }
        return UserByEmailResponse(message: "User fetched successfully", userId: user._id.hex, data: PublicUser(user))
    }

    /// Needs the current password; ends every other session of the account.
    @Sendable func changePassword(_ request: Request, context: ServiceRequestContext) async throws -> Message {
        let identity = try context.requireIdentity()
        let body = try await request.decodeBody(as: ChangePasswordRequest.self, context: context)
        try Validation.password(body.newPassword, field: "newPassword")
        guard body.newPassword != body.oldPassword else {
            throw APIError.badRequest("newPassword must differ from oldPassword", code: "same_password")
        }
        let user = try await currentUser(context)
        // Guesses at the current password count like login attempts: a stolen access
        // token must not become a way to brute-force the password.
        try await throttle.count(ip: clientAddress.of(request, peer: context.remoteAddress), email: user.email)
        guard try await hasher.verify(body.oldPassword, against: user.passwordHash) else {
            throw APIError(.unauthorized, code: "wrong_password", message: "oldPassword is not the current password")
        }
        let now = self.now()
        guard try await users.updatePasswordHash(id: user._id, to: try await hasher.hash(body.newPassword), now: now) else {
            throw APIError.notFound("User not found")
        }
        let others = try await sessions.revokeAll(userId: user._id, except: identity.sid.flatMap(ObjectId.init), now: now)
        try await denyList.deny(others.denials)
        context.logger.info("password changed", metadata: ["userId": "\(user._id.hex)", "sessionsEnded": "\(Set(others.map(\.jti)).count)"])
        return Message("Password changed successfully")
    }

    /// Deletes the account (and, through `auth.user.deleted`, its profile, invites and
    /// chat memberships), ends all its sessions and clears the cookies.
    @Sendable func deleteMe(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        guard let id = ObjectId(identity.userId), try await users.delete(id: id, correlationId: context.requestId) else {
            throw APIError.notFound("User not found")
        }
        relay?.notify()
        await meAnswers.invalidate([id.hex])
        context.logger.info("account deleted", metadata: ["userId": "\(id.hex)"])
        // The account is gone whatever happens next; a token the deny-list missed is
        // refused at refresh (no user) and expires within the access lifetime.
        do {
            let live = try await sessions.revokeAll(userId: id, except: nil, now: self.now())
            try await denyList.deny(live.denials + [(identity.jti.value, identity.exp.value)])
        } catch {
            context.logger.error("sessions of a deleted account not revoked: \(error)", metadata: ["userId": "\(id.hex)"])
        }
        var response = try Message("Account deleted successfully").response(from: request, context: context)
        cookies.clear(on: &response)
        return response
    }

    private func currentUser(_ context: ServiceRequestContext) async throws -> User {
        let identity = try context.requireIdentity()
        guard let id = ObjectId(identity.userId), let user = try await users.find(id: id) else {
            throw APIError.notFound("User not found")
        }
        return user
    }
}
