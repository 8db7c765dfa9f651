import HTTPTypes
import Hummingbird
import Synchronization

/// Which methods a path has routes for, so a request with another method gets 405 with
/// `Allow` (RFC 9110 §15.5.6) instead of the 404 of a path that does not exist. Read from
/// the router once, at the first such request: by then every route is registered (the
/// application builds its responder from the finished router).
public final class AllowedMethods<Context: RequestContext>: @unchecked Sendable {
    // The router is only read here, after it has stopped changing.
    private let router: Router<Context>
    private let table = Mutex<[(path: RouterPath, method: HTTPRequest.Method)]?>(nil)

    public init(router: Router<Context>) {
        self.router = router
    }

    /// The methods routed at `path`, in a stable order; empty when none is.
    public func methods(for path: String) -> [String] {
        let routes = table.withLock { table in
            if let table { return table }
            let read = router.routes.map { (path: $0.path, method: $0.method) }
            table = read
            return read
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let methods = Set(routes.filter { Self.matches($0.path, segments) }.map(\.method.rawValue))
        return methods.sorted()
    }

    static func matches(_ route: RouterPath, _ segments: [Substring]) -> Bool {
        var index = 0
        for element in route.components {
            if element.description == "**" { return true }
            guard index < segments.count, element ~= segments[index] else { return false }
            index += 1
        }
        return index == segments.count
    }
}
