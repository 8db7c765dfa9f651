import ServiceKit

/// The profile service's settings, read from the environment (see the README's table).
public struct ProfileConfiguration: Sendable {
    public var service: ServiceConfiguration
    /// `PROFILE_CACHE_SECONDS` (600): how long a profile stays in Redis.
    public var cacheSeconds: Int
    /// `PROFILE_PICTURE_MAX_BYTES` (5 MiB).
    public var pictureMaxBytes: Int

    public static func load(from env: Environment = Environment()) throws -> ProfileConfiguration {
        ProfileConfiguration(
            service: try ServiceConfiguration.load(service: "profile", defaultPort: 5001, from: env),
            cacheSeconds: try env.int("PROFILE_CACHE_SECONDS", default: 600, in: 1...86_400),
            pictureMaxBytes: try env.int("PROFILE_PICTURE_MAX_BYTES", default: 5 * 1024 * 1024, in: 1024...(64 * 1024 * 1024)))
    }
}
