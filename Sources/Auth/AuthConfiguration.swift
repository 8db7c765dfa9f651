import ServiceKit

/// The auth service's settings, read from the environment (see the README's table).
public struct AuthConfiguration: Sendable {
    public var service: ServiceConfiguration
    /// `AUTH_SIGNING_KEY`: the RSA private key (PEM) that signs; its `kid` is its thumbprint.
    /// `AUTH_VERIFY_KEYS`: older keys (PEMs, one after another) that still verify. To roll a
    /// key: move the signing key into AUTH_VERIFY_KEYS, put the new one in AUTH_SIGNING_KEY,
    /// restart; drop the old one after its last token has expired (15 minutes).
    public var signingKeyPEM: String?
    public var verifyKeysPEM: String?
    /// `AUTH_KEYS_DIR` (when AUTH_SIGNING_KEY is unset): RSA private keys as `<kid>.pem`. The
    /// last by name signs; all verify. Neither set: one key generated at start.
    public var keysDirectory: String?
    /// `AUTH_ACCESS_TOKEN_SECONDS` (900).
    public var accessTokenSeconds: Int
    /// `AUTH_REFRESH_TOKEN_DAYS` (30): how long an unused refresh token stays valid.
    public var refreshTokenDays: Int
    /// `AUTH_REFRESH_GRACE_SECONDS` (10): a just-rotated refresh token still refreshes for this
    /// long (two tabs refreshing at once) instead of revoking its session.
    public var refreshGraceSeconds: Int
    /// `AUTH_LOGIN_MAX_ATTEMPTS` (15) per `AUTH_LOGIN_WINDOW_SECONDS` (900), per client IP and per account.
    public var loginMaxAttempts: Int
    public var loginWindowSeconds: Int
    /// `AUTH_COOKIE_SECURE` (false): add `Secure` to the cookies (set it behind HTTPS).
    public var cookieSecure: Bool

    public static func load(from env: Environment = Environment()) throws -> AuthConfiguration {
        func pem(_ name: String) -> String? {
            // Platforms that cannot hold newlines in a variable pass them as `\n`.
            env.values[name].flatMap { $0.isEmpty ? nil : $0.replacingOccurrences(of: "\\n", with: "\n") }
        }
        return AuthConfiguration(
            service: try ServiceConfiguration.load(service: "auth", defaultPort: 5000, from: env),
            signingKeyPEM: pem("AUTH_SIGNING_KEY"),
            verifyKeysPEM: pem("AUTH_VERIFY_KEYS"),
            keysDirectory: env.values["AUTH_KEYS_DIR"].flatMap { $0.isEmpty ? nil : $0 },
            accessTokenSeconds: try env.int("AUTH_ACCESS_TOKEN_SECONDS", default: 900, in: 30...86_400),
            refreshTokenDays: try env.int("AUTH_REFRESH_TOKEN_DAYS", default: 30, in: 1...365),
            refreshGraceSeconds: try env.int("AUTH_REFRESH_GRACE_SECONDS", default: 10, in: 0...300),
            loginMaxAttempts: try env.int("AUTH_LOGIN_MAX_ATTEMPTS", default: 15, in: 1...1_000_000),
            loginWindowSeconds: try env.int("AUTH_LOGIN_WINDOW_SECONDS", default: 900, in: 1...86_400),
            cookieSecure: try env.bool("AUTH_COOKIE_SECURE", default: false))
    }
}
