import Foundation
import Synchronization

/// Remembers the tokens `inner` verified, so a client's next request with the same token
/// costs a dictionary lookup instead of a signature check and two JSON decodes (the larger
/// part of a cached read's CPU). Only successes are kept; a remembered token still has its
/// expiry checked on every use, and is checked with the keys again after `maxAge`, so a
/// key auth retires stops working here within that (the JWKS itself is re-read every 5 min).
/// Revocation is not the verifier's business: the deny-list is asked on every request.
public final class VerifiedTokens: AccessTokenVerifier {
    let inner: any AccessTokenVerifier
    let capacity: Int
    let maxAge: Double
    let now: @Sendable () -> Double

    private struct Entry {
        let claims: AccessClaims
        let verifiedAt: Double

        /// Still good to answer from: checked within `maxAge` and not expired at `time`.
        func isFresh(at time: Double, maxAge: Double) -> Bool {
            time - verifiedAt < maxAge && claims.exp.value.timeIntervalSince1970 > time
        }
    }
    private let entries = Mutex([String: Entry]())

    /// `now`: seconds on any clock that matches `Date`'s (expiries are compared with it).
    public init(_ inner: any AccessTokenVerifier, capacity: Int = 10_000, maxAge: Double = 60,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.inner = inner
        self.capacity = capacity
        self.maxAge = maxAge
        self.now = now
    }

    public func verify(_ token: String) async throws -> AccessClaims {
        let time = now()
        let remembered = entries.withLock { entries -> AccessClaims? in
            guard let entry = entries[token] else { return nil }
            guard entry.isFresh(at: time, maxAge: maxAge) else {
                entries[token] = nil
                return nil
            }
            return entry.claims
        }
        if let remembered { return remembered }
        let claims = try await inner.verify(token)
        entries.withLock { entries in
            if entries.count >= capacity {
                // Full: what has aged out goes first; if that frees nothing, everything does
                // (one signature check each for the tokens in use, then remembered again).
                entries = entries.filter { $0.value.isFresh(at: time, maxAge: maxAge) }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = Entry(claims: claims, verifiedAt: time)
        }
        return claims
    }

    var count: Int { entries.withLock { $0.count } }
}
