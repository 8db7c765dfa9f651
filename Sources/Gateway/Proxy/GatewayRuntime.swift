import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceKit
import Synchronization

/// What every connection reads per request: the configuration in force (swapped whole
/// on SIGHUP), the rate limiter (kept across reloads), and which upstream instances
/// refused connections lately (passive health).
public final class GatewayRuntime: Sendable {
    private let current: NIOLockedValueBox<GatewayConfig>
    let limiter: RateLimiter
    let logger: Logger
    private let roundRobin = Atomic<Int>(0)
    private let failedUntil = Mutex<[String: Double]>([:])
    let startedAt = Date()
    let metrics = GatewayMetrics()

    public init(config: GatewayConfig, logger: Logger) {
        current = NIOLockedValueBox(config)
        limiter = RateLimiter(maxClients: config.limiterMaxClients)
        self.logger = logger
    }

    public var config: GatewayConfig { current.withLockedValue { $0 } }

    /// Swaps in a new configuration; connections pick it up at their next request.
    public func replace(with config: GatewayConfig) { current.withLockedValue { $0 = config } }

    /// The next instance for `route`, round robin, skipping those that failed within their
    /// `fail_timeout` unless all have (then the least recently failed is tried).
    func pickInstance(_ route: GatewayConfig.Route, excluding tried: Set<String>, now: Double) -> GatewayConfig.Address? {
        let candidates = route.upstreams.filter { !tried.contains($0.description) }
        guard !candidates.isEmpty else { return nil }
        let start = roundRobin.add(1, ordering: .relaxed).newValue
        let failures = failedUntil.withLock { $0 }
        for offset in 0..<candidates.count {
            let candidate = candidates[(start + offset) % candidates.count]
            if (failures[candidate.description] ?? 0) <= now { return candidate }
        }
        return candidates.min { (failures[$0.description] ?? 0) < (failures[$1.description] ?? 0) }
    }

    func markFailed(_ address: GatewayConfig.Address, for seconds: Double, now: Double) {
        failedUntil.withLock { $0[address.description] = now + seconds }
    }

    func markHealthy(_ address: GatewayConfig.Address) {
        _ = failedUntil.withLock { $0.removeValue(forKey: address.description) }
    }

    func isFailed(_ address: GatewayConfig.Address, now: Double) -> Bool {
        (failedUntil.withLock { $0[address.description] } ?? 0) > now
    }
}

/// Monotonic seconds, for rate limits and timers.
func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}
