import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the integration tests find the real servers. `scripts/test` starts them
/// and sets these variables; the defaults are the ports it uses.
public enum TestServers {
    static let env = ProcessInfo.processInfo.environment

    public static var mongoURI: String { env["SWITCHBOARD_TEST_MONGO_URI"] ?? "mongodb://127.0.0.1:27117/" }
    public static var redisPort: Int { port("SWITCHBOARD_TEST_REDIS_PORT", 6479) }
    public static var amqpPort: Int { port("SWITCHBOARD_TEST_AMQP_PORT", 5772) }

    /// Servers that fault tests kill and restart, so the other tests keep theirs.
    public static var faultRedis: (name: String, port: Int) {
        (env["SWITCHBOARD_TEST_FAULT_REDIS_NAME"] ?? "test-redis-faults", port("SWITCHBOARD_TEST_FAULT_REDIS_PORT", 6480))
    }
    public static var faultAMQP: (name: String, port: Int) {
        (env["SWITCHBOARD_TEST_FAULT_AMQP_NAME"] ?? "test-rabbitmq-faults", port("SWITCHBOARD_TEST_FAULT_AMQP_PORT", 5774))
    }

    private static func port(_ name: String, _ fallback: Int) -> Int {
        guard let raw = env[name] else { return fallback }
        guard let port = Int(raw) else { fatalError("\(name)=\(raw) is not a port number") }
        return port
    }

    /// A name no other test run uses, for databases, queues and keys.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Runs `scripts/servers ARGS` (start, stop, kill, restart a named server) and waits for it.
    public static func servers(_ arguments: String...) async throws {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/servers").path
        let status = try await run([script] + arguments)
        guard status == 0 else { throw ServerControlError(arguments: arguments, status: status) }
    }

    /// posix_spawn and waitpid on a thread of their own (Foundation's Process can hang
    /// waiting for a child that started a daemon of its own).
    static func run(_ argv: [String]) async throws -> Int32 {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            let thread = Thread {
                var pid = pid_t()
                var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
                defer { cArgs.forEach { free($0) } }
                // Servers started from here must not inherit this thread's blocked signals
                // (they would ignore SIGTERM), so reset the mask and the default handlers.
                var attributes = posix_spawnattr_t()
                posix_spawnattr_init(&attributes)
                defer { posix_spawnattr_destroy(&attributes) }
                var empty = sigset_t()
                sigemptyset(&empty)
                var defaults = sigset_t()
                sigfillset(&defaults)
                posix_spawnattr_setsigmask(&attributes, &empty)
                posix_spawnattr_setsigdefault(&attributes, &defaults)
                posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
                let rc = posix_spawn(&pid, argv[0], nil, &attributes, &cArgs, environ)
                guard rc == 0 else {
                    continuation.resume(throwing: ServerControlError(arguments: argv, status: rc))
                    return
                }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                // WEXITSTATUS: the exit code sits in the second byte.
                continuation.resume(returning: (status >> 8) & 0xFF)
            }
            thread.start()
        }
    }
}

public struct ServerControlError: Error, CustomStringConvertible {
    public let arguments: [String]
    public let status: Int32
    public var description: String { "scripts/servers \(arguments.joined(separator: " ")) exited \(status)" }
}
