import Logging
import Synchronization

/// A warning logged at most once per interval: a dependency that is down would otherwise
/// write one line per request.
public final class ThrottledWarning: Sendable {
    let logger: Logger
    let interval: Duration
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    public init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.interval = interval
    }

    public func callAsFunction(_ message: @autoclosure () -> String) {
        let now = ContinuousClock.now
        let due = last.withLock { last in
            if let l = last, now - l < interval { return false }
            last = now
            return true
        }
        if due { logger.warning("\(message())") }
    }
}
