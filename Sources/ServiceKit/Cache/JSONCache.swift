import Foundation
import Logging
import Redis

/// Values cached in Redis as JSON for `ttlSeconds`, under `<prefix>:<key>`.
///
/// Redis is an accelerator, never a dependency: a failed read is a miss, a failed write
/// is skipped, and both are logged (at most every 10 s), so with Redis down every read
/// is answered from the database. A hit and a miss give the same value, encoded once.
public struct JSONCache<Value: Codable & Sendable>: Sendable {
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

    /// The cached value, else `load()`'s, which is then cached (nil is not cached).
    public func value(for key: String, load: () async throws -> Value?) async throws -> Value? {
        if let cached = await get(key) { return cached }
        guard let value = try await load() else { return nil }
        await set(key, value)
        return value
    }

    public func get(_ key: String) async -> Value? {
        do {
            guard let bytes = try await redis.get(fullKey(key)) else { return nil }
            return try JSONDecoder.cache.decode(Value.self, from: Data(bytes))
        } catch {
            warn("cache read failed (\(prefix)), reading the database: \(error)")
            return nil
        }
    }

    public func set(_ key: String, _ value: Value) async {
        do {
            let bytes = try JSONEncoder.cache.encode(value)
            _ = try await redis.set(fullKey(key), Array(bytes), expireSeconds: ttlSeconds)
        } catch {
            warn("cache write failed (\(prefix)): \(error)")
        }
    }

    /// Drops entries after a write. If Redis is unreachable the entries cannot be
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

extension JSONEncoder {
    /// Dates as milliseconds since 1970: exact, and cheap to read back.
    static let cache: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }()
}

extension JSONDecoder {
    static let cache: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()
}
