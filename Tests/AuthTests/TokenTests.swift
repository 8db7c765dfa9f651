import Auth
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import ServiceKit
import Testing

@Suite struct TokenTests {
    @Test func jwksVerifiesIssuedTokensOnItsOwn() async throws {
        try await withAuthApp { client, _ in
            let session = try await signup(client)
            let jwksJSON = try await client.execute(uri: "/.well-known/jwks.json", method: .get) { response in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
            // A service that knows only the JWKS document verifies the token locally.
            let verifier = try await JWTKeyCollection().add(jwksJSON: jwksJSON)
            let claims = try await verifier.verify(session.access_token, as: AccessClaims.self)
            #expect(claims.sub.value == session.data.id && claims.email == "ada@example.com" && claims.role == "user")
            #expect(abs(claims.exp.value.timeIntervalSince(claims.iat.value) - 900) < 1)
            let header = try JSONSerialization.jsonObject(with: base64URLDecode(String(session.access_token.split(separator: ".")[0]))) as? [String: Any]
            #expect(header?["alg"] as? String == "RS256" && (header?["kid"] as? String)?.isEmpty == false)
        }
    }

    @Test func forgedTokensAreRefused() async throws {
        try await withAuthApp { client, _ in
            let session = try await signup(client)
            let parts = session.access_token.split(separator: ".").map(String.init)
            let payload = try JSONSerialization.jsonObject(with: base64URLDecode(parts[1])) as! [String: Any]
            let kid = (try JSONSerialization.jsonObject(with: base64URLDecode(parts[0])) as! [String: Any])["kid"] as! String

            func encode(_ object: [String: Any]) -> String {
                base64URLEncode(try! JSONSerialization.data(withJSONObject: object))
            }
            var elevated = payload
            elevated["role"] = "admin"
            var expired = payload
            expired["exp"] = Date().timeIntervalSince1970 - 60

            // Signed properly, but by a key this service never had.
            let strangerKeys = JWTKeyCollection()
            await strangerKeys.add(rsa: try SigningKeys.generate(), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
            let stranger = try await strangerKeys.sign(try await JWTKeyCollection()
                .add(rsa: try SigningKeys.generate(), digestAlgorithm: .sha256, kid: "x")
                .unverified(session.access_token, as: AccessClaims.self), kid: JWKIdentifier(string: kid))
            // HS256 with the public key's bytes as the secret: the classic algorithm confusion.
            let jwks = try await client.execute(uri: "/.well-known/jwks.json", method: .get) { String(buffer: $0.body) }
            let hsHeader = encode(["alg": "HS256", "typ": "JWT", "kid": kid])
            let hsSignature = HMAC<SHA256>.authenticationCode(for: Data("\(hsHeader).\(parts[1])".utf8), using: SymmetricKey(data: Data(jwks.utf8)))

            let forgeries: [(String, String)] = [
                ("alg none", "\(encode(["alg": "none", "typ": "JWT", "kid": kid])).\(parts[1])."),
                ("tampered payload", "\(parts[0]).\(encode(elevated)).\(parts[2])"),
                ("expired", "\(parts[0]).\(encode(expired)).\(parts[2])"),
                ("wrong kid", "\(encode(["alg": "RS256", "typ": "JWT", "kid": "nope"])).\(parts[1]).\(parts[2])"),
                ("another key set", stranger),
                ("HS256 with the public key", "\(hsHeader).\(parts[1]).\(base64URLEncode(Data(hsSignature)))"),
                ("garbage", "not.a.token"),
            ]
            for (name, token) in forgeries {
                try await client.execute(uri: "/me", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                    #expect(response.status == .unauthorized, "\(name)")
                }
            }
        }
    }
}

func base64URLDecode(_ s: String) throws -> Data {
    var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while t.count % 4 != 0 { t += "=" }
    guard let d = Data(base64Encoded: t) else { throw TestFailure("bad base64url") }
    return d
}

func base64URLEncode(_ d: Data) -> String {
    d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
}
