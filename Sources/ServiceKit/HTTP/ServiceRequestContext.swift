import Hummingbird
import NIOCore

/// What every service's request context carries: the request id, the caller's address,
/// and who is calling once `AuthenticationMiddleware` has checked their token.
public protocol ServiceContext: RequestContext {
    var requestId: String { get set }
    /// The TCP peer (the gateway, in a deployment); nil in router tests.
    var remoteAddress: SocketAddress? { get }
    var identity: AccessClaims? { get set }
    /// A token came with the request but did not verify or was revoked.
    var presentedInvalidToken: Bool { get set }
    /// What `AuthenticationMiddleware` read for the route along with the deny-list check.
    var prefetched: PrefetchedRead? { get set }
}

extension ServiceContext {
    /// The caller, or 401 with a message that says whether a token came at all.
    public func requireIdentity() throws -> AccessClaims {
        guard let identity else {
            throw APIError.unauthorized(presentedInvalidToken ? "Invalid or expired token" : "Authentication required")
        }
        return identity
    }
}

/// The request context of every service.
public struct ServiceRequestContext: ServiceContext {
    public var coreContext: CoreRequestContextStorage
    public var requestId = ""
    public let remoteAddress: SocketAddress?
    public var identity: AccessClaims?
    public var presentedInvalidToken = false
    public var prefetched: PrefetchedRead?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
