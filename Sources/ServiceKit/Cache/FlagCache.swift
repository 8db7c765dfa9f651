import Logging
import Redis

/// Yes-or-no answers (may this user use this chat?) cached in Redis as `1` or `0`: read on
/// every message, so nothing is decoded. With Redis down every answer comes from the
/// database (`CacheEntries`).
public struct FlagCache: Sendable {
    let entries: CacheEntries

    public init(redis: RedisClient, prefix: String, ttlSeconds: Int, logger: Logger) {
        entries = CacheEntries(redis: redis, prefix: prefix, ttlSeconds: ttlSeconds, logger: logger)
    }

    /// The cached answer, else `load()`'s, which is then cached.
    public func value(for key: String, load: () async throws -> Bool) async throws -> Bool {
        let fullKey = entries.fullKey(key)
        switch await entries.read(fullKey) {
        case [UInt8(ascii: "1")]?: return true
        case [UInt8(ascii: "0")]?: return false
        default: break  // a miss (or not ours: answered afresh, then overwritten)
        }
        let value = try await load()
        await entries.write(fullKey, [value ? UInt8(ascii: "1") : UInt8(ascii: "0")])
        return value
    }

    /// Drops entries after a change (see `CacheEntries.invalidate`).
    public func invalidate(_ keys: [String]) async { await entries.invalidate(keys) }
}
