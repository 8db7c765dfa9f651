import Crypto
import CryptoExtras
import Foundation
import JWTKit
import Logging
import NIOPosix

/// The RSA keys that sign and verify access tokens, and their public JWKS document.
public struct SigningKeys: Sendable {
    public let collection: JWTKeyCollection
    /// The key new tokens are signed with.
    public let activeKid: String
    /// What `GET /auth/.well-known/jwks.json` serves: every key that still verifies.
    public let jwks: JWKS

    /// Keys from the environment, else from `directory` (`<kid>.pem` files; the last by
    /// name signs; an empty or missing directory gets a new key first), else one fresh key.
    /// Made on a thread pool: a new RSA key is a second of CPU, which on the cooperative
    /// pool would hold up every task of the process.
    public static func load(signingKeyPEM: String?, verifyOnlyPEMs: String?, directory: String?, logger: Logger) async throws -> SigningKeys {
        let keys = try await NIOThreadPool.singleton.runIfActive {
            try privateKeys(signingKeyPEM: signingKeyPEM, verifyOnlyPEMs: verifyOnlyPEMs, directory: directory, logger: logger)
        }
        return try await SigningKeys(keys: keys)
    }

    static func privateKeys(signingKeyPEM: String?, verifyOnlyPEMs: String?, directory: String?, logger: Logger) throws
        -> [(kid: String, key: JWTKit.Insecure.RSA.PrivateKey)] {
        var keys: [(kid: String, key: JWTKit.Insecure.RSA.PrivateKey)] = []
        if let signingKeyPEM {
            // Older keys first: the last one signs.
            for pem in pemBlocks(verifyOnlyPEMs ?? "") + [signingKeyPEM] {
                guard let key = try? JWTKit.Insecure.RSA.PrivateKey(pem: pem) else { throw KeyError.unreadableEnvironment }
                keys.append((try thumbprint(of: key), key))
            }
        } else if let directory {
            try makeFirstKey(in: directory, logger: logger)
            let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".pem") }.sorted()
            for file in files {
                let pem = try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)
                do {
                    keys.append((String(file.dropLast(4)), try JWTKit.Insecure.RSA.PrivateKey(pem: pem)))
                } catch {
                    throw KeyError.unreadable(file: "\(directory)/\(file)")
                }
            }
            guard !keys.isEmpty else { throw KeyError.noKeys(directory: directory) }
        } else {
            logger.warning("neither AUTH_SIGNING_KEY nor AUTH_KEYS_DIR is set: signing with a key made at start (tokens do not survive a restart)")
            keys.append(("generated-\(UUID().uuidString.prefix(8).lowercased())", try generate()))
        }
        return keys
    }

    /// A first key for a directory that has none (a fresh local or docker-compose stack),
    /// readable by this user alone, so tokens outlive a restart from the first start on.
    static func makeFirstKey(in directory: String, logger: Logger) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard try !manager.contentsOfDirectory(atPath: directory).contains(where: { $0.hasSuffix(".pem") }) else { return }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        let path = "\(directory)/\(formatter.string(from: Date())).pem"
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        guard manager.createFile(atPath: path, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw KeyError.unwritable(directory: directory)
        }
        logger.notice("AUTH_KEYS_DIR held no key: made a signing key there", metadata: ["file": "\(path)"])
    }

    /// The PEM blocks in `text`, which may hold several one after another.
    static func pemBlocks(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("-----BEGIN") { current = [] }
            current?.append(Substring(trimmed))
            if trimmed.hasPrefix("-----END"), let lines = current {
                blocks.append(lines.joined(separator: "\n") + "\n")
                current = nil
            }
        }
        return blocks
    }

    /// A stable `kid` for a key given without a name: the start of the SHA-256 of its
    /// public modulus and exponent (in the spirit of RFC 7638).
    static func thumbprint(of key: JWTKit.Insecure.RSA.PrivateKey) throws -> String {
        let (modulus, exponent) = try key.publicKey.getKeyPrimitives()
        let digest = SHA256.hash(data: Data(#"{"e":"\#(exponent.base64URL)","kty":"RSA","n":"\#(modulus.base64URL)"}"#.utf8))
        return Data(digest).base64URL.prefix(16).description
    }

    /// A new 2048-bit RSA key.
    public static func generate() throws -> JWTKit.Insecure.RSA.PrivateKey {
        try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
    }

    public init(keys: [(kid: String, key: JWTKit.Insecure.RSA.PrivateKey)]) async throws {
        precondition(!keys.isEmpty, "at least one signing key")
        let collection = JWTKeyCollection()
        var jwks: [JWK] = []
        for (kid, key) in keys {
            await collection.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
            let (modulus, exponent) = try key.publicKey.getKeyPrimitives()
            jwks.append(.rsa(.rs256, identifier: JWKIdentifier(string: kid), modulus: modulus.base64URL, exponent: exponent.base64URL))
        }
        self.collection = collection
        self.activeKid = keys[keys.count - 1].kid
        self.jwks = JWKS(keys: jwks)
    }

    public enum KeyError: Error, CustomStringConvertible {
        case unreadable(file: String)
        case noKeys(directory: String)
        case unwritable(directory: String)
        case unreadableEnvironment

        public var description: String {
            switch self {
            case .unreadable(let file): "\(file) is not an RSA private key in PEM form"
            case .noKeys(let directory): "AUTH_KEYS_DIR=\(directory) holds no .pem key"
            case .unwritable(let directory): "AUTH_KEYS_DIR=\(directory) holds no key and one cannot be written there"
            case .unreadableEnvironment: "AUTH_SIGNING_KEY or AUTH_VERIFY_KEYS is not an RSA private key in PEM form"
            }
        }
    }
}

extension Data {
    /// Base64url without padding, as JWKs carry their numbers.
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
