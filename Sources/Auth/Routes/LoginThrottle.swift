import Crypto
import Foundation
import Logging
import Redis
import ServiceKit

/// At most `maxAttempts` logins per `windowSeconds` per client IP and per account, counted
/// in Redis (fixed windows that start at the first attempt). The attempt over the limit
/// gets 429 with `Retry-After` = the seconds left in its window. A successful login clears
/// the account's count (not the IP's). changePassword's checks of the current password
/// count here too.
///
/// Fails open: with Redis down logins are not counted, so they keep working; Argon2id
/// still costs every guess about 40 ms of a core.
struct LoginThrottle: Sendable {
    let redis: RedisClient
    let maxAttempts: Int
    let windowSeconds: Int
    let logger: Logger

    static func ipKey(_ ip: String) -> String { "auth:login-attempts:ip:\(ip)" }
    /// Hashed: emails do not belong in Redis key listings.
    static func accountKey(_ email: String) -> String {
        "auth:login-attempts:account:" + SHA256.hash(data: Data(email.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Counts this attempt; throws 429 when the IP or the account has used up its window.
    func count(ip: String, email: String) async throws {
        let keys = [Self.ipKey(ip), Self.accountKey(email)]
        do {
            async let byIP = redis.increment(keys[0], expireSeconds: windowSeconds)
            async let byAccount = redis.increment(keys[1], expireSeconds: windowSeconds)
            let counts = try await [byIP, byAccount]
            guard let over = zip(keys, counts).first(where: { $0.1 > maxAttempts })?.0 else { return }
            let left = try await redis.ttl(over)
            throw APIError.tooManyRequests(retryAfterSeconds: left > 0 ? left : windowSeconds)
        } catch let error as APIError {
            throw error
        } catch {
            logger.warning("login attempts not counted (Redis unavailable): \(error)")
        }
    }

    func succeeded(email: String) async {
        _ = try? await redis.del(Self.accountKey(email))
    }
}
