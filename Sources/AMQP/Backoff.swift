import Foundation

/// Reconnection delays: 100 ms, doubling, capped, with jitter so replicas do not reconnect in step.
struct Backoff {
    let max: Double
    private(set) var current = 0.1

    init(max: Double) { self.max = max }

    mutating func next() -> Double {
        let delay = current * Double.random(in: 0.8...1.2)
        current = Swift.min(current * 2, max)
        return delay
    }

    mutating func reset() { current = 0.1 }
}
