/// What one server connection does when its server drains (SIGTERM, or a test's shutdown),
/// as a state machine: the handler feeds it events and carries out the actions it returns.
///
/// A connection that never sent a byte is closed at once: nothing is lost, and such a
/// connection (a client that connected and waits, a pooled connection not used yet) would
/// otherwise hold the server's shutdown forever — Hummingbird's own drain only knows
/// connections that have begun a request. Any other connection is left to finish (its
/// HTTP handler closes it after the response in flight; a WebSocket is sent a close), and
/// is cut when the grace period ends.
struct DrainState: Sendable {
    enum Action: Equatable, Sendable {
        case none
        case closeNow
        /// Start the grace timer; close when it fires.
        case closeAfterGrace
    }

    private(set) var hasReadBytes = false
    private(set) var isDraining = false

    /// Bytes arrived from the client.
    mutating func read() { hasReadBytes = true }

    /// The server asked its connections to wind down.
    mutating func drain() -> Action {
        guard !isDraining else { return .none }
        isDraining = true
        return hasReadBytes ? .closeAfterGrace : .closeNow
    }
}
