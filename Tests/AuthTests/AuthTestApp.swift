import Auth
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Mongo
import ServiceKit
import ServiceTestSupport
import TestSupport

/// The auth service as `buildAuthApplication` makes it, on the test servers with a
/// database of its own (dropped afterwards). `settings` override the environment.
///
/// Router tests have no client address, so all of them would share one login-attempt
/// counter: they get a high limit, and `LoginThrottleTests` checks the real one live.
func withAuthApp(
    _ settings: [String: String] = [:], live: Bool = false,
    _ test: @escaping @Sendable (any TestClientProtocol, MongoDatabase) async throws -> Void
) async throws {
    try await TestServers.serviceStacks.withLock { try await runAuthApp(settings, live: live, test) }
}

private func runAuthApp(
    _ settings: [String: String], live: Bool, _ test: @escaping @Sendable (any TestClientProtocol, MongoDatabase) async throws -> Void
) async throws {
    let database = TestServers.uniqueName("auth")
    var values = [
        "MONGO_URI": TestServers.mongoURI, "MONGO_DATABASE": database, "REDIS_PORT": String(TestServers.redisPort),
        "AMQP_PORT": String(TestServers.amqpPort), "AUTH_SIGNING_KEY": TestSigningKey.pem,
    ]
    if !live { values["AUTH_LOGIN_MAX_ATTEMPTS"] = "100000" }
    values.merge(settings) { _, new in new }
    let config = try AuthConfiguration.load(from: Environment(values))
    let app = try await buildAuthApplication(config, logger: Logger(label: "auth-test"))
    let mongo = try MongoClient(uri: TestServers.mongoURI, threads: 2)
    let db = mongo.database(database)
    do {
        try await app.test(live ? .live : .router) { client in try await test(client, db) }
    } catch {
        try? await db.drop()
        try await mongo.close()
        throw error
    }
    try await db.drop()
    try await mongo.close()
}

struct ErrorBody: Decodable {
    struct Detail: Decodable { let code: String; let requestId: String }
    let message: String
    let error: Detail
}

struct SessionBody: Decodable {
    struct User: Decodable { let _id: String; let id: String; let firstName: String; let lastName: String; let emailId: String; let role: String }
    let message: String
    let data: User
    let access_token: String
    let token_type: String
    let expires_in: Int
    let refresh_token: String
}

let json: HTTPFields = [.contentType: "application/json"]

func body(_ object: [String: Any]) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
}

/// The error body's code, or a marker when the body is not one.
func errorCode(_ response: TestResponse) -> String {
    (try? decode(ErrorBody.self, response))?.error.code ?? "<not an error body: \(String(buffer: response.body))>"
}

func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
    try JSONDecoder().decode(type, from: Data(buffer: response.body))
}

func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

/// A status, and the error code when the body is an error body.
func outcome(_ response: TestResponse) -> String {
    "\(response.status.code) \((try? decode(ErrorBody.self, response))?.error.code ?? "")"
}

func login(_ client: any TestClientProtocol, email: String = "ada@example.com", password: String = "correct horse 1") async throws -> SessionBody {
    try await client.execute(uri: "/login", method: .post, headers: json, body: body(["emailId": email, "password": password])) { response in
        guard response.status == .ok else { throw TestFailure("login answered \(response.status): \(String(buffer: response.body))") }
        return try decode(SessionBody.self, response)
    }
}

func signup(_ client: any TestClientProtocol, email: String = "ada@example.com", password: String = "correct horse 1") async throws -> SessionBody {
    try await client.execute(uri: "/signup", method: .post, headers: json,
                             body: body(["firstName": "Ada", "lastName": "Lovelace", "emailId": email, "password": password])) { response in
        guard response.status == .created else { throw TestFailure("signup answered \(response.status): \(String(buffer: response.body))") }
        return try decode(SessionBody.self, response)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
