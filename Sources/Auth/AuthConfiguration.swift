import ServiceKit

/// The auth service's settings, read from the environment (see the README's table).
public struct AuthConfiguration: Sendable {
    public var service: ServiceConfiguration
    /// `AUTH_KEYS_DIR`: RSA private keys as `<kid>.pem`. The last by name signs; all verify,
    /// so a new key is rolled in by adding a file that sorts last, and an old one retired by
    /// removing it once its tokens (15 minutes) have expired. Unset: one key generated at start.
    public var keysDirectory: String?
    /// `AUTH_ACCESS_TOKEN_SECONDS` (900).
    public var accessTokenSeconds: Int
    /// `AUTH_COOKIE_SECURE` (false): add `Secure` to the cookies (set it behind HTTPS).
    public var cookieSecure: Bool

    public static func load(from env: Environment = Environment()) throws -> AuthConfiguration {
        AuthConfiguration(
            service: try ServiceConfiguration.load(service: "auth", defaultPort: 5000, from: env),
            keysDirectory: env.values["AUTH_KEYS_DIR"].flatMap { $0.isEmpty ? nil : $0 },
            accessTokenSeconds: try env.int("AUTH_ACCESS_TOKEN_SECONDS", default: 900, in: 30...86_400),
            cookieSecure: try env.bool("AUTH_COOKIE_SECURE", default: false))
    }
}
