import Foundation
import JWTKit
import ServiceKit

/// Signs access tokens with the active key and verifies them with any of ours.
public struct TokenIssuer: AccessTokenVerifier {
    public let keys: SigningKeys
    public let lifetimeSeconds: Int

    public init(keys: SigningKeys, lifetimeSeconds: Int) {
        self.keys = keys
        self.lifetimeSeconds = lifetimeSeconds
    }

    /// A token for `userId` in session `sessionId` (the refresh-token family).
    public func issue(userId: String, email: String, role: String, sessionId: String?, now: Date = Date()) async throws -> (token: String, claims: AccessClaims) {
        // Whole seconds: a fractional `exp` does not round-trip exactly.
        let issued = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let claims = AccessClaims(
            sub: userId, email: email, role: role, iat: issued,
            exp: issued.addingTimeInterval(TimeInterval(lifetimeSeconds)),
            jti: UUID().uuidString.lowercased(), sid: sessionId)
        let token = try await keys.collection.sign(claims, kid: JWKIdentifier(string: keys.activeKid))
        return (token, claims)
    }

    public func verify(_ token: String) async throws -> AccessClaims {
        try await keys.collection.verify(token, as: AccessClaims.self)
    }
}
