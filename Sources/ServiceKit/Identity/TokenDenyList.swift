import Foundation
import Logging
import Redis

/// Access tokens revoked before their expiry (logout, a revoked session, a deleted
/// account), kept in Redis by `jti` until the token would have expired anyway.
///
/// Reads fail open: with Redis down a revoked token stays usable until its expiry
/// (15 minutes at most), rather than every request failing. Writes throw, so a logout
/// that could not deny its token says so.
public struct TokenDenyList: Sendable {
    let redis: RedisClient
    let warn: ThrottledWarning

    public init(redis: RedisClient, logger: Logger) {
        self.redis = redis
        warn = ThrottledWarning(logger: logger)
    }

    public static let keyPrefix = "auth:denied-jti:"
    static func key(_ jti: String) -> String { keyPrefix + jti }

    /// Denies each token until its `exp` (already expired ones need nothing).
    public func deny(_ tokens: [(jti: String, expiresAt: Date)], now: Date = Date()) async throws {
        let commands: [[any RedisArgument]] = tokens.compactMap { token in
            let seconds = Int(token.expiresAt.timeIntervalSince(now).rounded(.up))
            return seconds > 0 ? ["SET", Self.key(token.jti), "1", "EX", String(seconds)] : nil
        }
        if !commands.isEmpty { _ = try await redis.pipeline(commands) }
    }

    public func isDenied(_ jti: String) async -> Bool {
        do {
            return try await redis.get(Self.key(jti)) != nil
        } catch {
            warn("token deny-list unreadable, accepting tokens on signature alone: \(error)")
            return false
        }
    }

    /// `isDenied`, and what `key` holds, in one round trip (MGET). The value is `.none` when
    /// Redis could not be read (then the token is accepted, as above).
    public func isDenied(_ jti: String, alsoReading key: String) async -> (denied: Bool, value: [UInt8]??) {
        do {
            let values = try await redis.mget([Self.key(jti), key])
            guard values.count == 2 else { throw RedisError.unexpectedReply("MGET of 2 keys gave \(values.count) values") }
            return (values[0] != nil, .some(values[1]))
        } catch {
            warn("token deny-list unreadable, accepting tokens on signature alone: \(error)")
            return (false, .none)
        }
    }
}
