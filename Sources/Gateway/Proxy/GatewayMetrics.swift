import Synchronization

/// Counters for `GET /metrics` (Prometheus text format): requests by route and status,
/// and a latency histogram. Lock-free: every request bumps two atomics.
final class GatewayMetrics: Sendable {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        func add() { value.add(1, ordering: .relaxed) }
        var current: Int { value.load(ordering: .relaxed) }
    }

    /// Route names by index; the last is `-`, the gateway's own answers.
    let routes: [String]
    /// [route][status - 100]
    private let byStatus: [[Counter]]
    private let bounds: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]
    private let buckets: [Counter]
    private let count = Counter()
    private let microseconds = Atomic<Int>(0)

    init(routes: [String]) {
        self.routes = routes + ["-"]
        byStatus = self.routes.map { _ in (100..<600).map { _ in Counter() } }
        buckets = bounds.map { _ in Counter() }
    }

    func record(route index: Int, status: Int, seconds: Double) {
        let route = index < 0 ? routes.count - 1 : min(index, routes.count - 1)
        if (100..<600).contains(status) { byStatus[route][status - 100].add() }
        if let bucket = bounds.firstIndex(where: { seconds <= $0 }) { buckets[bucket].add() }
        count.add()
        microseconds.add(Int(seconds * 1e6), ordering: .relaxed)
    }

    func prometheusText() -> String {
        var lines = ["# HELP gateway_requests_total Requests answered, by route and status.", "# TYPE gateway_requests_total counter"]
        for (r, route) in routes.enumerated() {
            for (s, counter) in byStatus[r].enumerated() where counter.current > 0 {
                lines.append("gateway_requests_total{route=\"\(route)\",status=\"\(s + 100)\"} \(counter.current)")
            }
        }
        lines += ["# HELP gateway_request_seconds Time from request head to response end.", "# TYPE gateway_request_seconds histogram"]
        var cumulative = 0
        for (i, bound) in bounds.enumerated() {
            cumulative += buckets[i].current
            lines.append("gateway_request_seconds_bucket{le=\"\(bound)\"} \(cumulative)")
        }
        lines.append("gateway_request_seconds_bucket{le=\"+Inf\"} \(count.current)")
        lines.append("gateway_request_seconds_sum \(Double(microseconds.load(ordering: .relaxed)) / 1e6)")
        lines.append("gateway_request_seconds_count \(count.current)")
        return lines.joined(separator: "\n") + "\n"
    }
}
