import Hummingbird

/// The router every service starts from: request ids and error bodies on every
/// route, and `/health` and `/ready`.
public func makeServiceRouter<Context: ServiceContext>(
    context: Context.Type = ServiceRequestContext.self, checks: [ReadinessCheck]
) -> Router<Context> {
    let router = Router(context: Context.self)
    // Request ids outermost, so even error responses carry theirs.
    router.add(middleware: RequestIdMiddleware<Context>())
    router.add(middleware: ErrorMiddleware<Context>(allowed: AllowedMethods(router: router)))
    router.addHealthRoutes(checks: checks)
    return router
}
