import Auth
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Mongo
import ServiceKit
import Synchronization
import Testing
import ServiceTestSupport
import TestSupport
@testable import Gateway

/// A browser of the reference system through the gateway: it keeps its cookies and never
/// calls /auth/refresh. The real auth service (on the test servers) issues the tokens
/// with a clock the test moves, so an access token is expired, or a session old, without
/// waiting; the gateway refreshes on the way.
@Suite struct SessionRefreshTests {
    /// Auth's clock: real time plus an offset the test sets.
    final class MovableClock: Sendable {
        private let offset = Mutex<TimeInterval>(0)
        func set(_ seconds: TimeInterval) { offset.withLock { $0 = seconds } }
        var now: @Sendable () -> Date { { [self] in Date().addingTimeInterval(offset.withLock { $0 }) } }
    }

    struct Browser {
        let port: Int
        var cookies: [String: String] = [:]

        var cookieField: String { cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }

        /// Sends the cookies it holds and keeps what `Set-Cookie` says, as a browser does.
        mutating func request(_ method: String, _ path: String, json: String? = nil) async throws -> RawHTTPResponse {
            var headers = ["X-Forwarded-For": "198.51.100.7"]
            if !cookies.isEmpty { headers["Cookie"] = cookieField }
            if json != nil { headers["Content-Type"] = "application/json" }
            let response = try await rawHTTP(method, port: port, path: path, headers: headers, body: json ?? "")
            absorb(response)
            return response
        }

        mutating func absorb(_ response: RawHTTPResponse) {
            for cookie in response.values("set-cookie") {
                let pair = cookie.split(separator: ";", maxSplits: 1)[0]
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let (name, value) = (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
                if value.isEmpty || cookie.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
            }
        }
    }

    static func withSessions(_ body: @Sendable (MovableClock, Int, Upstream) async throws -> Void) async throws {
        let clock = MovableClock()
        let database = TestServers.uniqueName("auth")
        let config = try AuthConfiguration.load(from: Environment([
            "MONGO_URI": TestServers.mongoURI, "MONGO_DATABASE": database, "REDIS_PORT": String(TestServers.redisPort),
            "AMQP_PORT": String(TestServers.amqpPort), "AUTH_LOGIN_MAX_ATTEMPTS": "1000", "LOG_LEVEL": "warning",
            "AUTH_SIGNING_KEY": TestSigningKey.pem,
        ]))
        let echo = try await Upstream.start("echo")
        try await TestServers.serviceStacks.withLock {
            try await buildAuthApplication(config, logger: Logger(label: "auth"), clock: clock.now).test(.live) { auth in
                try await GatewayProxyTests.withGateway("""
                    session_refresh {
                        endpoint /auth/refresh;
                        skip /auth/login /auth/signup /auth/logout;
                    }
                    route /auth/ { upstream 127.0.0.1:\(auth.port!); strip_prefix /auth; rate off; }
                    route /echo/ { upstream 127.0.0.1:\(echo.port); rate off; }
                    """) { _, port in
                    try await body(clock, port, echo)
                }
            }
        }
        await echo.stop()
        let mongo = try MongoClient(uri: TestServers.mongoURI, threads: 1)
        try? await mongo.database(database).drop()
        try await mongo.close()
    }

    static func signIn(_ port: Int, as name: String) async throws -> Browser {
        var browser = Browser(port: port)
        let email = "\(name)-\(UInt32.random(in: 0...UInt32.max))@example.com"
        let signup = try await browser.request("POST", "/auth/signup", json: #"{"firstName":"Ada","lastName":"Tester","emailId":"\#(email)","password":"Correct horse 1!"}"#)
        try #require(signup.status == 201, "\(signup.body)")
        let login = try await browser.request("POST", "/auth/login", json: #"{"emailId":"\#(email)","password":"Correct horse 1!"}"#)
        try #require(login.status == 200 && browser.cookies["token"] != nil && browser.cookies["refresh_token"] != nil, "\(login.body)")
        return browser
    }

    @Test func anExpiredAccessCookieIsRefreshedOnTheWayAndOnlyAuthSeesTheRefreshCookie() async throws {
        try await Self.withSessions { clock, port, _ in
            clock.set(-20 * 60)  // signed in twenty minutes ago: the 15-minute token is expired
            var browser = try await Self.signIn(port, as: "ada")
            clock.set(0)
            let (stale, refresh) = (browser.cookies["token"]!, browser.cookies["refresh_token"]!)
            let me = try await browser.request("GET", "/auth/me")
            #expect(me.status == 200, "refreshed on the way: \(me.status) \(me.body)")
            #expect(browser.cookies["token"] != stale && browser.cookies["refresh_token"] != refresh, "the browser holds the new pair")
            let expiry = try #require(SessionCookies.accessTokenExpiry(browser.cookies["token"]!))
            #expect(Double(expiry) - Date().timeIntervalSince1970 <= 15 * 60 + 5, "every access token still lives at most 15 minutes")

            // Another service: the new token arrives, the refresh cookie does not.
            let echoed = GatewayProxyTests.json(try await browser.request("GET", "/echo/x"))
            let cookie = (echoed["headers"] as? [String: String])?["cookie"] ?? ""
            #expect(cookie == "token=\(browser.cookies["token"]!)", "\(cookie)")
            #expect(try await browser.request("GET", "/echo/x").values("set-cookie").isEmpty, "a live token is not refreshed again")

            // The browser dropped the access cookie (its Max-Age passed): refreshed from the refresh cookie alone.
            browser.cookies["token"] = nil
            #expect(try await browser.request("GET", "/auth/me").status == 200 && browser.cookies["token"] != nil)
        }
    }

    @Test func parallelRequestsOfOneBrowserRefreshOnceAndTheSessionLivesOn() async throws {
        try await Self.withSessions { clock, port, _ in
            clock.set(-20 * 60)
            let browser = try await Self.signIn(port, as: "tabs")
            clock.set(0)
            let answers = try await withThrowingTaskGroup(of: RawHTTPResponse.self) { group in
                for _ in 0..<8 { group.addTask { var copy = browser; return try await copy.request("GET", "/auth/me") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.map(\.status) == Array(repeating: 200, count: 8), "\(answers.map(\.status))")
            let tokens = Set(answers.compactMap { answer in
                answer.values("set-cookie").first { $0.hasPrefix("refresh_token=") }
            })
            #expect(tokens.count == 1, "one refresh, its cookies handed to every request: \(tokens.count)")
            // The session goes on: its new refresh token refreshes again later (no reuse was seen).
            var next = browser
            next.absorb(answers[0])
            next.cookies["token"] = nil
            let later = try await next.request("GET", "/auth/me")
            #expect(later.status == 200, "\(later.body)")
        }
    }

    @Test func aDaysOldSessionStillRefreshesAndAnExpiredOneSignsOut() async throws {
        try await Self.withSessions { clock, port, _ in
            clock.set(-24 * 3600)  // the reference's cookie lived a day: so does a session here, and longer
            var dayOld = try await Self.signIn(port, as: "day")
            clock.set(0)
            #expect(try await dayOld.request("GET", "/auth/me").status == 200)

            clock.set(-31 * 86_400)  // past the refresh token's 30 days
            var monthOld = try await Self.signIn(port, as: "month")
            clock.set(0)
            let refused = try await monthOld.request("GET", "/auth/me")
            #expect(refused.status == 401, "\(refused.body)")
            #expect(monthOld.cookies.isEmpty, "both cookies cleared: \(monthOld.cookies.keys)")
        }
    }
}
