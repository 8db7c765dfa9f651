import Synchronization

/// NGINX's `limit_conn`, per client address (behind trusted proxies): how many of its
/// requests are in progress at once, and how many WebSocket tunnels it holds open. Shared
/// by every connection and kept across reloads, like the rate limiter.
final class ConnectionLimiter: Sendable {
    private struct Counts {
        var requests = 0
        var tunnels = 0
    }
    private let counts = Mutex<[String: Counts]>([:])

    enum Refusal: Equatable {
        case requests(limit: Int)
        case tunnels(limit: Int)
    }

    /// A slot for one request (and, for a WebSocket upgrade, one tunnel), or why not. The
    /// slot is given back when the last reference to it goes: a path that forgets to
    /// release cannot lock a client out.
    func acquire(_ client: String, tunnel: Bool, requestLimit: Int?, tunnelLimit: Int?) -> Result<Slot, RefusalError> {
        let refusal: Refusal? = counts.withLock { counts in
            var entry = counts[client] ?? Counts()
            if let requestLimit, entry.requests >= requestLimit { return .requests(limit: requestLimit) }
            if tunnel, let tunnelLimit, entry.tunnels >= tunnelLimit { return .tunnels(limit: tunnelLimit) }
            entry.requests += 1
            if tunnel { entry.tunnels += 1 }
            counts[client] = entry
            return nil
        }
        if let refusal { return .failure(RefusalError(refusal: refusal)) }
        return .success(Slot(limiter: self, client: client, tunnel: tunnel))
    }

    fileprivate func release(_ client: String, tunnel: Bool) {
        counts.withLock { counts in
            guard var entry = counts[client] else { return }
            entry.requests -= 1
            if tunnel { entry.tunnels -= 1 }
            // Clients with nothing in progress take no room.
            counts[client] = entry.requests <= 0 && entry.tunnels <= 0 ? nil : entry
        }
    }

    /// What the limiter counts for `client` (tests).
    func inProgress(_ client: String) -> (requests: Int, tunnels: Int) {
        counts.withLock { counts in counts[client].map { ($0.requests, $0.tunnels) } ?? (0, 0) }
    }

    struct RefusalError: Error {
        let refusal: Refusal
    }

    /// One request's (or tunnel's) place; released when it is freed.
    final class Slot: Sendable {
        private let limiter: ConnectionLimiter
        private let client: String
        private let tunnel: Bool

        fileprivate init(limiter: ConnectionLimiter, client: String, tunnel: Bool) {
            self.limiter = limiter
            self.client = client
            self.tunnel = tunnel
        }

        deinit { limiter.release(client, tunnel: tunnel) }
    }
}
