import Foundation
import Hummingbird
import HummingbirdTesting
import Mongo
import Redis
import ServiceKit
import TestSupport
import Testing

struct ErrorBody: Decodable {
    struct Detail: Decodable {
        let code: String
        let requestId: String
    }
    let message: String
    let error: Detail
}

private func testRouter(checks: [ReadinessCheck] = []) -> Router<ServiceRequestContext> {
    let router = makeServiceRouter(checks: checks)
    router.get("/conflict") { _, _ -> String in throw APIError.conflict("Email already registered", code: "email_taken") }
    router.get("/boom") { _, _ -> String in throw CocoaError(.fileNoSuchFile, userInfo: ["path": "/secret/place"]) }
    router.get("/mongo-down") { _, _ -> String in throw MongoError.unavailable(message: "no server") }
    router.get("/limited") { _, _ -> String in throw APIError.tooManyRequests(retryAfterSeconds: 7) }
    router.get("/duplicate") { _, _ -> String in throw MongoError.duplicateKey(message: "E11000 email_1") }
    router.post("/echo") { request, context -> String in
        struct In: Decodable { let n: Int }
        return String(try await request.decode(as: In.self, context: context).n)
    }
    router.post("/strict") { request, context -> String in
        struct In: Decodable { let n: Int; let secret: String }
        return String(try await request.decodeBody(as: In.self, context: context).n)
    }
    router.get("/id") { _, context in context.requestId }
    router.get("/items/:id") { _, _ in "item" }
    router.put("/items/:id") { _, _ in "put" }
    router.put("/items/special") { _, _ in "special" }
    return router
}

