import AMQP
import BSON
import Auth
import Chat
import Events
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Mongo
import Profile
import RequestService
import ServiceKit
import TestSupport

/// Auth, profile and request as their App+build functions make them, wired to the real
/// servers: auth over a real socket (the others fetch its JWKS), events through the real
/// RabbitMQ. Every run has its own databases and queues, removed afterwards.
public struct Stack: Sendable {
    public let auth: any TestClientProtocol
    public let profile: any TestClientProtocol
    public let request: any TestClientProtocol
    public let profileDB: MongoDatabase
    public let requestDB: MongoDatabase
    public let authDB: MongoDatabase
    /// Chat replicas over real sockets (Socket.IO needs them), sharing one database and
    /// one consumer name; empty unless asked for.
    public let chats: [any TestClientProtocol]
    public let chatDB: MongoDatabase
    /// The routes each service registered.
    public let routes: RouteCatalog

    /// `redisPort` for profile and request (the fault Redis, for outage tests); `chatEnvironment`
    /// adds to (or overrides) the chat replicas' settings.
    public static func run(
        redisPort: Int = TestServers.redisPort, chatReplicas: Int = 0, chatEnvironment: [String: String] = [:],
        _ body: @escaping @Sendable (Stack) async throws -> Void
    ) async throws {
        try await TestServers.serviceStacks.withLock {
            try await runStack(redisPort: redisPort, chatReplicas: chatReplicas, chatEnvironment: chatEnvironment, body)
        }
    }

    private static func runStack(redisPort: Int, chatReplicas: Int, chatEnvironment: [String: String],
                                 _ body: @escaping @Sendable (Stack) async throws -> Void) async throws {
        let names = (auth: TestServers.uniqueName("auth"), profile: TestServers.uniqueName("profile"), request: TestServers.uniqueName("request"),
                     chat: TestServers.uniqueName("chat"))
        let common = ["MONGO_URI": TestServers.mongoURI, "AMQP_PORT": String(TestServers.amqpPort), "LOG_LEVEL": "warning", "SHUTDOWN_GRACE_SECONDS": "3"]
        let mongo = try MongoClient(uri: TestServers.mongoURI, threads: 2)
        let routes = RouteCatalog()
        let authApp = try await buildAuthApplication(
            try AuthConfiguration.load(from: Environment(common.merging([
                "MONGO_DATABASE": names.auth, "REDIS_PORT": String(TestServers.redisPort), "AUTH_LOGIN_MAX_ATTEMPTS": "100000",
                "AUTH_SIGNING_KEY": TestSigningKey.pem,
            ]) { _, new in new })),
            logger: Logger(label: "auth"), routes: routes)
        do {
            try await authApp.test(.live) { auth in
                let services = common.merging([
                    "REDIS_PORT": String(redisPort), "AUTH_JWKS_URL": "http://127.0.0.1:\(auth.port!)/.well-known/jwks.json",
                ]) { _, new in new }
                let profileApp = try await buildProfileApplication(
                    try ProfileConfiguration.load(from: Environment(services.merging(["MONGO_DATABASE": names.profile, "EVENTS_CONSUMER_NAME": names.profile]) { _, n in n })),
                    logger: Logger(label: "profile"), routes: routes)
                let requestApp = try await buildRequestApplication(
                    try RequestConfiguration.load(from: Environment(services.merging(["MONGO_DATABASE": names.request, "EVENTS_CONSUMER_NAME": names.request]) { _, n in n })),
                    logger: Logger(label: "request"), routes: routes)
                let chatConfig = try ChatConfiguration.load(from: Environment(services.merging([
                    "MONGO_DATABASE": names.chat, "EVENTS_CONSUMER_NAME": names.chat,
                ]) { _, n in n }.merging(chatEnvironment) { _, n in n }))
                try await profileApp.test(.router) { profile in
                    try await requestApp.test(.router) { request in
                        try await live(replicas: chatReplicas, of: { try await buildChatApplication(chatConfig, logger: Logger(label: "chat"), routes: routes) }, []) { chats in
                            try await body(Stack(
                                auth: auth, profile: profile, request: request, profileDB: mongo.database(names.profile),
                                requestDB: mongo.database(names.request), authDB: mongo.database(names.auth),
                                chats: chats, chatDB: mongo.database(names.chat), routes: routes))
                        }
                    }
                }
            }
        } catch {
            try? await cleanUp(names: [names.auth, names.profile, names.request, names.chat], consumers: [names.profile, names.request, names.chat], mongo: mongo)
            throw error
        }
        try await cleanUp(names: [names.auth, names.profile, names.request, names.chat], consumers: [names.profile, names.request, names.chat], mongo: mongo)
    }

