import Auth
import BSON
import Foundation
import Hummingbird
import HummingbirdTesting
import Mongo
import Redis
import TestSupport
import Testing

/// Refresh tokens, logout, and the sessions that changePassword and DELETE /me end.
@Suite struct SessionTests {
    /// signup → login → me → refresh → old refresh token reused → family revoked → logout → access refused.
    @Test func theWholeSessionLifeCycle() async throws {
        try await withAuthApp(["AUTH_REFRESH_GRACE_SECONDS": "0"]) { client, db in
            let signedUp = try await signup(client)
            #expect(signedUp.refresh_token.count == 43 && signedUp.refresh_token != signedUp.access_token)
            // Only the token's hash is stored.
            let stored = try await db.collection("refresh_tokens", of: BSONDocument.self).findAll()
            #expect(stored.count == 1 && !String(describing: stored).contains(signedUp.refresh_token))

            let session = try await login(client)
            try await client.execute(uri: "/me", method: .get, headers: bearer(session.access_token)) { #expect($0.status == .ok) }

            let refreshed = try await refresh(client, session.refresh_token)
            #expect(refreshed.refresh_token != session.refresh_token && refreshed.access_token != session.access_token)
            #expect(refreshed.message == "Token refreshed" && refreshed.data.id == session.data.id)
            try await client.execute(uri: "/me", method: .get, headers: bearer(refreshed.access_token)) { #expect($0.status == .ok) }

            // The rotated token comes back: a copy is loose, so the whole session ends.
            try await client.execute(uri: "/refresh", method: .post, headers: json, body: body(["refresh_token": session.refresh_token])) {
                #expect(outcome($0) == "401 refresh_token_reused")
            }
            try await client.execute(uri: "/refresh", method: .post, headers: json, body: body(["refresh_token": refreshed.refresh_token])) {
                #expect(outcome($0) == "401 unauthorized", "the family's newest token is revoked too")
            }
            for token in [session.access_token, refreshed.access_token] {
                try await client.execute(uri: "/me", method: .get, headers: bearer(token)) {
                    #expect(outcome($0) == "401 unauthorized", "the family's access tokens are denied")
                }
            }
            // The signup session is another family and lives on.
            try await client.execute(uri: "/me", method: .get, headers: bearer(signedUp.access_token)) { #expect($0.status == .ok) }

            // Logout: the session's refresh token and access token stop working; cookies are cleared.
            try await client.execute(uri: "/logout", method: .post, headers: [.authorization: "Bearer \(signedUp.access_token)"]) { response in
                #expect(response.status == .ok)
                let cookies = response.headers[values: .setCookie]
                #expect(cookies.count == 2 && cookies.allSatisfy { $0.contains("Max-Age=0") })
            }
            try await client.execute(uri: "/me", method: .get, headers: bearer(signedUp.access_token)) { response in
                #expect(outcome(response) == "401 unauthorized")
                #expect((try? decode(ErrorBody.self, response))?.message == "Invalid or expired token")
            }
            try await client.execute(uri: "/refresh", method: .post, headers: json, body: body(["refreshToken": signedUp.refresh_token])) {
                #expect(outcome($0) == "401 unauthorized")
            }
            // Logging out again changes nothing and still answers 200.
            try await client.execute(uri: "/logout", method: .post) { #expect($0.status == .ok) }
        }
    }

    /// Two tabs refresh with the same token at once: both get a working pair, nobody is logged out.
    @Test func twoTabsRefreshingAtOnceBothKeepTheSession() async throws {
        try await withAuthApp { client, _ in
            let session = try await signup(client)
            async let first = refresh(client, session.refresh_token)
            async let second = refresh(client, session.refresh_token)
            let (a, b) = try await (first, second)
            #expect(a.refresh_token != b.refresh_token)
            for pair in [a, b] {
                try await client.execute(uri: "/me", method: .get, headers: bearer(pair.access_token)) { #expect($0.status == .ok) }
                _ = try await refresh(client, pair.refresh_token)
            }
        }
    }

    /// Browser clients: the refresh token travels in its cookie, the new pair comes back in cookies.
    @Test func cookieClientsRefreshWithoutABody() async throws {
        try await withAuthApp { client, _ in
            let session = try await signup(client)
            try await client.execute(uri: "/signup", method: .post, headers: json,
                                     body: body(["firstName": "C", "lastName": "D", "emailId": "c@example.com", "password": "correct horse 1"])) { response in
                let cookies = response.headers[values: .setCookie]
                #expect(cookies.contains { $0.hasPrefix("refresh_token=") && $0.contains("HttpOnly") && $0.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.contains("Path=/") },
                        "the refresh cookie goes to every path: the gateway refreshes from it, and passes it to auth alone")
                #expect(cookies.contains { $0.hasPrefix("token=") && $0.contains("HttpOnly") && $0.contains("SameSite=Lax") })
            }
            try await client.execute(uri: "/refresh", method: .post, headers: [.cookie: "refresh_token=\(session.refresh_token)"]) { response in
                #expect(response.status == .ok)
                let fresh = try decode(SessionBody.self, response)
                #expect(response.headers[values: .setCookie].contains { $0.hasPrefix("refresh_token=\(fresh.refresh_token)") })
            }
            try await client.execute(uri: "/refresh", method: .post) { #expect(outcome($0) == "401 unauthorized") }
            // A refused refresh token clears both cookies: the browser stops presenting a dead session.
            try await client.execute(uri: "/refresh", method: .post, headers: [.cookie: "refresh_token=not-a-live-token"]) { response in
                #expect(outcome(response) == "401 unauthorized")
                let cleared = response.headers[values: .setCookie]
                #expect(cleared.contains { $0.hasPrefix("refresh_token=;") && $0.contains("Max-Age=0") } && cleared.contains { $0.hasPrefix("token=;") && $0.contains("Max-Age=0") },
                        "\(cleared)")
            }
        }
    }

    @Test func changingThePasswordEndsEveryOtherSession() async throws {
        try await withAuthApp { client, _ in
            let here = try await signup(client)
            let elsewhere = try await login(client)
            let cases: [([String: Any], String)] = [
                (["oldPassword": "wrong password 1", "newPassword": "new horse 22"], "401 wrong_password"),
                (["oldPassword": "correct horse 1", "newPassword": "short"], "400 weak_password"),
                (["oldPassword": "correct horse 1", "newPassword": "correct horse 1"], "400 same_password"),
                (["oldPassword": "correct horse 1"], "400 missing_field"),
                (["oldPassword": ["$ne": ""], "newPassword": "new horse 22"], "400 invalid_field"),
            ]
            for (request, expected) in cases {
                try await client.execute(uri: "/changePassword", method: .patch, headers: bearer(here.access_token), body: body(request)) {
                    #expect(outcome($0) == expected, "\(request)")
                }
            }
            try await client.execute(uri: "/changePassword", method: .patch, headers: json,
                                     body: body(["oldPassword": "correct horse 1", "newPassword": "new horse 22"])) {
                #expect(outcome($0) == "401 unauthorized")
            }
            // `currentPassword` is the other seed designs' name for it.
            try await client.execute(uri: "/changePassword", method: .patch, headers: bearer(here.access_token),
                                     body: body(["currentPassword": "correct horse 1", "newPassword": "new horse 22"])) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/me", method: .get, headers: bearer(here.access_token)) { #expect($0.status == .ok, "this session stays") }
            try await client.execute(uri: "/me", method: .get, headers: bearer(elsewhere.access_token)) { #expect(outcome($0) == "401 unauthorized") }
            try await client.execute(uri: "/refresh", method: .post, headers: json, body: body(["refresh_token": elsewhere.refresh_token])) {
                #expect(outcome($0) == "401 unauthorized")
            }
            _ = try await refresh(client, here.refresh_token)
            await #expect(throws: TestFailure.self) { try await login(client) }
            _ = try await login(client, password: "new horse 22")
        }
    }

    @Test func getUserByEmailNeedsAnIdentity() async throws {
        try await withAuthApp { client, _ in
            let ada = try await signup(client)
            let bob = try await signup(client, email: "bob@example.com")
            try await client.execute(uri: "/getUserByEmail?emailId=bob@example.com", method: .get) { #expect(outcome($0) == "401 unauthorized") }
            try await client.execute(uri: "/getUserByEmail?emailId=%20BOB@example.com", method: .get, headers: bearer(ada.access_token)) { response in
                #expect(response.status == .ok)
                let found = try decode(UserBody.self, response)
                #expect(found.data.id == bob.data.id && found.message == "User fetched successfully")
                #expect(!String(buffer: response.body).contains("argon2") && !String(buffer: response.body).contains("password"))
            }
            try await client.execute(uri: "/getUserByEmail?email=bob@example.com", method: .get, headers: bearer(ada.access_token)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/getUserByEmail?emailId=carol@example.com", method: .get, headers: bearer(ada.access_token)) {
                #expect(outcome($0) == "404 not_found")
            }
            try await client.execute(uri: "/getUserByEmail", method: .get, headers: bearer(ada.access_token)) { #expect(outcome($0) == "400 missing_field") }
            try await client.execute(uri: "/getUserByEmail?emailId[$ne]=x", method: .get, headers: bearer(ada.access_token)) {
                #expect(outcome($0) == "400 missing_field", "an operator-looking parameter is just an unknown name")
            }
            try await client.execute(uri: "/getUserByEmail?emailId=%7B%22%24ne%22%3A1%7D", method: .get, headers: bearer(ada.access_token)) {
                #expect(outcome($0) == "400 invalid_email")
            }
        }
    }

    @Test func deletingTheAccountEndsEverything() async throws {
        try await withAuthApp { client, db in
            let ada = try await signup(client)
            let other = try await login(client)
            let bob = try await signup(client, email: "bob@example.com")
            try await client.execute(uri: "/me", method: .delete) { #expect(outcome($0) == "401 unauthorized") }
            try await client.execute(uri: "/me", method: .delete, headers: bearer(ada.access_token)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[values: .setCookie].allSatisfy { $0.contains("Max-Age=0") })
            }
            let users = db.collection("users", of: BSONDocument.self)
            #expect(try await users.count() == 1, "only bob is left")
            let events = try await db.collection("outbox", of: BSONDocument.self).findAll(.eq("type", "auth.user.deleted"))
            #expect(events.count == 1 && events[0]["body"]?.stringValue?.contains(ada.data.id) == true)

            for token in [ada.access_token, other.access_token] {
                try await client.execute(uri: "/me", method: .get, headers: bearer(token)) { #expect(outcome($0) == "401 unauthorized") }
            }
            for token in [ada.refresh_token, other.refresh_token] {
                try await client.execute(uri: "/refresh", method: .post, headers: json, body: body(["refresh_token": token])) {
                    #expect(outcome($0) == "401 unauthorized")
                }
            }
            await #expect(throws: TestFailure.self) { try await login(client) }
            try await client.execute(uri: "/me", method: .get, headers: bearer(bob.access_token)) { #expect($0.status == .ok) }
        }
    }

    /// `GET /me` answers from the cache of public records once it has read one (the
    /// database is not asked again: here the record is gone from it and /me still answers),
    /// and deleting the account drops the entry.
    @Test func meIsAnsweredFromTheCacheAndDeletionDropsIt() async throws {
        try await withAuthApp { client, db in
            let redis = RedisClient(port: TestServers.redisPort)
            let ada = try await signup(client)
            let bob = try await signup(client, email: "bob@example.com")
            for token in [ada.access_token, bob.access_token] {
                try await client.execute(uri: "/me", method: .get, headers: bearer(token)) { #expect($0.status == .ok) }
            }
            #expect(try await redis.get("auth:v2:me:\(bob.data.id)") != nil)
            let users = db.collection("users", of: BSONDocument.self)
            #expect(try await users.deleteOne(.eq("_id", ObjectId(ada.data.id)!)) == 1)
            try await client.execute(uri: "/me", method: .get, headers: bearer(ada.access_token)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(ada.data.id))
            }
            try await client.execute(uri: "/me", method: .delete, headers: bearer(bob.access_token)) { #expect($0.status == .ok) }
            #expect(try await redis.get("auth:v2:me:\(bob.data.id)") == nil)
            _ = try await redis.del("auth:v2:me:\(ada.data.id)")
            try await redis.close()
        }
    }

    @Test func badInputOnTheSessionEndpointsIsRefused() async throws {
        try await withAuthApp { client, db in
            let session = try await signup(client)
            let cases: [(String, HTTPRequest.Method, ByteBuffer, String)] = [
                ("/refresh", .post, body(["refresh_token": 5]), "400 invalid_field"),
                ("/refresh", .post, body(["refresh_token": ["$ne": ""]]), "400 invalid_field"),
                ("/refresh", .post, ByteBuffer(string: "{not json"), "400 invalid_body"),
                ("/refresh", .post, body(["refresh_token": String(repeating: "a", count: 300)]), "401 unauthorized"),
                ("/refresh", .post, body(["refresh_token": "made-up"]), "401 unauthorized"),
                ("/logout", .post, body(["refresh_token": ["$gt": ""]]), "400 invalid_field"),
                ("/login", .post, body(["emailId": "ada@example.com"]), "400 missing_field"),
                ("/login", .post, body(["emailId": "not-an-email", "password": "x"]), "400 invalid_email"),
                ("/changePassword", .patch, body(["oldPassword": 1, "newPassword": 2]), "400 invalid_field"),
            ]
            let huge = ByteBuffer(string: #"{"refresh_token":""# + String(repeating: "a", count: 2 * 1024 * 1024) + #""}"#)
            let oversized = ["/refresh", "/logout", "/login", "/changePassword"].map { path in
                (path, path == "/changePassword" ? HTTPRequest.Method.patch : .post, huge, "413 payload_too_large")
            }
            for (path, method, payload, expected) in cases + oversized {
                try await client.execute(uri: path, method: method, headers: bearer(session.access_token), body: payload) {
                    #expect(outcome($0) == expected, "\(path) \(String(buffer: payload).prefix(60))")
                }
            }
            // Logging out with a token that cannot be ours ends nothing, and is no error (idempotent).
            for token in [String(repeating: "a", count: 300), "made-up"] {
                try await client.execute(uri: "/logout", method: .post, headers: json, body: body(["refresh_token": token])) {
                    #expect($0.status == .ok, "logout with a \(token.count)-character token")
                }
            }
            // Nothing changed: one user, one session, still usable.
            #expect(try await db.collection("users", of: BSONDocument.self).count() == 1)
            _ = try await refresh(client, session.refresh_token)
        }
    }
}

struct UserBody: Decodable {
    let message: String
    let data: SessionBody.User
}

func refresh(_ client: any TestClientProtocol, _ token: String) async throws -> SessionBody {
    try await client.execute(uri: "/refresh", method: .post, headers: json, body: body(["refresh_token": token])) { response in
        guard response.status == .ok else { throw TestFailure("refresh answered \(response.status): \(String(buffer: response.body))") }
        return try decode(SessionBody.self, response)
    }
}
