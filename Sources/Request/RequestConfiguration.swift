import ServiceKit

/// The request service's settings, read from the environment (see the README's table).
public struct RequestConfiguration: Sendable {
    public var service: ServiceConfiguration
    /// `REQUEST_CACHE_SECONDS` (600): how long invite lists stay in Redis.
    public var cacheSeconds: Int

    public static func load(from env: Environment = Environment()) throws -> RequestConfiguration {
        RequestConfiguration(
            service: try ServiceConfiguration.load(service: "request", defaultPort: 5002, from: env),
            cacheSeconds: try env.int("REQUEST_CACHE_SECONDS", default: 600, in: 1...86_400))
    }
}
