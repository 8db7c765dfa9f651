@testable import Auth
import Foundation
import Hummingbird
import HummingbirdTesting
import Redis
import ServiceKit
import Testing
import TestSupport

/// Over real sockets, so the client address is real: the test is the trusted proxy
/// (127.0.0.1) and names the client in `X-Forwarded-For`, as the gateway does.
@Suite struct LoginThrottleTests {
    /// Test-only addresses (RFC 3849's 2001:db8::/32), random over 64 bits: counters are per
    /// address in a Redis shared with every suite running at once, so no two may meet.
    static func someIP() -> String { "2001:db8::" + (0..<4).map { _ in String(UInt16.random(in: 1...UInt16.max), radix: 16) }.joined(separator: ":") }

    @Test func theSixteenthAttemptOnOneAccountIs429() async throws {
        let ip = Self.someIP()
        let otherIP = Self.someIP()
        let email = "throttle-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        try await withAuthApp(live: true) { client, _ in
            _ = try await signup(client, email: email)
            for attempt in 1...15 {
                // Alternating addresses: the account's own count reaches 15 either way.
                let from = attempt.isMultiple(of: 2) ? ip : otherIP
                try await client.execute(uri: "/login", method: .post, headers: Self.headers(from: from),
                                         body: body(["emailId": email, "password": "wrong password 9"])) {
                    #expect(outcome($0) == "401 unauthorized", "attempt \(attempt)")
                }
            }
            // The 16th is refused even with the right password, from a third address.
            try await client.execute(uri: "/login", method: .post, headers: Self.headers(from: Self.someIP()),
                                     body: body(["emailId": email, "password": "correct horse 1"])) { response in
                #expect(outcome(response) == "429 rate_limited")
                let retry = Int(response.headers[.retryAfter] ?? "") ?? 0
                #expect(retry > 800 && retry <= 900, "Retry-After is what is left of the 15-minute window: \(retry)")
            }
        }
        try await Self.forget(ips: [ip, otherIP], emails: [email])
    }

    @Test func theSixteenthAttemptFromOneAddressIs429() async throws {
        let ip = "192.0.2.\(Int.random(in: 1...254))"
        let emails = (1...17).map { "nobody-\($0)-\(UUID().uuidString.prefix(6).lowercased())@example.com" }
        try await withAuthApp(live: true) { client, _ in
            for (attempt, email) in emails.prefix(15).enumerated() {
                try await client.execute(uri: "/login", method: .post, headers: Self.headers(from: ip),
                                         body: body(["emailId": email, "password": "whatever 1"])) {
                    #expect(outcome($0) == "401 unauthorized", "attempt \(attempt + 1)")
                }
            }
            try await client.execute(uri: "/login", method: .post, headers: Self.headers(from: ip),
                                     body: body(["emailId": emails[15], "password": "whatever 1"])) {
                #expect(outcome($0) == "429 rate_limited")
                #expect($0.headers[.retryAfter] != nil)
            }
            // Another client is counted separately; a client cannot pick its own address by
            // prepending to X-Forwarded-For (only the entry our proxy appended counts).
            try await client.execute(uri: "/login", method: .post, headers: Self.headers(from: "\(ip), \(Self.someIP())"),
                                     body: body(["emailId": emails[16], "password": "whatever 1"])) {
                #expect(outcome($0) == "401 unauthorized")
            }
            try await client.execute(uri: "/login", method: .post, headers: Self.headers(from: "\(Self.someIP()), \(ip)"),
                                     body: body(["emailId": emails[16], "password": "whatever 1"])) {
                #expect(outcome($0) == "429 rate_limited", "a forged left-most entry does not escape the limit")
            }
        }
        try await Self.forget(ips: [ip], emails: emails)
    }

    /// A stolen access token is no way around the limit: guesses at the current password count too.
    @Test func changePasswordGuessesCountAsAttempts() async throws {
        let ip = Self.someIP()
        let email = "guess-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        try await withAuthApp(live: true) { client, _ in
            let session = try await signup(client, email: email)
            var headers = Self.headers(from: ip)
            headers[.authorization] = "Bearer \(session.access_token)"
            for attempt in 1...15 {
                try await client.execute(uri: "/changePassword", method: .patch, headers: headers,
                                         body: body(["oldPassword": "guess number \(attempt)", "newPassword": "new horse 22"])) {
                    #expect(outcome($0) == "401 wrong_password", "attempt \(attempt)")
                }
            }
            try await client.execute(uri: "/changePassword", method: .patch, headers: headers,
                                     body: body(["oldPassword": "correct horse 1", "newPassword": "new horse 22"])) {
                #expect(outcome($0) == "429 rate_limited")
            }
        }
        try await Self.forget(ips: [ip], emails: [email])
    }

    static func headers(from forwardedFor: String) -> HTTPFields {
        [.contentType: "application/json", .xForwardedFor: forwardedFor]
    }

    /// Removes the counters the test made.
    static func forget(ips: [String], emails: [String]) async throws {
        let redis = RedisClient(port: TestServers.redisPort)
        _ = try await redis.del(ips.map(LoginThrottle.ipKey) + emails.map(LoginThrottle.accountKey))
        try await redis.close()
    }
}
