import Hummingbird

/// A request context that carries the request id. Services extend it (with the
/// caller's identity, for example) by declaring their own type conforming to this.
public protocol ServiceContext: RequestContext {
    var requestId: String { get set }
}

/// The context of services with nothing more to carry.
public struct ServiceRequestContext: ServiceContext {
    public var coreContext: CoreRequestContextStorage
    public var requestId: String

    public init(source: Source) {
        coreContext = .init(source: source)
        requestId = ""
    }
}
