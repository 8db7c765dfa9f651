import Hummingbird

/// The `token` (access, as in the reference system) and `refresh_token` cookies: HttpOnly,
/// SameSite=Lax, `Secure` when configured. The refresh cookie goes only to `/auth`, the
/// public prefix of the routes that read it.
struct SessionCookies: Sendable {
    let secure: Bool
    let accessSeconds: Int
    let refreshSeconds: Int

    static let access = "token"
    static let refresh = "refresh_token"
    static let refreshPath = "/auth"

    func set(access: String, refresh: String, on response: inout Response) {
        response.setCookie(cookie(Self.access, access, maxAge: accessSeconds, path: "/"))
        response.setCookie(cookie(Self.refresh, refresh, maxAge: refreshSeconds, path: Self.refreshPath))
    }

    func clear(on response: inout Response) {
        response.setCookie(cookie(Self.access, "", maxAge: 0, path: "/"))
        response.setCookie(cookie(Self.refresh, "", maxAge: 0, path: Self.refreshPath))
    }

    private func cookie(_ name: String, _ value: String, maxAge: Int, path: String) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: path, secure: secure, httpOnly: true, sameSite: .lax)
    }
}
