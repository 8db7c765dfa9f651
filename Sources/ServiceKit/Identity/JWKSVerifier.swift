import Foundation
import JWTKit
import Logging
import Synchronization

/// Verifies access tokens locally with auth's public keys, fetched from its JWKS URL
/// (`AUTH_JWKS_URL`) and cached: never a call to auth per request. The document is
/// fetched again when a token names a key we do not have (auth rolled a new key) — at
/// most once per `minimumRefreshInterval` (1 s), so forged `kid`s cannot hammer auth — and
/// every `maxAge`, so a retired key stops verifying here too.
public final class JWKSVerifier: AccessTokenVerifier {
    let url: String
    let logger: Logger
    let minimumRefreshInterval: Duration
    let maxAge: Duration

    private struct Keys {
        let collection: JWTKeyCollection
        let kids: Set<String>
        let fetchedAt: ContinuousClock.Instant
    }
    private struct State {
        var keys: Keys?
        var lastAttempt: ContinuousClock.Instant?
        var inFlight: Task<Keys, any Error>?
    }
    private let state = Mutex(State())

    public init(url: String, logger: Logger, minimumRefreshInterval: Duration = .seconds(1), maxAge: Duration = .seconds(300)) {
        self.url = url
        self.logger = logger
        self.minimumRefreshInterval = minimumRefreshInterval
        self.maxAge = maxAge
    }

    public func verify(_ token: String) async throws -> AccessClaims {
        let kid = Self.kid(of: token)
        let now = ContinuousClock.now
        let (cached, lastAttempt) = state.withLock { ($0.keys, $0.lastAttempt) }
        var keys = cached
        let mayFetch = lastAttempt.map { now - $0 >= minimumRefreshInterval } ?? true
        let unknownKid = kid.map { cached?.kids.contains($0) == false } ?? false
        let stale = cached.map { now - $0.fetchedAt >= maxAge } ?? true
        if cached == nil || (mayFetch && (unknownKid || stale)) {
            do {
                keys = try await refresh()
            } catch {
                logger.warning("JWKS fetch from \(url) failed: \(error)")
                // Stale keys beat none: a short auth outage must not log everyone out.
                guard keys != nil else { throw VerificationKeysUnavailable() }
            }
        }
        guard let keys else { throw VerificationKeysUnavailable() }
        return try await keys.collection.verify(token, as: AccessClaims.self)
    }

    /// Fetches the document, sharing one fetch among concurrent callers.
    private func refresh() async throws -> Keys {
        let task = state.withLock { state -> Task<Keys, any Error> in
            if let running = state.inFlight { return running }
            state.lastAttempt = .now
            let url = self.url
            let task = Task { try await Self.fetch(url) }
            state.inFlight = task
            return task
        }
        do {
            let keys = try await task.value
            state.withLock {
                $0.keys = keys
                $0.inFlight = nil
            }
            return keys
        } catch {
            state.withLock { $0.inFlight = nil }
            throw error
        }
    }

    private static func fetch(_ url: String) async throws -> Keys {
        let (status, body) = try await HTTPFetch.get(url)
        guard status == 200 else { throw HTTPFetch.Failure(description: "GET \(url) answered \(status)") }
        let jwks = try JSONDecoder().decode(JWKS.self, from: Data(body))
        let collection = try await JWTKeyCollection().add(jwks: jwks)
        return Keys(collection: collection, kids: Set(jwks.keys.compactMap { $0.keyIdentifier?.string }), fetchedAt: .now)
    }

    /// The `kid` of a token's header, without trusting anything else in it.
    static func kid(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first,
              let data = Data(base64URL: String(header)),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["kid"] as? String
    }
}

extension Data {
    /// Decodes base64url with or without padding.
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
