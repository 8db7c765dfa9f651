import Foundation
import Redis
import TestSupport
import Testing

/// The client-side cache against a real Redis: another client's writes reach it, this
/// client's own are read back at once, and a lost tracking connection sends every read to Redis.
@Suite struct ClientSideCacheTests {
    /// A client with a cache of `prefix`, its tracking connection up, and a plain client ("another replica").
    private func withCachedClient(_ body: (RedisClient, ClientSideCache, RedisClient, String) async throws -> Void) async throws {
        let prefix = TestServers.uniqueName("csc") + ":"
        let cache = ClientSideCache(prefixes: [prefix], name: TestServers.uniqueName("csc-link"))
        let cached = RedisClient(port: TestServers.redisPort, clientSideCache: cache)
        let other = RedisClient(port: TestServers.redisPort)
        let running = Task { try? await cached.run() }
        defer { running.cancel() }
        #expect(await eventually(timeout: .seconds(10)) { cache.isLive }, "the tracking connection came up")
        do { try await body(cached, cache, other, prefix) } catch {
            try? await other.close()
            throw error
        }
        if case .array(let keys) = try await other.command("KEYS", prefix + "*"), !keys.isEmpty { try await other.del(keys.compactMap(\.string)) }
        try await other.close()
        running.cancel()
        await running.value
    }

    @Test func aSecondReadIsLocalAndAnotherClientsWriteReachesItAtOnce() async throws {
        try await withCachedClient { cached, cache, other, p in
            try await other.set(p + "k", "one")
            let before = cache.counts
            // The first fill may be refused: Redis's message about the write above can arrive
            // while the read is under way. After that every read is local.
            for _ in 0..<5 { #expect(try await cached.get(p + "k") == Array("one".utf8)) }
            for _ in 0..<3 { #expect(try await cached.mget([p + "k", p + "absent"]) == [Array("one".utf8), nil]) }
            #expect(cache.counts.hits - before.hits >= 5, "read from the process, not Redis: \(cache.counts)")

            try await other.set(p + "k", "two")
            #expect(await eventually(timeout: .seconds(5)) { try await cached.get(p + "k") == Array("two".utf8) })
            try await other.set(p + "absent", "now here")
            #expect(await eventually(timeout: .seconds(5)) { try await cached.get(p + "absent") == Array("now here".utf8) })
            try await other.del(p + "k")
            #expect(await eventually(timeout: .seconds(5)) { try await cached.get(p + "k") == nil })
            try await other.set(p + "short", "x", expireSeconds: 1)
            #expect(try await cached.get(p + "short") == Array("x".utf8))
            #expect(await eventually(timeout: .seconds(10)) { try await cached.get(p + "short") == nil }, "an expired key is not kept")
        }
    }

    @Test func thisClientsOwnWritesAreReadBackAtOnce() async throws {
        try await withCachedClient { cached, _, _, p in
            let key = p + "mine"
            for round in 0..<200 {
                // Readers race the writes; a read that starts after a write returns must see it.
                async let racing = cached.get(key)
                if round % 3 == 2 {
                    try await cached.del(key)
                    #expect(try await cached.get(key) == nil, "round \(round)")
                } else {
                    try await cached.set(key, "v\(round)")
                    #expect(try await cached.get(key) == Array("v\(round)".utf8), "round \(round)")
                }
                _ = try await racing
                _ = try await cached.pipeline([["SET", key, "p\(round)"], ["EXPIRE", key, 60]])
                #expect(try await cached.mget([key]) == [Array("p\(round)".utf8)], "round \(round)")
            }
        }
    }

    @Test func withItsTrackingConnectionGoneEveryReadGoesToRedis() async throws {
        try await withCachedClient { cached, cache, other, p in
            try await other.set(p + "k", "one")
            _ = try await cached.get(p + "k")
            #expect(try await cached.get(p + "k") == Array("one".utf8))
            let upBefore = cache.counts.linksUp

            // Cut the tracking connection from the server's side, then write while it is down.
            guard case .bulk(let list) = try await other.command("CLIENT", "LIST", "TYPE", "pubsub") else { Issue.record("no CLIENT LIST"); return }
            let line = String(decoding: list, as: UTF8.self).split(separator: "\n").first { $0.contains("name=\(cache.name) ") }
            let id = line?.split(separator: " ").first { $0.hasPrefix("id=") }?.dropFirst(3)
            try #require(id != nil, "the tracking connection is listed by its name")
            try await other.command("CLIENT", "KILL", "ID", String(id!))
            #expect(await eventually(timeout: .seconds(5)) { !cache.isLive })
            try await other.set(p + "k", "two")
            #expect(try await cached.get(p + "k") == Array("two".utf8), "no answer from the cache while it hears nothing")

            // It comes back by itself, and what was kept before is gone.
            #expect(await eventually(timeout: .seconds(10)) { cache.isLive && cache.counts.linksUp > upBefore })
            #expect(try await cached.get(p + "k") == Array("two".utf8))
        }
    }
}
