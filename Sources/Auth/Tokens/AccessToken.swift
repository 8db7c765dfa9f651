import Foundation
import JWTKit

/// The claims of an access token: who (`sub`, `email`, `role`), when (`iat`, `exp`),
/// and which token (`jti`, for the deny-list after logout).
public struct AccessClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var email: String
    public var role: String
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    public var jti: IDClaim

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Signs access tokens with the active key.
public struct TokenIssuer: Sendable {
    public let keys: SigningKeys
    public let lifetimeSeconds: Int

    public init(keys: SigningKeys, lifetimeSeconds: Int) {
        self.keys = keys
        self.lifetimeSeconds = lifetimeSeconds
    }

    public func issue(userId: String, email: String, role: String, now: Date = Date()) async throws -> (token: String, claims: AccessClaims) {
        // Whole seconds: a fractional `exp` does not round-trip exactly.
        let issued = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let claims = AccessClaims(
            sub: SubjectClaim(value: userId), email: email, role: role, iat: IssuedAtClaim(value: issued),
            exp: ExpirationClaim(value: issued.addingTimeInterval(TimeInterval(lifetimeSeconds))),
            jti: IDClaim(value: UUID().uuidString.lowercased()))
        let token = try await keys.collection.sign(claims, kid: JWKIdentifier(string: keys.activeKid))
        return (token, claims)
    }

    /// The claims of a valid token signed by one of our keys; throws for anything else.
    public func verify(_ token: String) async throws -> AccessClaims {
        try await keys.collection.verify(token, as: AccessClaims.self)
    }
}
