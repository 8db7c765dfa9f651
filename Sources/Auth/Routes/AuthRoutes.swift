import BSON
import Events
import Foundation
import Hummingbird
import Mongo
import JWTKit
import Passwords
import ServiceKit

/// The auth service's routes (the gateway strips `/auth`).
struct AuthRoutes {
    let users: any UserRepository
    let hasher: PasswordHasher
    let issuer: TokenIssuer
    let relay: OutboxRelay?
    let cookieSecure: Bool
    /// Verified against when the email is unknown, so both failures cost one Argon2id verify.
    let decoyHash: String

    func add(to router: Router<AuthRequestContext>) {
        router.post("/signup", use: signup)
        router.post("/register", use: signup)
        router.post("/login", use: login)
        router.get("/me", use: me)
        router.get("/.well-known/jwks.json") { _, _ in JWKSResponse(jwks: issuer.keys.jwks) }
    }

    @Sendable func signup(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let body = try await request.decodeBody(as: SignupRequest.self, context: context)
        let email = try Validation.email(body.emailId)
        let firstName = try Validation.name(body.firstName, field: "firstName")
        let lastName = try Validation.name(body.lastName, field: "lastName")
        try Validation.password(body.password)
        let now = Date()
        let user = User(
            _id: ObjectId(), email: email, firstName: firstName, lastName: lastName,
            passwordHash: try await hasher.hash(body.password), role: "user", createdAt: now, updatedAt: now)
        do {
            try await users.create(user, correlationId: context.requestId)
        } catch MongoError.duplicateKey {
            throw APIError.conflict("An account with this email already exists", code: "email_taken")
        }
        relay?.notify()
        context.logger.info("user signed up", metadata: ["userId": "\(user._id.hex)"])
        return try await session(for: user, message: "User registered successfully", status: .created, request: request, context: context)
    }

    @Sendable func login(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let body = try await request.decodeBody(as: LoginRequest.self, context: context)
        let email = try Validation.email(body.emailId)
        let user = try await users.find(email: email)
        // Same work and the same answer whether the email is unknown or the password wrong.
        let verified = try await hasher.verify(body.password, against: user?.passwordHash ?? decoyHash)
        guard let user, verified else { throw APIError.unauthorized("Invalid email or password") }
        return try await session(for: user, message: "Login successful", status: .ok, request: request, context: context)
    }

    @Sendable func me(_ request: Request, context: AuthRequestContext) async throws -> UserResponse {
        let identity = try context.requireIdentity()
        guard let id = ObjectId(identity.sub.value), let user = try await users.find(id: id) else {
            throw APIError.notFound("User not found")
        }
        return UserResponse(message: "User fetched successfully", data: PublicUser(user))
    }

    private func session(for user: User, message: String, status: HTTPResponse.Status, request: Request, context: AuthRequestContext) async throws -> Response {
        let (token, _) = try await issuer.issue(userId: user._id.hex, email: user.email, role: user.role)
        let body = SessionResponse(message: message, data: PublicUser(user), access_token: token, expires_in: issuer.lifetimeSeconds)
        var response = try body.response(from: request, context: context)
        response.status = status
        response.setCookie(Cookie(
            name: "token", value: token, maxAge: issuer.lifetimeSeconds, path: "/", secure: cookieSecure, httpOnly: true,
            sameSite: .lax))
        return response
    }
}

struct JWKSResponse: ResponseGenerator {
    let jwks: JWKS

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let json = try JSONEncoder().encode(jwks)
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}
