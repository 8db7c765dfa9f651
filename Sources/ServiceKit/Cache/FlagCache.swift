import Logging
import Redis

/// Yes-or-no answers (may this user use this chat?) cached in Redis for `ttlSeconds` under
/// `<prefix>:<key>`, as `1` or `0`: read on every message, so nothing is decoded.
///
/// Redis is an accelerator, never a dependency: a failed read is a miss, a failed write
/// is skipped, and both are logged (at most every 10 s), so with Redis down every answer
/// comes from the database.
public struct FlagCache: Sendable {
    let redis: RedisClient
    let prefix: String
    let ttlSeconds: Int
    let warn: ThrottledWarning

    public init(redis: RedisClient, prefix: String, ttlSeconds: Int, logger: Logger) {
        self.redis = redis
        self.prefix = prefix
        self.ttlSeconds = ttlSeconds
        warn = ThrottledWarning(logger: logger)
    }

    func fullKey(_ key: String) -> String { "\(prefix):\(key)" }

    /// The cached answer, else `load()`'s, which is then cached.
    public func value(for key: String, load: () async throws -> Bool) async throws -> Bool {
        let fullKey = fullKey(key)
        do {
            switch try await redis.get(fullKey) {
            case [UInt8(ascii: "1")]?: return true
            case [UInt8(ascii: "0")]?: return false
            default: break  // a miss (or not ours: answered afresh, then overwritten)
            }
        } catch {
            warn("cache read failed (\(prefix)), reading the database: \(error)")
        }
        let value = try await load()
        do {
            _ = try await redis.set(fullKey, value ? "1" : "0", expireSeconds: ttlSeconds)
        } catch {
            warn("cache write failed (\(prefix)): \(error)")
        }
        return value
    }

    /// Drops entries after a change. If Redis is unreachable the entries cannot be
    /// dropped; they expire within `ttlSeconds`.
    public func invalidate(_ keys: [String]) async {
        guard !keys.isEmpty else { return }
        do {
            _ = try await redis.del(keys.map(fullKey))
        } catch {
            warn("cache invalidation failed (\(prefix)): \(error)")
        }
    }
}
