import Foundation

/// Browser sessions at the gateway (`session_refresh { … }` in gateway.conf): what to do
/// with a request's cookies, as pure functions of the cookies, the path and the time.
///
/// A client of the reference system keeps its `token` cookie and never calls
/// /auth/refresh; here access tokens live 15 minutes. So a request that carries the
/// refresh cookie and no live access cookie is refreshed on its way (auth's /refresh,
/// asked by the gateway), sent on with the new access token, and answered with the new
/// cookies — the way oauth2-proxy refreshes its cookie. The refresh cookie itself reaches
/// only the routes that read it (auth's).
enum SessionCookies {
    enum Decision: Equatable {
        /// No refresh cookie: the request goes on as it came.
        case unchanged
        /// Sent on with this `Cookie` field instead (nil: none), the refresh cookie removed.
        case rewrite(cookie: String?)
        /// The access cookie is missing or (nearly) expired: refresh first.
        case refresh(refreshToken: String)
    }

    static func decide(cookieFields: [String], path: String, settings: GatewayConfig.SessionRefresh, now: Int) -> Decision {
        guard !cookieFields.isEmpty else { return .unchanged }
        let cookies = parse(cookieFields)
        guard let refresh = cookies.last(where: { $0.name == settings.refreshCookie })?.value, !refresh.isEmpty else { return .unchanged }
        let skipped = path == settings.endpoint || settings.skip.contains { path.hasPrefix($0) }
        if !skipped {
            let access = cookies.last { $0.name == settings.accessCookie }?.value
            let expiry = access.flatMap(accessTokenExpiry)
            if expiry.map({ $0 - settings.earlySeconds <= now }) ?? true { return .refresh(refreshToken: refresh) }
        }
        return settings.passesRefreshCookie(to: path) ? .unchanged : .rewrite(cookie: cookieField(cookies, access: nil, keepRefresh: false, settings: settings))
    }

    /// The `Cookie` field to send on after a refresh: the new access token in place of the
    /// old, the refresh cookie only where it may go.
    static func afterRefresh(cookieFields: [String], path: String, newAccess: String?, settings: GatewayConfig.SessionRefresh) -> String? {
        cookieField(parse(cookieFields), access: newAccess, keepRefresh: settings.passesRefreshCookie(to: path), settings: settings)
    }

    private static func cookieField(_ cookies: [(name: String, value: String)], access: String?, keepRefresh: Bool,
                                    settings: GatewayConfig.SessionRefresh) -> String? {
        var kept = cookies.filter { $0.name != settings.refreshCookie || keepRefresh }
        if let access {
            kept.removeAll { $0.name == settings.accessCookie }
            kept.append((settings.accessCookie, access))
        }
        return kept.isEmpty ? nil : kept.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }

    /// `name=value` pairs of the `Cookie` fields (RFC 6265 §5.4: "; " between them).
    static func parse(_ fields: [String]) -> [(name: String, value: String)] {
        var cookies: [(String, String)] = []
        for field in fields {
            for pair in field.split(separator: ";") {
                let trimmed = pair.trimmingSpaces
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                cookies.append((String(trimmed[..<equals].trimmingSpaces), String(trimmed[trimmed.index(after: equals)...].trimmingSpaces)))
            }
        }
        return cookies
    }

    /// The `exp` of a JWT, read without trusting it (the service verifies the token):
    /// only to tell whether it is worth sending on. Nil when it is not a JWT with an `exp`.
    static func accessTokenExpiry(_ token: String) -> Int? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].utf8.count <= 4096 else { return nil }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard let payload = Data(base64Encoded: base64) else { return nil }
        return integerField("exp", in: Array(payload))
    }

    /// The value of `"name": <digits>` at any depth of a small JSON object: a linear scan.
    static func integerField(_ name: String, in json: [UInt8]) -> Int? {
        let key = Array("\"\(name)\"".utf8)
        var i = 0
        while i + key.count <= json.count {
            if json[i] == key[0], Array(json[i..<(i + key.count)]) == key {
                var j = i + key.count
                while j < json.count, json[j] == UInt8(ascii: " ") { j += 1 }
                guard j < json.count, json[j] == UInt8(ascii: ":") else { i += 1; continue }
                j += 1
                while j < json.count, json[j] == UInt8(ascii: " ") { j += 1 }
                var value = 0
                var digits = 0
                while j < json.count, json[j] >= UInt8(ascii: "0"), json[j] <= UInt8(ascii: "9"), digits < 15 {
                    value = value * 10 + Int(json[j] - UInt8(ascii: "0"))
                    j += 1
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            i += 1
        }
        return nil
    }
}
