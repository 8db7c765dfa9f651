import Synchronization

/// A mutual-exclusion lock for async code. Every test target runs in one process,
/// so tests in different suites that stop or kill the same fault server take it
/// first and never pull the server from under each other.
public final class AsyncLock: Sendable {
    private let state = Mutex<(locked: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    public func withLock<T>(_ body: () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let proceed = state.withLock { state in
                guard state.locked else {
                    state.locked = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.locked = false
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
}
