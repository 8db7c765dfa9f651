/// The one check of a presented access token every service runs, over HTTP or a socket:
/// verified with auth's keys (a token verified before is remembered: `VerifiedTokens`) and
/// not on the deny-list.
public struct AccessTokenCheck: Sendable {
    let verifier: any AccessTokenVerifier
    let denyList: TokenDenyList?

    public init(verifier: any AccessTokenVerifier, denyList: TokenDenyList?) {
        self.verifier = verifier is VerifiedTokens ? verifier : VerifiedTokens(verifier)
        self.denyList = denyList
    }

    /// The token's claims; nil when it is forged, expired or revoked. Throws
    /// `VerificationKeysUnavailable` while auth's keys have not been fetched yet.
    public func claims(of token: String) async throws -> AccessClaims? {
        let claims: AccessClaims
        do {
            claims = try await verifier.verify(token)
        } catch let error as VerificationKeysUnavailable {
            throw error
        } catch {
            return nil
        }
        if let denyList, await denyList.isDenied(claims.jti.value) { return nil }
        return claims
    }
}
