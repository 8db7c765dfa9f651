import NIOCore

/// A connection's one deadline at a time (its next request head, or the upstream's
/// response), on one timer. Moving the deadline later schedules nothing: when the timer
/// fires early it re-arms for what is left, so a busy keep-alive connection costs about
/// one timer event per timeout period instead of two schedules and two cancels per request.
final class DeadlineTimer {
    let eventLoop: any EventLoop
    private var deadline: Double?
    private var action: (() -> Void)?
    private var scheduledFor: Double?
    private var task: Scheduled<Void>?

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    /// Runs `action` in `seconds` unless `clear()` or another `set` comes first.
    func set(in seconds: Double, _ action: @escaping () -> Void) {
        let at = monotonicSeconds() + seconds
        deadline = at
        self.action = action
        if let scheduledFor, scheduledFor <= at { return }
        task?.cancel()
        schedule(at)
    }

    func clear() {
        deadline = nil
        action = nil
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
            let due = action
            clear()
            due?()
        } else {
            schedule(deadline)
        }
    }
}
