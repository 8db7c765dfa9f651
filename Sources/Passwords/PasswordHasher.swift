import CArgon2
import NIOPosix

/// Argon2id password hashing (libargon2), producing PHC strings such as
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. Hashing costs about 20 ms of
/// CPU and 19 MiB of memory by design, so it always runs on a thread pool.
public struct PasswordHasher: Sendable {
    public struct Parameters: Sendable, Equatable {
        /// Memory in KiB.
        public var memory: UInt32
        public var iterations: UInt32
        public var parallelism: UInt32

        /// OWASP's first recommendation for Argon2id: m=19 MiB, t=2, p=1.
        public static let recommended = Parameters(memory: 19 * 1024, iterations: 2, parallelism: 1)

        public init(memory: UInt32, iterations: UInt32, parallelism: UInt32) {
            self.memory = memory
            self.iterations = iterations
            self.parallelism = parallelism
        }
    }

    public let parameters: Parameters
    let threads: NIOThreadPool

    static let saltLength = 16
    static let hashLength = 32

    public init(parameters: Parameters = .recommended, threads: NIOThreadPool = .singleton) {
        self.parameters = parameters
        self.threads = threads
    }

    /// A PHC string for `password` with a fresh random salt.
    public func hash(_ password: String) async throws -> String {
        let p = parameters
        return try await threads.runIfActive {
            var rng = SystemRandomNumberGenerator()
            let salt = (0..<Self.saltLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let length = argon2_encodedlen(p.iterations, p.memory, p.parallelism, UInt32(Self.saltLength), UInt32(Self.hashLength), Argon2_id)
            var encoded = [CChar](repeating: 0, count: length)
            let pwd = Array(password.utf8)
            let rc = argon2id_hash_encoded(
                p.iterations, p.memory, p.parallelism, pwd, pwd.count, salt, salt.count, Self.hashLength, &encoded, length)
            guard rc == ARGON2_OK.rawValue else { throw PasswordError.hashingFailed(Self.message(rc)) }
            return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Whether `password` matches the PHC string `encoded`. A malformed `encoded` is false, not an error,
    /// so a corrupt stored hash locks the account rather than opening it.
    public func verify(_ password: String, against encoded: String) async throws -> Bool {
        try await threads.runIfActive {
            let pwd = Array(password.utf8)
            return argon2id_verify(encoded, pwd, pwd.count) == ARGON2_OK.rawValue
        }
    }

    /// Whether `encoded` was made with other parameters than these: rehash it at the next login.
    public func needsRehash(_ encoded: String) -> Bool {
        let p = parameters
        return !encoded.hasPrefix("$argon2id$v=19$m=\(p.memory),t=\(p.iterations),p=\(p.parallelism)$")
    }

    static func message(_ rc: Int32) -> String {
        guard let text = argon2_error_message(rc) else { return "argon2 error \(rc)" }
        return String(cString: text)
    }
}

public enum PasswordError: Error, Sendable {
    case hashingFailed(String)
}
