import Synchronization

/// NGINX's `limit_conn`, per client address (behind trusted proxies): how many of its
/// requests are in progress at once (one limiter), or how many WebSocket tunnels it holds
/// open (another). Shared by every connection and kept across reloads, like the rate limiter.
final class ConnectionLimiter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// A place for one request, or nil when `client` has `limit` in progress. The place is
    /// given back when the last reference to it goes: a path that forgets cannot lock a client out.
    func acquire(_ client: String, limit: Int) -> Slot? {
        let taken = counts.withLock { counts in
            let current = counts[client] ?? 0
            guard current < limit else { return false }
            counts[client] = current + 1
            return true
        }
        return taken ? Slot(limiter: self, client: client) : nil
    }

    fileprivate func release(_ client: String) {
        counts.withLock { counts in
            // Clients with nothing in progress take no room.
            let left = (counts[client] ?? 1) - 1
            counts[client] = left > 0 ? left : nil
        }
    }

    /// How many places `client` holds (tests).
    func held(by client: String) -> Int {
        counts.withLock { $0[client] ?? 0 }
    }

    /// One place; given back by `release()`, or at the latest when it is freed.
    final class Slot: Sendable {
        private let limiter: ConnectionLimiter
        private let client: String
        private let released = Atomic(false)

        fileprivate init(limiter: ConnectionLimiter, client: String) {
            self.limiter = limiter
            self.client = client
        }

        /// Gives the place back (once, whoever calls first).
        func release() {
            if !released.exchange(true, ordering: .acquiringAndReleasing) { limiter.release(client) }
        }

        deinit { release() }
    }
}
