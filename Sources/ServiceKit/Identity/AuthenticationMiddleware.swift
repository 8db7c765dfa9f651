import Foundation
import Hummingbird
import Logging
import Redis

/// Reads the access token from `Authorization: Bearer …` or the `token` cookie, verifies
/// it locally and checks the deny-list, and on success puts the claims on the context.
/// Routes decide whether they need an identity (`context.requireIdentity()`): a stale
/// cookie must not stop anyone from logging in again.
///
/// `prefetch` names the Redis key a request will read for its caller (a cached read's
/// answer): it is read in the deny-list check's round trip and left on the context.
public struct AuthenticationMiddleware<Context: ServiceContext>: RouterMiddleware {
    /// The Redis key the request will read for the verified caller, if any.
    public typealias Prefetch = @Sendable (Request, AccessClaims) -> String?

    let check: AccessTokenCheck
    let prefetch: Prefetch?

    public init(verifier: any AccessTokenVerifier, denyList: TokenDenyList?, prefetch: Prefetch? = nil) {
        check = AccessTokenCheck(verifier: verifier, denyList: denyList)
        self.prefetch = prefetch
    }

    /// What every service but auth uses: auth's keys from its JWKS, the deny-list in Redis.
    public init(jwksURL: String, redis: Redis.RedisClient, logger: Logger, prefetch: Prefetch? = nil) {
        self.init(verifier: JWKSVerifier(url: jwksURL, logger: logger), denyList: TokenDenyList(redis: redis, logger: logger), prefetch: prefetch)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let token = Self.token(in: request.headers) {
            do {
                let prefetch = prefetch.map { prefetch in { claims in prefetch(request, claims) } }
                let (claims, prefetched) = try await check.claims(of: token, prefetching: prefetch)
                if let claims { context.identity = claims } else { context.presentedInvalidToken = true }
                context.prefetched = prefetched
            } catch is VerificationKeysUnavailable {
                throw APIError.unavailable("Token keys are not available yet, try again shortly")
            }
        }
        return try await next(request, context)
    }

    /// The bearer token, else the `token` cookie.
    public static func token(in request: Request) -> String? { token(in: request.headers) }

    /// The bearer token, else the `token` cookie, from request headers (also a socket's handshake).
    public static func token(in headers: HTTPFields) -> String? {
        if let header = headers[.authorization], header.utf8.count > 7, header.prefix(7).lowercased() == "bearer " {
            // Spaces and tabs trimmed by hand: Foundation's trimmingCharacters walked the whole
            // token as UTF-16, a tenth of a cached read's CPU.
            var token = header.utf8.dropFirst(7)
            while let first = token.first, first == 0x20 || first == 0x09 { token = token.dropFirst() }
            while let last = token.last, last == 0x20 || last == 0x09 { token = token.dropLast() }
            return token.isEmpty ? nil : String(Substring(token))
        }
        guard let cookie = Cookies(from: headers[values: .cookie])["token"]?.value, !cookie.isEmpty else { return nil }
        return cookie
    }
}
