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
        try await claims(of: token, prefetching: nil).claims
    }

    /// The token's claims as `claims(of:)` gives them and, read in the same Redis round trip
    /// as the deny-list check, the value under the key `prefetch` names for the caller (a
    /// route's cached answer): a cached read costs one round trip, not two.
    public func claims(of token: String, prefetching prefetch: ((AccessClaims) -> String?)?) async throws -> (claims: AccessClaims?, prefetched: PrefetchedRead?) {
        let claims: AccessClaims
        do {
            claims = try await verifier.verify(token)
        } catch let error as VerificationKeysUnavailable {
            throw error
        } catch {
            return (nil, nil)
        }
        guard let denyList else { return (claims, nil) }
        if let key = prefetch?(claims) {
            let (denied, value) = await denyList.isDenied(claims.jti.value, alsoReading: key)
            return denied ? (nil, nil) : (claims, value.map { PrefetchedRead(key: key, value: $0) })
        }
        return await denyList.isDenied(claims.jti.value) ? (nil, nil) : (claims, nil)
    }
}

/// A Redis value read for the route in the deny-list check's round trip: `value` is what
/// `key` held then (nil: nothing).
public struct PrefetchedRead: Sendable {
    public let key: String
    public let value: [UInt8]?
}
