import BSON
import Crypto
import Foundation

/// A refresh token as stored: only its SHA-256, never the token. Each login starts a
/// family (the session, `family`); each refresh retires the presented token and adds a
/// new one to the family.
public struct RefreshTokenRecord: Codable, Sendable {
    /// SHA-256 of the token, hex.
    public var _id: String
    public var family: ObjectId
    public var userId: ObjectId
    public var state: State
    public var issuedAt: Date
    public var rotatedAt: Date?
    /// A TTL index removes the record after this.
    public var expiresAt: Date
    /// The access token issued with this one, denied when the family is revoked.
    public var accessJti: String
    public var accessExpiresAt: Date

    public enum State: String, Codable, Sendable {
        case active, rotated, revoked
    }
}

/// Making and hashing the opaque tokens.
enum RefreshToken {
    /// 256 random bits, base64url.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64URL
    }

    /// Ours are 43 characters: anything much longer is no session of ours, and not worth hashing.
    static func couldBeOurs(_ token: String) -> Bool {
        token.utf8.count <= 256
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
