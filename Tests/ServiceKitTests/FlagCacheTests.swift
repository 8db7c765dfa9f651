import Foundation
import Logging
import Redis
import ServiceKit
import Synchronization
import TestSupport
import Testing

/// Yes-or-no answers in the test Redis: loaded once, then read as stored, loaded afresh
/// after an invalidation or when the entry is not one of ours.
@Suite struct FlagCacheTests {
    @Test func answersAreCachedAndDroppedOnChange() async throws {
        let redis = RedisClient(port: TestServers.redisPort)
        let prefix = "test:flags:\(UUID().uuidString)"
        let cache = FlagCache(redis: redis, prefix: prefix, ttlSeconds: 60, logger: Logger(label: "flags"))
        let loads = Atomic<Int>(0)
        func value(_ key: String, _ answer: Bool) async throws -> Bool {
            try await cache.value(for: key) { loads.add(1, ordering: .relaxed); return answer }
        }
        #expect(try await value("yes", true) == true)
        #expect(try await value("yes", false) == true, "cached")
        #expect(try await value("no", false) == false)
        #expect(try await value("no", true) == false, "cached")
        #expect(loads.load(ordering: .relaxed) == 2)
        #expect(try await redis.get("\(prefix):yes") == Array("1".utf8))
        #expect(try await redis.get("\(prefix):no") == Array("0".utf8))
        await cache.invalidate(["yes"])
        #expect(try await value("yes", false) == false, "loaded again after the change")
        _ = try await redis.set("\(prefix):odd", "true", expireSeconds: 60)
        #expect(try await value("odd", false) == false, "not ours: loaded")
        #expect(loads.load(ordering: .relaxed) == 4)
        _ = try await redis.del(["yes", "no", "odd"].map { "\(prefix):\($0)" })
        try await redis.close()
    }
}
