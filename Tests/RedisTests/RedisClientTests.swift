import Redis
import TestSupport
import Testing

/// Keys of one test, deleted afterwards.
private func withRedis(_ body: (RedisClient, String) async throws -> Void) async throws {
    let redis = RedisClient(port: TestServers.redisPort, connections: 4)
    let prefix = TestServers.uniqueName("test") + ":"
    do { try await body(redis, prefix) } catch {
        try? await cleanup(redis, prefix)
        throw error
    }
    try await cleanup(redis, prefix)
}

private func cleanup(_ redis: RedisClient, _ prefix: String) async throws {
    if case .array(let keys) = try await redis.command("KEYS", prefix + "*") {
        try await redis.del(keys.compactMap(\.string))
    }
    try await redis.close()
}

@Suite struct RedisClientTests {
    @Test func getSetDelAndBinaryValues() async throws {
        try await withRedis { redis, p in
            #expect(try await redis.get(p + "missing") == nil)
            try await redis.set(p + "a", "alpha")
            #expect(try await redis.get(p + "a") == Array("alpha".utf8))
            let binary: [UInt8] = [0, 255, 13, 10, 0]
            try await redis.set(p + "bin", binary)
            #expect(try await redis.get(p + "bin") == binary)
            #expect(try await redis.del(p + "a", p + "bin", p + "never") == 2)
            #expect(try await redis.get(p + "a") == nil)
        }
    }

    @Test func setNXOnlyWritesAbsentKeys() async throws {
        try await withRedis { redis, p in
            let first = try await redis.set(p + "lock", "first", onlyIfAbsent: true)
            let second = try await redis.set(p + "lock", "second", onlyIfAbsent: true)
            #expect(first && !second)
            #expect(try await redis.get(p + "lock") == Array("first".utf8))
        }
    }

    @Test func keysExpireAfterTheirTTL() async throws {
        try await withRedis { redis, p in
            // No step depends on how fast a loaded machine gets from one line to the next:
            // a long TTL is read back, a short one is waited out.
            try await redis.set(p + "long", "x", expireSeconds: 60)
            let ttl = try await redis.ttl(p + "long")
            #expect((1...60).contains(ttl))
            #expect(try await redis.get(p + "long") == Array("x".utf8))
            try await redis.set(p + "short", "x", expireSeconds: 1)
            let expired = await eventually(timeout: .seconds(10)) { try await redis.get(p + "short") == nil }
            #expect(expired)
            #expect(try await redis.ttl(p + "short") == -2)
        }
    }

