import Hummingbird
import ServiceKit

/// The auth service's request context: the request id, and who is calling once
/// `AccessTokenAuthenticator` has checked their token.
public struct AuthRequestContext: ServiceContext {
    public var coreContext: CoreRequestContextStorage
    public var requestId = ""
    public var identity: AccessClaims?
    /// A token came with the request but did not verify.
    var presentedInvalidToken = false

    public init(source: Source) { coreContext = .init(source: source) }

    /// The caller, or 401.
    func requireIdentity() throws -> AccessClaims {
        guard let identity else {
            throw APIError.unauthorized(presentedInvalidToken ? "Invalid or expired token" : "Authentication required")
        }
        return identity
    }
}

/// Reads the access token from `Authorization: Bearer …` or the `token` cookie and,
/// when it verifies, puts its claims on the context. Routes decide whether they need it:
/// a stale cookie must not stop anyone from logging in again.
struct AccessTokenAuthenticator: RouterMiddleware {
    let issuer: TokenIssuer

    func handle(_ request: Request, context: AuthRequestContext, next: (Request, AuthRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        if let token = Self.token(in: request) {
            if let claims = try? await issuer.verify(token) {
                context.identity = claims
            } else {
                context.presentedInvalidToken = true
            }
        }
        return try await next(request, context)
    }

    static func token(in request: Request) -> String? {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        return request.cookies["token"]?.value
    }
}
