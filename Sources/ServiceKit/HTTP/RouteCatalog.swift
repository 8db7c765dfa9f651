import Hummingbird
import Synchronization

/// The routes a service registered, as its router knows them: handed to a service's
/// build function by whoever wants to check them (the tests compare them with the
/// OpenAPI document).
public final class RouteCatalog: Sendable {
    public struct Route: Hashable, Sendable, CustomStringConvertible {
        public let method: String
        /// Hummingbird's spelling: `/messages/{chatId}`.
        public let path: String
        public var description: String { "\(method) \(path)" }
    }

    private let recorded = Mutex<[String: [Route]]>([:])

    public init() {}

    /// Records `service`'s routes once its router is complete.
    public func record<Context>(_ service: String, _ router: Router<Context>) {
        let routes = router.routes.map { Route(method: $0.method.rawValue, path: $0.path.description) }
        recorded.withLock { $0[service] = routes }
    }

    public func routes(of service: String) -> [Route] { recorded.withLock { $0[service] ?? [] } }
}
