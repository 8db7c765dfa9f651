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
        let matching = routes.filter { Self.matches($0.path, segments) }
        // The router takes a constant segment over a capture (`/patchProfile` over `/:userId`),
        // and does not come back: only the most specific routes that match count.
        guard let best = matching.map({ Self.constants($0.path) }).max(by: { $0.lexicographicallyPrecedes($1) }) else { return [] }
        return Set(matching.filter { Self.constants($0.path) == best }.map(\.method.rawValue)).sorted()
    }

    /// Per segment, whether it is a constant (1) rather than a capture or wildcard (0).
    static func constants(_ route: RouterPath) -> [Int] {
        route.components.map { element in
            let text = element.description
            return text.hasPrefix(":") || text.contains("*") || text.contains("{") ? 0 : 1
        }
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