@Suite struct ServiceRouterTests {
    @Test func requestIdIsGeneratedPassedOnOrReplaced() async throws {
        let app = Application(router: testRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/id", method: .get) { response in
                let id = try #require(response.headers[.requestId])
                #expect(UUID(uuidString: id) != nil)
                #expect(String(buffer: response.body) == id, "the handler sees the same id")
            }
            try await client.execute(uri: "/id", method: .get, headers: [.requestId: "abc-123_x.y"]) { response in
                #expect(response.headers[.requestId] == "abc-123_x.y")
            }
            // Ids that could forge log lines or bloat them are replaced.
            for bad in ["has space", "new\\nline", String(repeating: "a", count: 129), "{\"$ne\":1}"] {
                try await client.execute(uri: "/id", method: .get, headers: [.requestId: bad]) { response in
                    let id = try #require(response.headers[.requestId])
                    #expect(id != bad && UUID(uuidString: id) != nil)
                }
            }
        }
    }

    @Test func errorsHaveTheDesignBodyAndTheRightStatus() async throws {
        let app = Application(router: testRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/conflict", method: .get, headers: [.requestId: "r1"]) { response in
                #expect(response.status == .conflict)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let body = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                #expect(body.message == "Email already registered")
                #expect(body.error.code == "email_taken" && body.error.requestId == "r1")
            }
            try await client.execute(uri: "/boom", method: .get) { response in
                #expect(response.status == .internalServerError)
                let text = String(buffer: response.body)
                #expect(!text.contains("/secret/place"), "internal details stay in the log")
                let decoded = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                #expect(decoded.error.code == "internal")
            }
            try await client.execute(uri: "/mongo-down", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
            try await client.execute(uri: "/duplicate", method: .get) { response in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: "/limited", method: .get) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] == "7")
            }
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
                let decoded = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                #expect(decoded.error.code == "no_route", "an unknown route is told apart from a missing record")
            }
            // A path that exists for other methods: 405 and what is allowed (RFC 9110 §15.5.6).
            try await client.execute(uri: "/items/42", method: .delete) { response in
                #expect(response.status == .methodNotAllowed && response.headers[.allow] == "GET, PUT")
                let decoded = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                #expect(decoded.error.code == "method_not_allowed")
            }
            try await client.execute(uri: "/items/42/more", method: .delete) { #expect($0.status == .notFound, "a longer path is another path") }
            try await client.execute(uri: "/conflict", method: .post) { #expect($0.headers[.allow] == "GET") }
            // A constant segment wins over a capture, as the router routes: /items/special is PUT only.
            try await client.execute(uri: "/items/special", method: .get) { #expect($0.status == .methodNotAllowed && $0.headers[.allow] == "PUT") }
        }
    }

    @Test func badBodiesAreClientErrors() async throws {
        let app = Application(router: testRouter())
        try await app.test(.router) { client in
            let json: HTTPFields = [.contentType: "application/json"]
            try await client.execute(uri: "/echo", method: .post, headers: json, body: ByteBuffer(string: #"{"n": 5}"#)) { response in
                #expect(response.status == .ok && String(buffer: response.body) == "5")
            }
            for bad in [#"{"n": "5"}"#, #"{"m": 5}"#, #"{"n": {"$gt": 1}}"#, "not json", ""] {
                try await client.execute(uri: "/echo", method: .post, headers: json, body: ByteBuffer(string: bad)) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                    let decoded = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                    #expect(decoded.error.requestId.isEmpty == false)
                }
            }
            let huge = ByteBuffer(string: #"{"n": 1, "pad": ""# + String(repeating: "x", count: 3 * 1024 * 1024) + #""}"#)
            try await client.execute(uri: "/echo", method: .post, headers: json, body: huge) { response in
                #expect(response.status == .contentTooLarge)
                let decoded = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                #expect(decoded.error.code == "payload_too_large")
            }
        }
    }
}

@Suite struct DecodeBodyTests {
    @Test func errorsNameTheFieldAndNeverEchoTheInput() async throws {
        let app = Application(router: testRouter())
        try await app.test(.router) { client in
            let cases: [(String, String, String)] = [
                (#"{"secret": "hunter2"}"#, "missing_field", "n is required"),
                (#"{"n": "hunter2", "secret": "x"}"#, "invalid_field", "n has the wrong type"),
                (#"{"n": 1, "secret": {"$ne": "hunter2"}}"#, "invalid_field", "secret has the wrong type"),
                ("hunter2", "invalid_body", "Request body is not valid JSON"),
            ]
            for (input, code, message) in cases {
                try await client.execute(uri: "/strict", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: input)) { response in
                    #expect(response.status == .badRequest)
                    let decoded = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                    #expect(decoded.error.code == code && decoded.message == message, "\(input)")
                    #expect(!String(buffer: response.body).contains("hunter2"))
                }
            }
        }
    }
}

@Suite struct HealthTests {
    @Test func healthAnswersWithoutDependencies() async throws {
        let app = Application(router: testRouter(checks: [ReadinessCheck("never") { throw CancellationError() }]))
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"ok\""))
            }
        }
    }

    /// Real servers, real sockets: /ready reports each dependency.
    @Test func readyReportsEachDependency() async throws {
        let mongo = try MongoClient(uri: TestServers.mongoURI, threads: 1)
        let redis = RedisClient(port: TestServers.redisPort, connections: 1)
        let deadRedis = RedisClient(port: 1, connections: 1, timeoutSeconds: 0.3)
        struct Ready: Decodable { let status: String; let checks: [String: String] }

        let up = Application(router: testRouter(checks: [.mongo(mongo), .redis(redis)]))
        try await up.test(.live) { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                let body = try JSONDecoder().decode(Ready.self, from: Data(buffer: response.body))
                #expect(body.status == "ready" && body.checks == ["mongo": "up", "redis": "up"])
            }
        }

        let slow = ReadinessCheck("slow") { try await Task.sleep(for: .seconds(30)) }
        let down = Application(router: testRouter(checks: [.mongo(mongo), .redis(deadRedis), slow]))
        try await down.test(.live) { client in
            let started = ContinuousClock.now
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try JSONDecoder().decode(Ready.self, from: Data(buffer: response.body))
                #expect(body.checks == ["mongo": "up", "redis": "down", "slow": "down"])
            }
            #expect(ContinuousClock.now - started < .seconds(10), "a hanging dependency is cut off by the timeout")
        }
        try await mongo.close()
        try await redis.close()
        try await deadRedis.close()
    }
}