    /// Runs `replicas` apps made by `make` over real sockets, nested, then `body` with their clients.
    static func live<App: ApplicationProtocol>(
        replicas: Int, of make: @escaping @Sendable () async throws -> App, _ clients: [any TestClientProtocol],
        _ body: @escaping @Sendable ([any TestClientProtocol]) async throws -> Void
    ) async throws {
        guard clients.count < replicas else { return try await body(clients) }
        try await make().test(.live) { client in
            // Ready (its queues bound) and its test connection in use before anything else: a
            // chat server told to stop within milliseconds of starting, while that connection
            // was still being set up, could wait forever for it to close.
            let ready = await eventually(timeout: .seconds(20)) { try await client.execute(uri: "/ready", method: .get) { $0.status == .ok } }
            guard ready else { throw StackFailure("a chat replica did not become ready") }
            try await live(replicas: replicas, of: make, clients + [client], body)
        }
    }

    public static func cleanUp(names: [String], consumers: [String], mongo: MongoClient, amqpPort: Int = TestServers.amqpPort) async throws {
        let admin = AMQPAdmin(config: AMQPConfiguration(port: amqpPort))
        for consumer in consumers {
            for type in [UserCreated.type, UserDeleted.type, RequestAccepted.type, RequestRejected.type] {
                try await admin.deleteQueue(EventTopology.queue(service: consumer, type: type))
                try await admin.deleteQueue(EventTopology.deadLetterQueue(service: consumer, type: type))
            }
        }
        for name in names { try await mongo.database(name).drop() }
        try await mongo.close()
    }

    // MARK: acting as clients

    /// Signs a user up through auth; their profile and directory entry follow by event.
    public func signup(_ name: String) async throws -> TestUser {
        let email = "\(name.lowercased())-\(UInt32.random(in: 0...UInt32.max))@example.com"
        let body = #"{"firstName":"\#(name)","lastName":"Tester","emailId":"\#(email)","password":"correct horse 1"}"#
        return try await auth.execute(uri: "/signup", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) { response in
            guard response.status == .created else { throw StackFailure("signup answered \(response.status): \(String(buffer: response.body))") }
            let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            guard let token = object?["access_token"] as? String, let data = object?["data"] as? [String: Any], let id = data["id"] as? String else {
                throw StackFailure("signup body: \(String(buffer: response.body))")
            }
            return TestUser(id: id, email: email, token: token, name: name)
        }
    }

    /// Waits until both services have applied the user's `auth.user.created`.
    public func waitUntilKnown(_ user: TestUser, timeout: Duration = .seconds(20)) async throws {
        let profiles = profileDB.collection("profiles", of: BSONDocument.self)
        let directory = requestDB.collection("directory", of: BSONDocument.self)
        let known = await eventually(timeout: timeout) {
            let inProfile = try await profiles.count(.eq("_id", user.id))
            let inDirectory = try await directory.count(.eq("_id", user.id))
            return inProfile == 1 && inDirectory == 1
        }
        guard known else { throw StackFailure("\(user.name)'s auth.user.created was not applied within \(timeout)") }
    }

    /// Signs a user up and waits for the event to reach both services.
    public func user(_ name: String) async throws -> TestUser {
        let user = try await signup(name)
        try await waitUntilKnown(user)
        return user
    }
}

public struct TestUser: Sendable {
    public let id: String
    public let email: String
    public let token: String
    public let name: String

    public var bearer: HTTPFields { [.authorization: "Bearer \(token)"] }
    public var json: HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }
}

public struct StackFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

// MARK: reading responses

/// `"<status> <error code>"` for error bodies, `"<status>"` otherwise.
public func outcome(_ response: TestResponse) -> String {
    let object = try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
    let code = (object?["error"] as? [String: Any])?["code"] as? String
    return code.map { "\(response.status.code) \($0)" } ?? "\(response.status.code)"
}

public func jsonObject(_ response: TestResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:]
}

/// A bare JSON array of objects (the chat service's lists), or empty.
public func jsonArray(_ response: TestResponse) -> [[String: Any]] {
    (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]]) ?? []
}

public func json(_ object: Any) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
}
