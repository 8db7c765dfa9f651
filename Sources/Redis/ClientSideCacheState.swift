/// What a `ClientSideCache` holds and when it may answer from it: pure logic, time passed in.
///
/// The rules that keep a local copy from ever outliving the Redis value it copies:
/// - nothing is answered locally unless the tracking connection is live (`linkUp`); going
///   down drops everything;
/// - a value read from Redis is kept only if no invalidation of its key (nor of everything)
///   came between the moment its read was sent (the lookup's `ticket`) and its arrival: a
///   change Redis announced while the read was under way would otherwise be lost. The last
///   `recentLimit` invalidations are remembered to tell; a read older than those is not kept;
/// - an entry lives at most `maxAge`, and the whole cache is dropped when it would pass
///   `maxEntries` or `maxBytes`.
struct ClientSideCacheState {
    typealias Instant = ContinuousClock.Instant

    enum Lookup: Equatable {
        /// The value as Redis has it (nil: no such key).
        case hit([UInt8]?)
        /// Not here: read Redis, then `fill` with this ticket (nil: do not keep what is read).
        case miss(ticket: UInt64?)
    }

    private struct Entry {
        let value: [UInt8]?
        let storedAt: Instant
    }

    let maxAge: Duration
    let maxEntries: Int
    let maxBytes: Int
    let recentLimit: Int
    private var entries: [String: Entry] = [:]
    private var bytes = 0
    /// Moves on with every invalidation, so a read sent before one of its key is not kept after it.
    private(set) var generation: UInt64 = 0
    /// The latest invalidations, oldest first, with the generation each started (nil: every key).
    private var recent: [(generation: UInt64, key: String?)] = []
    private(set) var live = false

    init(maxAge: Duration, maxEntries: Int, maxBytes: Int, recentLimit: Int = 1024) {
        self.maxAge = maxAge
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.recentLimit = recentLimit
    }

    var count: Int { entries.count }

    mutating func lookup(_ key: String, now: Instant) -> Lookup {
        guard live else { return .miss(ticket: nil) }
        if let entry = entries[key] {
            if now - entry.storedAt < maxAge { return .hit(entry.value) }
            remove(key)
        }
        return .miss(ticket: generation)
    }

    mutating func fill(_ key: String, _ value: [UInt8]?, ticket: UInt64, now: Instant) {
        guard live, !changed(key, since: ticket) else { return }
        let size = key.utf8.count + (value?.count ?? 0)
        remove(key)
        if entries.count + 1 > maxEntries || bytes + size > maxBytes {
            entries.removeAll(keepingCapacity: true)
            bytes = 0
            guard size <= maxBytes else { return }
        }
        entries[key] = Entry(value: value, storedAt: now)
        bytes += size
    }

    /// Redis (or this process, writing) says these keys changed.
    mutating func invalidate(_ keys: some Sequence<String>) {
        for key in keys {
            remember(key)
            remove(key)
        }
    }

    /// Redis says everything may have changed (FLUSHALL, FLUSHDB).
    mutating func invalidateAll() {
        remember(nil)
        entries.removeAll(keepingCapacity: true)
        bytes = 0
    }

    private mutating func remember(_ key: String?) {
        generation &+= 1
        if recent.count == recentLimit { recent.removeFirst(recentLimit / 2) }
        recent.append((generation, key))
    }

    /// Whether `key` (or everything) was invalidated after `ticket`, or may have been: the
    /// invalidations since then are no longer all remembered.
    private func changed(_ key: String, since ticket: UInt64) -> Bool {
        guard ticket != generation else { return false }
        guard let oldest = recent.first, oldest.generation <= ticket &+ 1 else { return true }
        return recent.reversed().prefix { $0.generation > ticket }.contains { $0.key == nil || $0.key == key }
    }

    /// The tracking connection is subscribed: from now on every change is heard.
    mutating func linkUp() {
        invalidateAll()
        live = true
    }

    /// The tracking connection is gone or silent: changes may be missed, so nothing is kept.
    mutating func linkDown() {
        invalidateAll()
        live = false
    }

    private mutating func remove(_ key: String) {
        if let old = entries.removeValue(forKey: key) { bytes -= key.utf8.count + (old.value?.count ?? 0) }
    }
}
