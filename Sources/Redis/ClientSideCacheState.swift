/// What a `ClientSideCache` holds and when it may answer from it: pure logic, time passed in.
///
/// The rules that keep a local copy from ever outliving the Redis value it copies:
/// - nothing is answered locally unless the tracking connection is live (`linkUp`); going
///   down drops everything;
/// - a value read from Redis is kept only if no invalidation came between the moment its
///   read was sent (the lookup's `ticket`) and its arrival: a change Redis announced while
///   the read was under way would otherwise be lost;
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
    private var entries: [String: Entry] = [:]
    private var bytes = 0
    /// Moves on with every invalidation, so a read sent before one is not kept after it.
    private(set) var generation: UInt64 = 0
    private(set) var live = false

    init(maxAge: Duration, maxEntries: Int, maxBytes: Int) {
        self.maxAge = maxAge
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
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
        guard live, ticket == generation else { return }
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
        generation &+= 1
        for key in keys { remove(key) }
    }

    /// Redis says everything may have changed (FLUSHALL, FLUSHDB).
    mutating func invalidateAll() {
        generation &+= 1
        entries.removeAll(keepingCapacity: true)
        bytes = 0
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
