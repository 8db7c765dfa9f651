import Auth
import BSON
import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import Mongo
import Testing

@Suite struct SignupLoginTests {
    @Test func signupLoginAndMe() async throws {
        try await withAuthApp { client, db in
            let created = try await signup(client, email: "  Ada@Example.COM ")
            #expect(created.message == "User registered successfully" && created.token_type == "Bearer" && created.expires_in == 900)
            #expect(created.data.emailId == "ada@example.com", "emails are trimmed and lower-cased")
            #expect(created.data._id == created.data.id && ObjectId(created.data.id) != nil)

            // Stored: one user, an Argon2id hash (never the password), and the event in the outbox.
            let stored = try #require(try await db.collection("users", of: BSONDocument.self).findOne(.eq("email", "ada@example.com")))
            #expect(stored["passwordHash"]?.stringValue?.hasPrefix("$argon2id$") == true)
            let events = try await db.collection("outbox", of: BSONDocument.self).findAll()
            #expect(events.count == 1 && events[0]["type"] == "auth.user.created")
            #expect(events[0]["body"]?.stringValue?.contains(created.data.id) == true)

            try await client.execute(uri: "/login", method: .post, headers: json,
                                     body: body(["email": "ADA@example.com", "password": "correct horse 1"])) { response in
                #expect(response.status == .ok)
                let session = try decode(SessionBody.self, response)
                #expect(session.data.id == created.data.id && session.message == "Login successful")
                let cookie = try #require(response.headers[.setCookie])
                #expect(cookie.hasPrefix("token=\(session.access_token)") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"))
                #expect(!String(buffer: response.body).contains("argon2"), "no hash in a response")
            }

            try await client.execute(uri: "/me", method: .get, headers: [.authorization: "Bearer \(created.access_token)"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"emailId\":\"ada@example.com\""))
            }
            try await client.execute(uri: "/me", method: .get, headers: [.cookie: "token=\(created.access_token)"]) { response in
                #expect(response.status == .ok, "the cookie works as well as the header")
            }
            try await client.execute(uri: "/me", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(errorCode(response) == "unauthorized")
            }
        }
    }

    @Test func wrongPasswordAndUnknownEmailGetTheSameAnswer() async throws {
        try await withAuthApp { client, _ in
            _ = try await signup(client)
            var answers: [String] = []
            for (email, password) in [("ada@example.com", "wrong password 1"), ("nobody@example.com", "correct horse 1")] {
                try await client.execute(uri: "/login", method: .post, headers: json, body: body(["emailId": email, "password": password])) { response in
                    #expect(response.status == .unauthorized)
                    answers.append(try decode(ErrorBody.self, response).message)
                }
            }
            #expect(answers.count == 2 && answers[0] == answers[1] && answers[0] == "Invalid email or password")
        }
    }

    @Test func aStaleCookieDoesNotStopALogin() async throws {
        try await withAuthApp { client, _ in
            _ = try await signup(client)
            let stale: HTTPFields = [.contentType: "application/json", .cookie: "token=expired.or.forged"]
            try await client.execute(uri: "/login", method: .post, headers: stale,
                                     body: body(["emailId": "ada@example.com", "password": "correct horse 1"])) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/me", method: .get, headers: stale) { response in
                #expect(response.status == .unauthorized)
                #expect((try? decode(ErrorBody.self, response))?.message == "Invalid or expired token")
            }
        }
    }

    @Test func aTakenEmailIsAConflict() async throws {
        try await withAuthApp { client, db in
            _ = try await signup(client)
            try await client.execute(uri: "/register", method: .post, headers: json,
                                     body: body(["firstName": "B", "lastName": "C", "emailId": "ADA@example.com", "password": "another one 2"])) { response in
                #expect(response.status == .conflict)
                #expect(errorCode(response) == "email_taken")
            }
            #expect(try await db.collection("users", of: BSONDocument.self).count() == 1)
            #expect(try await db.collection("outbox", of: BSONDocument.self).count() == 1, "no event for the refused signup")
        }
    }

    @Test func badInputIsRefusedAndNothingIsStored() async throws {
        try await withAuthApp { client, db in
            let valid: [String: Any] = ["firstName": "Ada", "lastName": "L", "emailId": "ok@example.com", "password": "correct horse 1"]
            let cases: [(String, [String: Any], String)] = [
                ("missing field", valid.filter { $0.key != "lastName" }, "missing_field"),
                ("number for a string", valid.merging(["firstName": 5]) { _, n in n }, "invalid_field"),
                ("operator object", valid.merging(["emailId": ["$ne": ""]]) { _, n in n }, "invalid_field"),
                ("invalid email", valid.merging(["emailId": "not-an-email"]) { _, n in n }, "invalid_email"),
                ("weak password", valid.merging(["password": "short"]) { _, n in n }, "weak_password"),
                ("empty name", valid.merging(["firstName": "   "]) { _, n in n }, "invalid_firstName"),
            ]
            for (name, object, code) in cases {
                try await client.execute(uri: "/signup", method: .post, headers: json, body: body(object)) { response in
                    #expect(response.status == .badRequest, "\(name)")
                    #expect(errorCode(response) == code, "\(name)")
                }
            }
            try await client.execute(uri: "/signup", method: .post, headers: json, body: ByteBuffer(string: "[1,2]")) { response in
                #expect(response.status == .badRequest)
            }
            let huge = ByteBuffer(string: #"{"firstName":""# + String(repeating: "a", count: 2 * 1024 * 1024) + #""}"#)
            try await client.execute(uri: "/signup", method: .post, headers: json, body: huge) { response in
                #expect(response.status == .contentTooLarge)
            }
            try await client.execute(uri: "/login", method: .post, headers: json, body: body(["emailId": ["$gt": ""], "password": "x"])) { response in
                #expect(response.status == .badRequest)
            }
            #expect(try await db.collection("users", of: BSONDocument.self).count() == 0)
            #expect(try await db.collection("outbox", of: BSONDocument.self).count() == 0)
        }
    }
}
