import Redis
import TestSupport

/// Looks into the test Redis, to see what the services cached.
enum RedisProbe {
    static func exists(_ key: String, port: Int = TestServers.redisPort) async throws -> Bool {
        let redis = RedisClient(port: port, connections: 1)
        let value = try await redis.get(key)
        try await redis.close()
        return value != nil
    }
}
