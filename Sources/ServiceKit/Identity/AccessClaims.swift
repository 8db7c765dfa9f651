import Foundation
import JWTKit

/// The claims of an access token: who (`sub`, `email`, `role`), when (`iat`, `exp`),
/// which token (`jti`, for the deny-list after logout) and which session (`sid`, the
/// refresh-token family it came from).
public struct AccessClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var email: String
    public var role: String
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    public var jti: IDClaim
    public var sid: String?

    public init(sub: String, email: String, role: String, iat: Date, exp: Date, jti: String, sid: String?) {
        self.sub = SubjectClaim(value: sub)
        self.email = email
        self.role = role
        self.iat = IssuedAtClaim(value: iat)
        self.exp = ExpirationClaim(value: exp)
        self.jti = IDClaim(value: jti)
        self.sid = sid
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }

    /// The caller's user id.
    public var userId: String { sub.value }
}

/// Checks an access token's signature and expiry and returns its claims; throws for
/// anything else. Auth verifies with its own keys, every other service with the JWKS.
public protocol AccessTokenVerifier: Sendable {
    func verify(_ token: String) async throws -> AccessClaims
}

/// Verification could not be attempted: no keys yet (auth unreachable at start).
public struct VerificationKeysUnavailable: Error {}
