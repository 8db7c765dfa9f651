import Foundation
import Hummingbird
import Logging
import Redis

/// Whole JSON answers of read routes, cached in Redis as the bytes the client receives.
///
/// A hit is one Redis read and a copy: nothing is decoded and encoded again (a cached read
/// that went through a value spent most of its CPU in Foundation's JSON coders). A hit and
/// a miss answer the same bytes. With Redis down every read goes to the database
/// (`CacheEntries`).
public struct ResponseCache: Sendable {
    let entries: CacheEntries

    public init(redis: RedisClient, prefix: String, ttlSeconds: Int, logger: Logger) {
        entries = CacheEntries(redis: redis, prefix: prefix, ttlSeconds: ttlSeconds, logger: logger)
    }

    /// The Redis key of an entry (what a `PrefetchedRead` of it names).
    public func fullKey(_ key: String) -> String { entries.fullKey(key) }

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
        let bytes = if let prefetched, prefetched.key == fullKey { prefetched.value } else { await entries.read(fullKey) }
        return bytes.map { CachedResponse(body: ByteBuffer(bytes: $0)) }
    }

    /// `value` encoded as the answer, cached if Redis takes it.
    public func store(_ key: String, _ value: some Encodable & Sendable) async throws -> CachedResponse {
        let bytes = try JSONEncoder.response.encode(value)
        await entries.write(fullKey(key), Array(bytes))
        return CachedResponse(body: ByteBuffer(bytes: bytes))
    }

    /// Drops entries after a write (see `CacheEntries.invalidate`).
    public func invalidate(_ keys: [String]) async { await entries.invalidate(keys) }
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
