import Synchronization

/// The continuation of one `publish` call, resumed exactly once: by the broker's
/// confirm, a failure, or the caller's cancellation, whichever comes first.
final class Completion: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Void, any Error>?, done: Bool)>((nil, false))

    /// Takes the continuation; false (and the caller resumes it) if it was cancelled already.
    func install(_ continuation: CheckedContinuation<Void, any Error>) -> Bool {
        state.withLock { state in
            guard !state.done else { return false }
            state.continuation = continuation
            return true
        }
    }

    var isDone: Bool { state.withLock { $0.done } }

    func succeed() { take()?.resume() }
    func fail(_ error: any Error) { take()?.resume(throwing: error) }

    private func take() -> CheckedContinuation<Void, any Error>? {
        state.withLock { state in
            state.done = true
            defer { state.continuation = nil }
            return state.continuation
        }
    }
}
