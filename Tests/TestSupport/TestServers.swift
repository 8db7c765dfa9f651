import Foundation

/// Where the integration tests find the real servers. `scripts/test` starts them
/// and sets these variables; the defaults are the ports it uses.
public enum TestServers {
    static let env = ProcessInfo.processInfo.environment

    public static var mongoURI: String { env["SWITCHBOARD_TEST_MONGO_URI"] ?? "mongodb://127.0.0.1:27117/" }
    public static var redisPort: Int { port("SWITCHBOARD_TEST_REDIS_PORT", 6479) }
    public static var amqpPort: Int { port("SWITCHBOARD_TEST_AMQP_PORT", 5772) }

    /// The end-to-end suite's own MongoDB and RabbitMQ: its processes' load and events stay away from the other suites.
    public static var e2eMongoURI: String { env["SWITCHBOARD_TEST_E2E_MONGO_URI"] ?? "mongodb://127.0.0.1:27119/" }
    public static var e2eAMQPPort: Int { port("SWITCHBOARD_TEST_E2E_AMQP_PORT", 5778) }

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

    /// The repository's root folder.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The Python with the project's test clients installed (`scripts/install` puts them in `.venv`).
    /// The `switchboard` executable of this build: beside the test bundle (.build/<triple>/debug),
    /// where `swift build --build-tests` puts it.
    public static var switchboardExecutable: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("switchboard").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return repositoryRoot.appendingPathComponent(".build/debug/switchboard").path
    }

    /// The official Socket.IO 4 client's browser build, which scripts/install fetches.
    public static var socketIOClient: String {
        env["SWITCHBOARD_TEST_SIO_CLIENT"] ?? repositoryRoot.appendingPathComponent("web/vendor/socket.io.min.js").path
    }
    public static var python: String { env["SWITCHBOARD_TEST_PYTHON"] ?? repositoryRoot.appendingPathComponent(".venv/bin/python").path }

    /// Runs `scripts/servers ARGS` (start, stop, kill, restart a named server) and waits for it.
    public static func servers(_ arguments: String...) async throws {
        let script = repositoryRoot.appendingPathComponent("scripts/servers").path
        let status = try await ChildProcess([script] + arguments).wait()
        guard status == 0 else { throw ServerControlError(arguments: arguments, status: status) }
    }

}

public struct ServerControlError: Error, CustomStringConvertible {
    public let arguments: [String]
    public let status: Int32
    public var description: String { "scripts/servers \(arguments.joined(separator: " ")) exited \(status)" }
}
