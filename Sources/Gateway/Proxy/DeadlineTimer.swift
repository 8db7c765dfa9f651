import NIOCore

/// A connection's one deadline at a time (its next request head, or the upstream's
/// response), on one timer. Moving the deadline later schedules nothing: when the timer
/// fires early it re-arms for what is left, so a busy keep-alive connection costs about
/// one timer event per timeout period instead of two schedules and two cancels per request.
/// What passes is a `Kind`, handed to the one handler given at the start: setting a
/// deadline allocates nothing.
final class DeadlineTimer<Kind> {
    let eventLoop: any EventLoop
    private var deadline: Double?
    private var kind: Kind?
    private var scheduledFor: Double?
    private var task: Scheduled<Void>?
    private let passed: (Kind) -> Void

    init(eventLoop: any EventLoop, passed: @escaping (Kind) -> Void) {
        self.eventLoop = eventLoop
        self.passed = passed
    }

    /// Hands `kind` to the handler in `seconds` unless `clear()` or another `set` comes first.
    func set(in seconds: Double, _ kind: Kind) {
        let at = monotonicSeconds() + seconds
        deadline = at
        self.kind = kind
        if let scheduledFor, scheduledFor <= at { return }
        task?.cancel()
        schedule(at)
    }

    func clear() {
        deadline = nil
        kind = nil
    }

    func cancel() {
        clear()
        task?.cancel()
        task = nil
        scheduledFor = nil
    }

    private func schedule(_ at: Double) {
        scheduledFor = at
        let delay = max(0, at - monotonicSeconds())
        task = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) { [weak self] in self?.fire() }
    }

    private func fire() {
        scheduledFor = nil
        task = nil
        guard let deadline else { return }
        if monotonicSeconds() >= deadline {
            let due = kind
            clear()
            if let due { passed(due) }
        } else {
            schedule(deadline)
        }
    }
}
