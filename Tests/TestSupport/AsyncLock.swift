import Synchronization

/// A lock for async code that lets `permits` holders in at once (one: mutual exclusion).
/// Every test target runs in one process, so tests in different suites that stop or kill
/// the same fault server take the same lock and never pull the server from under each other.
public final class AsyncLock: Sendable {
    private let state: Mutex<(available: Int, waiters: [CheckedContinuation<Void, Never>])>

    public init(permits: Int = 1) {
        state = Mutex((max(1, permits), []))
    }

    public func withLock<T>(_ body: () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let proceed = state.withLock { state in
                guard state.available > 0 else {
                    state.waiters.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if proceed { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

extension TestServers {
    /// Held by every test that stops, kills or freezes the fault RabbitMQ.
    public static let faultAMQPLock = AsyncLock()
    /// Held by every test that stops or kills the fault Redis.
    public static let faultRedisLock = AsyncLock()
    /// Held while a test runs services of its own (each a MongoDB pool, consumers, a
    /// publisher): a few at once. All forty suites starting theirs together swamped the
    /// one test MongoDB (a Python server on two cores) until its clients timed out, while
    /// the fault suites, which set the run's length, would leave room for them anyway.
    public static let serviceStacks = AsyncLock(permits: 4)
}