    @Test func incrementSetsTheExpiryOnceAndCountsAtomically() async throws {
        try await withRedis { redis, p in
            let key = p + "count"
            #expect(try await redis.increment(key, expireSeconds: 100) == 1)
            // A later increment must not push the window's end back.
            _ = try await redis.command("EXPIRE", key, 50)
            #expect(try await redis.increment(key, expireSeconds: 100) == 2)
            // Still the 50 s set above, less the time taken (seconds when the machine is loaded), not 100.
            let ttl = try await redis.ttl(key)
            #expect(ttl > 0 && ttl <= 50)

            let racers = 200
            let results = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<racers { group.addTask { try await redis.increment(p + "race", expireSeconds: 60) } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(Set(results) == Set(1...racers), "every increment saw a distinct count")
        }
    }

    @Test func mgetAndPipelineKeepOrder() async throws {
        try await withRedis { redis, p in
            let replies = try await redis.pipeline([["SET", p + "1", "one"], ["SET", p + "2", "two"], ["INCR", p + "1"], ["GET", p + "2"]])
            #expect(replies[0] == .status("OK"))
            if case .error(let message) = replies[2] { #expect(message.contains("not an integer")) } else {
                Issue.record("INCR of a string should be an error reply, got \(replies[2])")
            }
            #expect(replies[3] == .bulk(Array("two".utf8)))
            let values = try await redis.mget([p + "2", p + "none", p + "1"])
            #expect(values == [Array("two".utf8), nil, Array("one".utf8)])
        }
    }

    /// Commands from many tasks share one connection: each gets its own reply.
    @Test func concurrentCommandsOnOneConnectionGetTheirOwnReplies() async throws {
        let redis = RedisClient(port: TestServers.redisPort, connections: 1)
        let p = TestServers.uniqueName("test") + ":"
        let mismatches = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<500 {
                group.addTask {
                    try await redis.set(p + "\(i)", "value \(i)", expireSeconds: 60)
                    let both = try await redis.pipeline([["GET", p + "\(i)"], ["GET", p + "\(i)"]])
                    return both != [.bulk(Array("value \(i)".utf8)), .bulk(Array("value \(i)".utf8))]
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(mismatches == 0)
        try await cleanup(redis, p)
    }

    @Test func refusedCommandThrowsCommandError() async throws {
        try await withRedis { redis, p in
            try await redis.set(p + "s", "text")
            await #expect(throws: RedisError.self) { try await redis.command("INCR", p + "s") }
            #expect(try await redis.get(p + "s") == Array("text".utf8), "the connection still works")
        }
    }

    @Test func publishReachesSubscribers() async throws {
        try await withRedis { redis, p in
            let subscription = redis.subscribe(to: [p + "news"])
            await subscription.waitUntilSubscribed()
            #expect(try await redis.publish(p + "news", "hello") == 1)
            #expect(try await redis.publish(p + "other", "ignored") == 0)
            try await redis.publish(p + "news", "again")
            var it = subscription.makeAsyncIterator()
            let message = await it.next()
            #expect(message?.channel == p + "news" && message?.payload == Array("hello".utf8))
            #expect(await it.next()?.payload == Array("again".utf8))
            subscription.cancel()
        }
    }

    @Test func unreachableServerIsUnavailable() async throws {
        let redis = RedisClient(port: 1, connections: 1, timeoutSeconds: 0.5)
        await #expect(throws: RedisError.self) { try await redis.ping() }
        try await redis.close()
    }
}

/// Kills and restarts a Redis of its own, so no other test sees it go.
@Suite(.serialized) struct RedisRestartTests {
    @Test func clientAndSubscriberRecoverAfterRestart() async throws {
        try await TestServers.faultRedisLock.withLock { try await recoverAfterRestart() }
    }

    /// A server that stops answering (SIGSTOP) fails the commands waiting on it within the
    /// timeout instead of holding them; once it answers again, so does the client.
    @Test func aHungServerTimesOutAndTheClientRecovers() async throws {
        try await TestServers.faultRedisLock.withLock {
            let server = TestServers.faultRedis
            let redis = RedisClient(port: server.port, connections: 1, timeoutSeconds: 0.5)
            try await redis.ping()
            try await TestServers.servers("pause", server.name)
            do {
                let started = ContinuousClock.now
                await #expect(throws: RedisError.self) { try await redis.ping() }
                #expect(ContinuousClock.now - started < .seconds(10), "failed by the timeout, not by the resume")
            }
            try await TestServers.servers("resume", server.name)
            try await redis.ping()
            try await redis.close()
        }
    }

    func recoverAfterRestart() async throws {
        let server = TestServers.faultRedis
        let redis = RedisClient(port: server.port, connections: 2)
        try await redis.set("restart:before", "1")
        let subscription = redis.subscribe(to: ["restart:channel"])
        await subscription.waitUntilSubscribed()

        try await TestServers.servers("kill", server.name)
        await #expect(throws: RedisError.self) { try await redis.ping() }
        try await TestServers.servers("restart", server.name)

        // The pooled connections are dead; the client finds out and reconnects by itself.
        try await redis.set("restart:after", "2")
        #expect(try await redis.get("restart:after") == Array("2".utf8))
        #expect(try await redis.get("restart:before") == nil, "the server kept no data across the restart")

        // The subscriber reconnects too: keep publishing until one arrives.
        var it = subscription.makeAsyncIterator()
        let received = Task { await it.next() }
        var delivered = 0
        for _ in 0..<100 where delivered == 0 {
            delivered = try await redis.publish("restart:channel", "back")
            if delivered == 0 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(delivered == 1)
        #expect(await received.value?.payload == Array("back".utf8))
        subscription.cancel()
        try await redis.close()
    }
}
