import Logging
import Redis

/// Where a cache's entries live in Redis (`<prefix>:<key>`, for `ttlSeconds`) and how its
/// failures are told: logged at most every 10 s, never thrown — Redis is an accelerator,
/// never a dependency.
struct CacheEntries: Sendable {
    let redis: RedisClient
    let prefix: String
    let ttlSeconds: Int
    let warn: ThrottledWarning

    init(redis: RedisClient, prefix: String, ttlSeconds: Int, logger: Logger) {
        self.redis = redis
        self.prefix = prefix
        self.ttlSeconds = ttlSeconds
        warn = ThrottledWarning(logger: logger)
    }

    /// What every key of the cache named `prefix` begins with.
    static func keyPrefix(_ prefix: String) -> String { prefix + ":" }

    func fullKey(_ key: String) -> String { Self.keyPrefix(prefix) + key }

    /// The entry's bytes; nil on a miss or when Redis cannot be read.
    func read(_ fullKey: String) async -> [UInt8]? {
        do {
            return try await redis.get(fullKey)
        } catch {
            warn("cache read failed (\(prefix)), reading the database: \(error)")
            return nil
        }
    }

    /// Stores the entry if Redis takes it.
    func write(_ fullKey: String, _ bytes: [UInt8]) async {
        do {
            _ = try await redis.set(fullKey, bytes, expireSeconds: ttlSeconds)
        } catch {
            warn("cache write failed (\(prefix)): \(error)")
        }
    }

    /// Drops entries after a change. If Redis is unreachable the entries cannot be
    /// dropped; they expire within `ttlSeconds`.
    func invalidate(_ keys: [String]) async {
        guard !keys.isEmpty else { return }
        do {
            _ = try await redis.del(keys.map(fullKey))
        } catch {
            warn("cache invalidation failed (\(prefix)): \(error)")
        }
    }
}
