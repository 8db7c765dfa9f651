import Gateway
import Testing

/// The limiter's arithmetic, with time given by the test (pure logic).
@Suite struct RateLimiterTests {
    let limit = GatewayConfig.RateLimit(perSecond: 10, burst: 20, nodelay: true)

    @Test func aBurstOf21PassesAndThe22ndIsRefused() {
        let limiter = RateLimiter(maxClients: 1000)
        for i in 1...21 { #expect(limiter.check("a", limit: limit, now: 100) == .allow(delaySeconds: 0), "request \(i)") }
        #expect(limiter.check("a", limit: limit, now: 100) == .reject(retryAfterSeconds: 1))
        // 10 r/s: after 100 ms there is room for exactly one more.
        #expect(limiter.check("a", limit: limit, now: 100.1) == .allow(delaySeconds: 0))
        #expect(limiter.check("a", limit: limit, now: 100.1) == .reject(retryAfterSeconds: 1))
        // After the whole burst has drained (2 s), 21 pass again.
        for _ in 1...21 { #expect(limiter.check("a", limit: limit, now: 102.2) == .allow(delaySeconds: 0)) }
    }

    @Test func clientsAreLimitedSeparately() {
        let limiter = RateLimiter(maxClients: 1000)
        for _ in 1...22 { _ = limiter.check("a", limit: limit, now: 5) }
        #expect(limiter.check("a", limit: limit, now: 5) != .allow(delaySeconds: 0))
        #expect(limiter.check("b", limit: limit, now: 5) == .allow(delaySeconds: 0))
    }

    @Test func withoutNodelayTheBurstIsQueuedAndRetryAfterCountsTheWait() {
        let limiter = RateLimiter(maxClients: 1000)
        let queued = GatewayConfig.RateLimit(perSecond: 2, burst: 3, nodelay: false)
        #expect(limiter.check("k", limit: queued, now: 0) == .allow(delaySeconds: 0))
        #expect(limiter.check("k", limit: queued, now: 0) == .allow(delaySeconds: 0.5))
        #expect(limiter.check("k", limit: queued, now: 0) == .allow(delaySeconds: 1))
        #expect(limiter.check("k", limit: queued, now: 0) == .allow(delaySeconds: 1.5))
        #expect(limiter.check("k", limit: queued, now: 0) == .reject(retryAfterSeconds: 1))
        let strict = GatewayConfig.RateLimit(perSecond: 1.0 / 60, burst: 0, nodelay: true)
        #expect(limiter.check("m", limit: strict, now: 0) == .allow(delaySeconds: 0))
        #expect(limiter.check("m", limit: strict, now: 1) == .reject(retryAfterSeconds: 59))
    }

    @Test func memoryStaysBoundedWhateverTheNumberOfClients() {
        let limiter = RateLimiter(maxClients: 1600)
        for i in 0..<50_000 { _ = limiter.check("client-\(i)", limit: limit, now: Double(i) / 1e6) }
        #expect(limiter.trackedClients <= 1600)
        // A client that is being limited is kept while others come and go, as long as it is not drained.
        let busy = RateLimiter(maxClients: 1600)
        for _ in 1...22 { _ = busy.check("busy", limit: limit, now: 0) }
        for i in 0..<1000 { _ = busy.check("idle-\(i)", limit: limit, now: 0.001) }
        #expect(busy.check("busy", limit: limit, now: 0.002) == .reject(retryAfterSeconds: 1))
    }
}
