import Synchronization

/// NGINX `limit_req` for many clients at once: per key, an "excess" that each request
/// raises by one and time drains at the route's rate. A request that would take the
/// excess over `burst` is refused; one within it is served — at once with `nodelay`,
/// else after `excess / rate` seconds, as NGINX queues it.
///
/// Memory is bounded: at most `maxClients` keys are kept. When a shard is full, keys
/// whose excess has drained (they are the same as new ones) go first; if none has, an
/// eighth of the shard is dropped, which forgets those clients' recent requests.
public final class RateLimiter: Sendable {
    public enum Decision: Equatable, Sendable {
        /// Serve after `delaySeconds` (0 with nodelay or no excess).
        case allow(delaySeconds: Double)
        case reject(retryAfterSeconds: Int)
    }

    /// Integer units, as NGINX has them (but finer, so `1r/m` stays exact enough): the
    /// excess in millionths of a request, times in milliseconds.
    struct Entry {
        var excess: Int64
        var last: Int64
        /// When the excess is back to zero: the entry can be forgotten from then on.
        var drainedAt: Int64
    }

    /// Sharded so that requests of different clients rarely wait for the same lock.
    final class Shard: Sendable {
        let entries = Mutex<[Key: Entry]>([:])
    }

    private let shards: [Shard]
    let capacityPerShard: Int

    public init(maxClients: Int, shardCount: Int = 16) {
        shards = (0..<shardCount).map { _ in Shard() }
        capacityPerShard = max(1, maxClients / shardCount)
    }

    /// Whose requests are counted together: a client on a route (the two strings as they are,
    /// not joined into a new one per request).
    struct Key: Hashable {
        let zone: String
        let client: String
    }

    /// Counts a request of `client` in `zone` (a route's prefix) at `now` (seconds, any
    /// monotonic origin) against `limit`.
    public func check(_ client: String, zone: String = "", limit: GatewayConfig.RateLimit, now: Double) -> Decision {
        let key = Key(zone: zone, client: client)
        let nowMs = Int64((now * 1000).rounded())
        let rate = max(1, Int64((limit.perSecond * Self.unit).rounded()))  // millionths of a request per second
        let burst = Int64(limit.burst) * Int64(Self.unit)
        let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
        return shard.entries.withLock { entries in
            guard let entry = entries[key] else {
                if entries.count >= capacityPerShard { Self.evict(&entries, now: nowMs, capacity: capacityPerShard) }
                entries[key] = Entry(excess: 0, last: nowMs, drainedAt: nowMs)
                return .allow(delaySeconds: 0)
            }
            let elapsed = max(0, nowMs - entry.last)
            let excess = max(0, entry.excess - rate * elapsed / 1000 + Int64(Self.unit))
            if excess > burst {
                let waitMs = (excess - burst) * 1000 / rate
                return .reject(retryAfterSeconds: max(1, Int((Double(waitMs) / 1000).rounded(.up))))
            }
            entries[key] = Entry(excess: excess, last: nowMs, drainedAt: nowMs + excess * 1000 / rate)
            return .allow(delaySeconds: limit.nodelay ? 0 : Double(excess) / Double(rate))
        }
    }

    static let unit = 1_000_000.0

    /// How many keys are kept now (for tests and metrics).
    public var trackedClients: Int { shards.reduce(0) { $0 + $1.entries.withLock { $0.count } } }

    private static func evict(_ entries: inout [Key: Entry], now: Int64, capacity: Int) {
        entries = entries.filter { $0.value.drainedAt > now }
        guard entries.count >= capacity else { return }
        for key in entries.keys.prefix(max(1, capacity / 8)) { entries.removeValue(forKey: key) }
    }
}
