import Foundation
import Testing
@testable import Gateway

/// Browser sessions at the gateway, as pure functions: which requests are refreshed, what
/// their `Cookie` becomes, and what is read of an access token.
@Suite struct SessionCookiesTests {
    static let settings: GatewayConfig.SessionRefresh = {
        var settings = GatewayConfig.SessionRefresh()
        settings.skip = ["/auth/login", "/auth/logout"]
        return settings
    }()

    /// An unsigned JWT-shaped token with `exp` (the gateway reads nothing else of it).
    static func token(exp: Int, pad: String = "", key: String = "exp") -> String {
        func b64(_ s: String) -> String {
            Data(s.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return b64(#"{"alg":"RS256"}"#) + "." + b64(#"{"sub":"u\#(pad)","\#(key)" : \#(exp),"iat":1}"#) + ".c2ln"
    }

    @Test func whoIsRefreshedAndWhatTheUpstreamSees() {
        let now = 1_000_000
        let live = Self.token(exp: now + 600)
        let nearlyExpired = Self.token(exp: now + 10)
        let expired = Self.token(exp: now - 1)
        func decide(_ cookie: String?, _ path: String) -> SessionCookies.Decision {
            SessionCookies.decide(cookieFields: cookie.map { [$0] } ?? [], path: path, settings: Self.settings, now: now)
        }
        #expect(decide(nil, "/profile/getProfile") == .unchanged, "no cookies: a Bearer client")
        #expect(decide("token=\(expired); theme=dark", "/profile/getProfile") == .unchanged, "no refresh cookie: nothing to refresh with")
        #expect(decide("token=\(live); refresh_token=r1; theme=dark", "/profile/getProfile") == .rewrite(cookie: "token=\(live); theme=dark"),
                "a live token goes on; the refresh cookie stays at the gateway")
        #expect(decide("token=\(live); refresh_token=r1", "/auth/me") == .unchanged, "auth's routes get the refresh cookie")
        #expect(decide("token=\(expired); refresh_token=r1", "/profile/getProfile") == .refresh(refreshToken: "r1"))
        #expect(decide("token=\(nearlyExpired); refresh_token=r1", "/chat/my-chats") == .refresh(refreshToken: "r1"), "within `early` of its expiry")
        #expect(decide("refresh_token=r1", "/request/invites/sent") == .refresh(refreshToken: "r1"), "the browser dropped the access cookie")
        #expect(decide("token=garbage; refresh_token=r1", "/auth/me") == .refresh(refreshToken: "r1"), "not a JWT")
        #expect(decide("token=\(expired); refresh_token=r1", "/auth/refresh") == .unchanged, "the endpoint itself is never refreshed on the way")
        #expect(decide("token=\(expired); refresh_token=r1", "/auth/logout") == .unchanged, "nor a skipped path")
        #expect(decide("token=\(expired); refresh_token=", "/profile/x") == .unchanged, "an empty refresh cookie is none")
    }

    @Test func afterARefreshTheNewTokenReplacesTheOld() {
        let fields = ["token=old; a=1", "refresh_token=r1"]
        #expect(SessionCookies.afterRefresh(cookieFields: fields, path: "/profile/x", newAccess: "new", settings: Self.settings) == "a=1; token=new")
        #expect(SessionCookies.afterRefresh(cookieFields: fields, path: "/auth/me", newAccess: "new", settings: Self.settings) == "a=1; refresh_token=r1; token=new")
        #expect(SessionCookies.afterRefresh(cookieFields: fields, path: "/profile/x", newAccess: nil, settings: Self.settings) == "token=old; a=1",
                "refused or unavailable: the request goes on as it came, minus the refresh cookie")
        #expect(SessionCookies.afterRefresh(cookieFields: ["refresh_token=r1"], path: "/profile/x", newAccess: nil, settings: Self.settings) == nil)
    }

    @Test func theExpiryIsReadWithoutTrustingTheToken() {
        #expect(SessionCookies.accessTokenExpiry(Self.token(exp: 1_700_000_000)) == 1_700_000_000)
        #expect(SessionCookies.accessTokenExpiry("a.b") == nil)
        #expect(SessionCookies.accessTokenExpiry("a.!!!.c") == nil)
        #expect(SessionCookies.accessTokenExpiry(Self.token(exp: 5, key: "nbf")) == nil)
        #expect(SessionCookies.integerField("exp", in: Array(#"{"exp":"12"}"#.utf8)) == nil, "a string is not a time")
        // Linear in the token: a huge payload is refused before it is decoded.
        #expect(SessionCookies.accessTokenExpiry(Self.token(exp: 5, pad: String(repeating: "x", count: 10_000))) == nil)
    }
}
