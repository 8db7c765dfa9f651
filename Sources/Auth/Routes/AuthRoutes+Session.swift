import BSON
import Foundation
import Hummingbird
import Mongo
import ServiceKit

/// Signup, login, refresh, logout: where sessions start, go on and end.
extension AuthRoutes {
    @Sendable func signup(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let body = try await request.decodeBody(as: SignupRequest.self, context: context)
        let email = try EmailAddress.normalized(body.emailId)
        let firstName = try PersonName.normalized(body.firstName, field: "firstName")
        let lastName = try PersonName.normalized(body.lastName, field: "lastName")
        try Validation.password(body.password)
        let now = self.now()
        let user = User(
            _id: ObjectId(), email: email, firstName: firstName, lastName: lastName,
            passwordHash: try await hasher.hash(body.password), role: "user", createdAt: now, updatedAt: now)
        do {
            try await users.create(user, correlationId: context.requestId)
        } catch MongoError.duplicateKey {
            throw APIError.conflict("An account with this email already exists", code: "email_taken")
        }
        relay?.notify()
        context.logger.info("user signed up", metadata: ["userId": "\(user._id.hex)"])
        return try await startSession(for: user, message: "User registered successfully", status: .created, request: request, context: context)
    }

    @Sendable func login(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let body = try await request.decodeBody(as: LoginRequest.self, context: context)
        let email = try EmailAddress.normalized(body.emailId)
        try await throttle.count(ip: clientAddress.of(request, peer: context.remoteAddress), email: email)
        let user = try await users.find(email: email)
        // Same work and the same answer whether the email is unknown or the password wrong.
        let verified = try await hasher.verify(body.password, against: user?.passwordHash ?? decoyHash)
        guard let user, verified else { throw APIError.unauthorized("Invalid email or password") }
        await throttle.succeeded(email: email)
        return try await startSession(for: user, message: "Login successful", status: .ok, request: request, context: context)
    }

    /// Trades a refresh token for a new pair. A token that was already traded (outside
    /// the grace window) ends its whole session: someone else holds a copy.
    @Sendable func refresh(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        guard let token = try await presentedRefreshToken(request, context: context) else {
            throw APIError.unauthorized("A refresh token is required")
        }
        let now = self.now()
        // A refusal clears the cookies: a browser stops presenting a dead session.
        let invalid = APIError(.unauthorized, code: "unauthorized", message: "Invalid or expired refresh token", headers: cookies.clearing)
        guard RefreshToken.couldBeOurs(token) else { throw invalid }
        switch try await sessions.rotate(token: token, now: now) {
        case .invalid:
            throw invalid
        case .reused(let family, let userId):
            context.logger.warning("rotated refresh token presented again: session revoked",
                                   metadata: ["userId": "\(userId.hex)", "sessionId": "\(family.hex)"])
            try await denyList.deny(try await sessions.revoke(family: family, now: now).denials)
            throw APIError(.unauthorized, code: "refresh_token_reused", message: "This refresh token was already used; the session has been ended",
                           headers: cookies.clearing)
        case .rotated(let family, let userId):
            guard let user = try await users.find(id: userId) else {
                try await denyList.deny(try await sessions.revoke(family: family, now: now).denials)
                throw invalid
            }
            return try await issueTokens(for: user, family: family, message: "Token refreshed", status: .ok, request: request, context: context)
        }
    }

    /// Ends the caller's session (from its access token, its refresh token, or both) and
    /// clears the cookies. Answers 200 even with nothing to end: logging out is idempotent.
    @Sendable func logout(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let now = self.now()
        var families = Set<ObjectId>()
        if let sid = context.identity?.sid, let family = ObjectId(sid) { families.insert(family) }
        // A token that cannot be ours ends nothing: still 200.
        if let token = try await presentedRefreshToken(request, context: context), RefreshToken.couldBeOurs(token),
           let family = try await sessions.family(of: token) {
            families.insert(family)
        }
        var denials = context.identity.map { [($0.jti.value, $0.exp.value)] } ?? []
        for family in families { denials += try await sessions.revoke(family: family, now: now).denials }
        try await denyList.deny(denials)
        var response = try Message("Logged out successfully").response(from: request, context: context)
        cookies.clear(on: &response)
        return response
    }

    // MARK: helpers

    /// A new session for `user`: a fresh family.
    func startSession(for user: User, message: String, status: HTTPResponse.Status, request: Request, context: ServiceRequestContext) async throws -> Response {
        try await issueTokens(for: user, family: ObjectId(), message: message, status: status, request: request, context: context)
    }

    /// An access token and a refresh token in `family`, in the body and the cookies.
    private func issueTokens(for user: User, family: ObjectId, message: String, status: HTTPResponse.Status, request: Request, context: ServiceRequestContext) async throws -> Response {
        let now = self.now()
        let (access, claims) = try await issuer.issue(userId: user._id.hex, email: user.email, role: user.role, sessionId: family.hex, now: now)
        let refresh = RefreshToken.generate()
        try await sessions.add(token: refresh, family: family, userId: user._id, access: claims, now: now)
        let body = SessionResponse(message: message, data: SessionUser(user: PublicUser(user), token: access), access_token: access, expires_in: issuer.lifetimeSeconds, refresh_token: refresh)
        var response = try body.response(from: request, context: context)
        response.status = status
        cookies.set(access: access, refresh: refresh, on: &response)
        return response
    }

    /// The body's refresh token (Bearer clients), else the cookie.
    private func presentedRefreshToken(_ request: Request, context: ServiceRequestContext) async throws -> String? {
        let fromBody = try await request.decodeBodyIfPresent(as: RefreshRequest.self, context: context)?.refreshToken
        guard let token = fromBody ?? request.cookies[SessionCookies.refresh]?.value, !token.isEmpty else { return nil }
        return token
    }
}

extension [LiveAccessToken] {
    var denials: [(jti: String, expiresAt: Date)] { map { ($0.jti, $0.expiresAt) } }
}
