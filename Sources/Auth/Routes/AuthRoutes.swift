import EdgeContract
import Events
import Foundation
import Hummingbird
import JWTKit
import Passwords
import ServiceKit

/// The auth service's routes (the gateway strips `/auth`): sessions in
/// `AuthRoutes+Session.swift`, the account in `AuthRoutes+Account.swift`.
struct AuthRoutes: Sendable {
    let users: any UserRepository
    /// `GET /me`'s answers by user id (what a signed-in client asks most).
    let meAnswers: ResponseCache
    let sessions: any SessionStore
    let denyList: TokenDenyList
    let throttle: LoginThrottle
    let clientAddress: ClientAddress
    let hasher: PasswordHasher
    let issuer: TokenIssuer
    let relay: OutboxRelay?
    let cookies: SessionCookies
    /// Verified against when the email is unknown, so both failures cost one Argon2id verify.
    let decoyHash: String
    /// The time tokens are issued and sessions rotated at (a test moves it).
    let now: @Sendable () -> Date

    static let mePath = "/me"

    func add(to router: Router<ServiceRequestContext>) {
        router.post("/signup", use: signup)
        router.post("/register", use: signup)
        router.post("/login", use: login)
        router.post("/refresh", use: refresh)
        router.post("/logout", use: logout)
        router.patch("/changePassword", use: changePassword)
        router.get("/getUserByEmail", use: userByEmail)
        router.get(RouterPath(Self.mePath), use: me)
        router.delete(RouterPath(Self.mePath), use: deleteMe)
        // The keys do not change while the service runs: the document is encoded once.
        let jwks = JWKSResponse(json: ByteBuffer(bytes: (try? JSONEncoder().encode(issuer.keys.jwks)) ?? Data()))
        router.get("/.well-known/jwks.json") { _, _ in jwks }
    }
}

struct JWKSResponse: ResponseGenerator, Sendable {
    let json: ByteBuffer

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"], body: .init(byteBuffer: json))
    }
}
