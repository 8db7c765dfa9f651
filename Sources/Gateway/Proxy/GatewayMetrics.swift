import Synchronization

/// Counters for `GET /metrics` (Prometheus text format).
final class GatewayMetrics: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    private let latencyBuckets: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]
    private let latency = Mutex<(buckets: [Int], sum: Double, count: Int)>(([Int](repeating: 0, count: 8), 0, 0))

    func record(route: String, status: Int, seconds: Double) {
        counts.withLock { $0["\(route)|\(status)", default: 0] += 1 }
        latency.withLock { state in
            for (i, bound) in latencyBuckets.enumerated() where seconds <= bound { state.buckets[i] += 1 }
            state.sum += seconds
            state.count += 1
        }
    }

    func prometheusText() -> String {
        var lines = ["# HELP gateway_requests_total Requests answered, by route and status.", "# TYPE gateway_requests_total counter"]
        for (key, value) in counts.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
            lines.append("gateway_requests_total{route=\"\(parts[0])\",status=\"\(parts[1])\"} \(value)")
        }
        let state = latency.withLock { $0 }
        lines += ["# HELP gateway_request_seconds Time from request head to response end.", "# TYPE gateway_request_seconds histogram"]
        for (i, bound) in latencyBuckets.enumerated() { lines.append("gateway_request_seconds_bucket{le=\"\(bound)\"} \(state.buckets[i])") }
        lines.append("gateway_request_seconds_bucket{le=\"+Inf\"} \(state.count)")
        lines.append("gateway_request_seconds_sum \(state.sum)")
        lines.append("gateway_request_seconds_count \(state.count)")
        return lines.joined(separator: "\n") + "\n"
    }
}
