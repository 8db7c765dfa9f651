import Foundation
import Hummingbird
import Logging
import Redis

/// Whole JSON answers of read routes, cached in Redis for `ttlSeconds` under
/// `<prefix>:<key>` as the bytes the client receives.
///
/// A hit is one Redis read and a copy: nothing is decoded and encoded again (a cached read
/// that went through a value spent most of its CPU in Foundation's JSON coders). A hit and
/// a miss answer the same bytes. Like `JSONCache`, Redis is an accelerator, never a
/// dependency: a failed read is a miss, a failed write is skipped, both logged (at most
/// every 10 s).
public struct ResponseCache: Sendable {
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

    /// The Redis key of an entry (what a `PrefetchedRead` of it names).
    public func fullKey(_ key: String) -> String { "\(prefix):\(key)" }

    /// The cached answer, else `load()`'s encoded and cached; nil (not cached) when
    /// `load()` finds nothing. An entry `prefetched` with the caller's token check is not read again.
    public func response(for key: String, prefetched: PrefetchedRead? = nil,
                         load: () async throws -> (some Encodable & Sendable)?) async throws -> CachedResponse? {
        if let hit = await cached(key, prefetched: prefetched) { return hit }
        guard let value = try await load() else { return nil }
        return try await store(key, value)
    }

    /// The cached answer; nil on a miss or when Redis cannot be read.
    public func cached(_ key: String, prefetched: PrefetchedRead? = nil) async -> CachedResponse? {
        let fullKey = fullKey(key)
        if let prefetched, prefetched.key == fullKey { return prefetched.value.map { CachedResponse(body: ByteBuffer(bytes: $0)) } }
        do {
            return try await redis.get(fullKey).map { CachedResponse(body: ByteBuffer(bytes: $0)) }
        } catch {
            warn("cache read failed (\(prefix)), reading the database: \(error)")
            return nil
        }
    }

    /// `value` encoded as the answer, cached if Redis takes it.
    public func store(_ key: String, _ value: some Encodable & Sendable) async throws -> CachedResponse {
        let bytes = try JSONEncoder.response.encode(value)
        do {
            _ = try await redis.set(fullKey(key), Array(bytes), expireSeconds: ttlSeconds)
        } catch {
            warn("cache write failed (\(prefix)): \(error)")
        }
        return CachedResponse(body: ByteBuffer(bytes: bytes))
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

/// A JSON answer's body as cached: sent as it is.
public struct CachedResponse: ResponseGenerator, Sendable {
    public let body: ByteBuffer

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok,
                 headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(body.readableBytes)],
                 body: .init(byteBuffer: body))
    }
}

extension JSONEncoder {
    /// What Hummingbird answers with (dates in ISO 8601), made once.
    static let response: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
}
