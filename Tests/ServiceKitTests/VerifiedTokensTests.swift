import Foundation
import Synchronization
import Testing
@testable import ServiceKit

/// The memory of verified tokens: a remembered token skips the signature check, but never
/// outlives its expiry or `maxAge`, failures are never remembered, and it stays bounded.
@Suite struct VerifiedTokensTests {
    /// Stands in for the signature check: counts its calls, refuses tokens named "forged".
    final class CountingVerifier: AccessTokenVerifier {
        let calls = Mutex(0)
        let expiry: Double
        init(expiry: Double) { self.expiry = expiry }
        func verify(_ token: String) async throws -> AccessClaims {
            calls.withLock { $0 += 1 }
            struct Refused: Error {}
            if token.hasPrefix("forged") { throw Refused() }
            return AccessClaims(sub: token, email: "\(token)@example.com", role: "user", iat: Date(timeIntervalSince1970: 0),
                                exp: Date(timeIntervalSince1970: expiry), jti: "jti-\(token)", sid: nil)
        }
        var count: Int { calls.withLock { $0 } }
    }

    final class Clock: Sendable {
        let time = Mutex(1_000.0)
        func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
        var now: Double { time.withLock { $0 } }
    }

    @Test func aTokenIsCheckedOnceThenRemembered() async throws {
        let inner = CountingVerifier(expiry: 2_000)
        let clock = Clock()
        let tokens = VerifiedTokens(inner, now: { clock.now })
        let first = try await tokens.verify("ada")
        let again = try await tokens.verify("ada")
        #expect(first == again && first.userId == "ada")
        #expect(inner.count == 1)
        _ = try await tokens.verify("bo")
        #expect(inner.count == 2, "another token is checked on its own")
    }

    @Test func anExpiredTokenIsCheckedAgainNotRemembered() async throws {
        let inner = CountingVerifier(expiry: 1_010)
        let clock = Clock()
        let tokens = VerifiedTokens(inner, maxAge: 60, now: { clock.now })
        _ = try await tokens.verify("ada")
        clock.advance(10)  // at its expiry
        _ = try await tokens.verify("ada")
        #expect(inner.count == 2, "past exp the inner verifier decides (the real one refuses)")
    }

    @Test func aRememberedTokenIsCheckedWithTheKeysAgainAfterMaxAge() async throws {
        let inner = CountingVerifier(expiry: 9_000)
        let clock = Clock()
        let tokens = VerifiedTokens(inner, maxAge: 60, now: { clock.now })
        _ = try await tokens.verify("ada")
        clock.advance(59)
        _ = try await tokens.verify("ada")
        #expect(inner.count == 1)
        clock.advance(1)
        _ = try await tokens.verify("ada")
        #expect(inner.count == 2)
    }

    @Test func aRefusedTokenIsNeverRemembered() async throws {
        let inner = CountingVerifier(expiry: 9_000)
        let tokens = VerifiedTokens(inner, now: { 1_000 })
        for _ in 0..<3 { await #expect(throws: (any Error).self) { try await tokens.verify("forged.x") } }
        #expect(inner.count == 3)
        #expect(tokens.count == 0)
    }

    @Test func itHoldsAtMostItsCapacity() async throws {
        let inner = CountingVerifier(expiry: 9_000)
        let tokens = VerifiedTokens(inner, capacity: 100, now: { 1_000 })
        for index in 0..<1_000 { _ = try await tokens.verify("user\(index)") }
        #expect(tokens.count <= 100 && tokens.count > 0)
        _ = try await tokens.verify("user999")
        #expect(inner.count == 1_000, "the newest is still remembered")
    }

    @Test func everyCheckRemembersThroughOneMemory() {
        let inner = CountingVerifier(expiry: 9_000)
        let check = AccessTokenCheck(verifier: VerifiedTokens(inner), denyList: nil)
        #expect((check.verifier as? VerifiedTokens)?.inner is CountingVerifier, "not wrapped twice")
        #expect(AccessTokenCheck(verifier: inner, denyList: nil).verifier is VerifiedTokens)
    }
}
