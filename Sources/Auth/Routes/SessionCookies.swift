import HTTPTypes
import Hummingbird

/// The `token` (access, as in the reference system) and `refresh_token` cookies: HttpOnly,
/// SameSite=Lax, `Secure` when configured, both for every path: the gateway refreshes an
/// expired `token` from `refresh_token` in line (a browser client of the reference never
/// calls /auth/refresh), and passes `refresh_token` on to auth alone.
struct SessionCookies: Sendable {
    let secure: Bool
    let accessSeconds: Int
    let refreshSeconds: Int

    static let access = "token"
    static let refresh = "refresh_token"
    static let refreshPath = "/"

    func set(access: String, refresh: String, on response: inout Response) {
        response.setCookie(cookie(Self.access, access, maxAge: accessSeconds, path: "/"))
        response.setCookie(cookie(Self.refresh, refresh, maxAge: refreshSeconds, path: Self.refreshPath))
    }

    func clear(on response: inout Response) {
        response.headers.append(contentsOf: clearing)
    }

    /// The fields that remove both cookies (for answers thrown as errors too).
    var clearing: HTTPFields {
        HTTPFields([HTTPField(name: .setCookie, value: cookie(Self.access, "", maxAge: 0, path: "/").description),
                    HTTPField(name: .setCookie, value: cookie(Self.refresh, "", maxAge: 0, path: Self.refreshPath).description)])
    }

    private func cookie(_ name: String, _ value: String, maxAge: Int, path: String) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: path, secure: secure, httpOnly: true, sameSite: .lax)
    }
}
