import Foundation
import Mongo
import ServiceTestSupport
import Testing
import TestSupport

/// The whole system as its users meet it: the `switchboard` executable run as separate
/// processes — auth, profile, request, chat and the gateway with the repository's
/// gateway.conf (ports swapped, every other setting as shipped) — on a MongoDB and a RabbitMQ
/// of their own (scripts/test starts them; the services share the test Redis, keyed per user),
/// driven only through the gateway URL by e2e.py (python-socketio and HTTP); then the same
/// with two replicas of profile and of chat behind the gateway, which the client must not notice.
@Suite(.serialized) struct EndToEndTests {
    @Test(arguments: [1, 2])
    func aClientOfTheReferenceSystemDrivesTheWholeProductThroughTheGateway(replicas: Int) async throws {
        try await SystemUnderTest.run(replicas: replicas) { gatewayURL in
            let report = try await Self.runClient(gatewayURL)
            #expect(report["failed"] == nil, "\(report["failed"] ?? "")")
            let passed = (report["passed"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? String }
            #expect(passed.count == 11, "steps passed: \(passed)")
        }
    }

    /// A client written from the reference system's source (reference_client.py): cookies only,
    /// the bodies its routes read, the fields and statuses they write, its socket events over
    /// WebSocket and long-polling — through the gateway, with two replicas of profile and chat.
    @Test func theReferenceClientReadsWhatItsSourceReads() async throws {
        try await SystemUnderTest.run(replicas: 2) { gatewayURL in
            let run = try await PythonRun("Tests/EndToEndTests/reference_client.py", [gatewayURL])
            let report = run.report ?? ["failed": ["no report: \(run.output.suffix(2000))"]]
            let failed = report["failed"] as? [String] ?? ["unreadable report"]
            #expect(failed.isEmpty, "\(failed.joined(separator: "\n"))\n\(run.output.suffix(3000))")
            #expect((report["passed"] as? [String] ?? []).count >= 80, "checks passed: \((report["passed"] as? [String] ?? []).count)")
        }
    }

    /// The web app the gateway serves, in a real browser (chromium, Playwright): two people
    /// chat live, a third sees nothing; the screenshots the README shows are taken here.
    @Test func theWebAppWorksInARealBrowser() async throws {
        try await SystemUnderTest.run(replicas: 2) { gatewayURL in
            let shots = ProcessInfo.processInfo.environment["SWITCHBOARD_SCREENSHOTS"]
                ?? TestServers.repositoryRoot.appendingPathComponent(".run/screenshots").path
            let run = try await PythonRun("Tests/EndToEndTests/web_app.py", [gatewayURL, shots])
            let report = run.report ?? ["failed": ["no report: \(run.output.suffix(3000))"]]
            let failed = report["failed"] as? [String] ?? ["unreadable report"]
            #expect(failed.isEmpty, "\(failed.joined(separator: "\n"))")
            #expect((report["passed"] as? [String] ?? []).count == 12, "\(report["passed"] ?? "")")
        }
    }

    static func runClient(_ url: String) async throws -> [String: Any] {
        let run = try await PythonRun("Tests/EndToEndTests/e2e.py", [url])
        return run.report ?? ["failed": "no report: \(run.output.suffix(2000))"]
    }
}

/// Switchboard's processes, started from the built executable, stopped and cleaned up afterwards.
struct SystemUnderTest {
    struct Process {
        let name: String
        let port: Int
        let child: ChildProcess
        let log: String
    }

    static var executable: String { TestServers.switchboardExecutable }

    /// `replicas` instances of profile and of chat.
    static func run(replicas: Int, _ body: (String) async throws -> Void) async throws {
        let names = ["auth", "profile", "request", "chat"].map { ($0, TestServers.uniqueName("e2e_\($0)")) }
        let database = Dictionary(uniqueKeysWithValues: names)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var started: [Process] = []
        func start(_ kind: String, _ extra: [String: String] = [:]) throws -> Process {
            let port = try freeLoopbackPort()
            let log = directory.appendingPathComponent("\(kind)-\(port).log").path
            var environment = [
                "MONGO_URI": TestServers.e2eMongoURI, "REDIS_PORT": String(TestServers.redisPort), "AMQP_PORT": String(TestServers.e2eAMQPPort),
                "LOG_LEVEL": "warning", "\(kind.uppercased())_PORT": String(port),
            ]
            if let name = database[kind] { environment["MONGO_DATABASE"] = name; environment["EVENTS_CONSUMER_NAME"] = name }
            let process = Process(name: kind, port: port, child: try ChildProcess([executable, kind], environment: environment.merging(extra) { _, new in new }, outputPath: log), log: log)
            started.append(process)
            return process
        }
        do {
            let auth = try start("auth", ["AUTH_KEYS_DIR": directory.appendingPathComponent("keys").path])
            let jwks = ["AUTH_JWKS_URL": "http://127.0.0.1:\(auth.port)/.well-known/jwks.json"]
            let profiles = try (0..<replicas).map { _ in try start("profile", jwks) }
            let request = try start("request", jwks)
            let chats = try (0..<replicas).map { _ in try start("chat", jwks) }
            // Every service ready (its dependencies up, its queues bound) before the gateway takes traffic.
            for process in started { try await waitUntilAnswering(process, path: "/ready") }

            let gatewayPort = try freeLoopbackPort()
            let config = try gatewayConfig(port: gatewayPort, upstreams: [
                5000: [auth.port], 5001: profiles.map(\.port), 5002: [request.port], 5003: chats.map(\.port),
            ])
            let configPath = directory.appendingPathComponent("gateway.conf").path
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            let log = directory.appendingPathComponent("gateway.log").path
            let gateway = Process(name: "gateway", port: gatewayPort, child: try ChildProcess([executable, "gateway", "--config", configPath], environment: ["LOG_LEVEL": "warning"], outputPath: log), log: log)
            started.append(gateway)
            try await waitUntilAnswering(gateway, path: "/health")

            try await body("http://127.0.0.1:\(gatewayPort)")
        } catch {
            for process in started {
                let log = (try? String(contentsOfFile: process.log, encoding: .utf8)) ?? ""
                print("--- \(process.name) :\(process.port) log (last 2000 characters)\n\(log.suffix(2000))")
            }
            await stop(started)
            try? await cleanUp(names: Array(database.values), directory: directory)
            throw error
        }
        await stop(started)
        try await cleanUp(names: Array(database.values), directory: directory)
    }

    /// The repository's gateway.conf with this run's ports: the listen address, and each
    /// local upstream port replaced by this run's instances of that service.
    static func gatewayConfig(port: Int, upstreams: [Int: [Int]]) throws -> String {
        var text = try String(contentsOf: TestServers.repositoryRoot.appendingPathComponent("gateway.conf"), encoding: .utf8)
        text = text.replacingOccurrences(of: "listen 127.0.0.1:3000;", with: "listen 127.0.0.1:\(port);")
        text = text.replacingOccurrences(of: "openapi openapi.json;", with: "openapi \(TestServers.repositoryRoot.appendingPathComponent("openapi.json").path);")
        text = text.replacingOccurrences(of: "root web;", with: "root \(TestServers.repositoryRoot.appendingPathComponent("web").path);")
        for (local, ports) in upstreams {
            text = text.replacingOccurrences(of: "upstream 127.0.0.1:\(local);", with: "upstream " + ports.map { "127.0.0.1:\($0)" }.joined(separator: " ") + ";")
        }
        // Exactly the local ports (a free port such as 50012 also starts with "500").
        let left = (5000...5003).filter { text.contains("127.0.0.1:\($0);") || text.contains("127.0.0.1:\($0) ") }
        guard left.isEmpty else { throw StackFailure("gateway.conf names service ports this test does not replace: \(left)") }
        return text
    }

    static func waitUntilAnswering(_ process: Process, path: String) async throws {
        let answered = await eventually(timeout: .seconds(60)) { (try? await rawHTTPGet(port: process.port, path: path))?.status == 200 }
        guard answered else { throw StackFailure("\(process.name) on \(process.port) did not answer \(path) with 200") }
    }

    static func stop(_ processes: [Process]) async {
        for process in processes.reversed() { process.child.signal(SIGTERM) }
        for process in processes { _ = await process.child.wait() }
    }

    static func cleanUp(names: [String], directory: URL) async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Stack.cleanUp(names: names, consumers: names.filter { !$0.hasPrefix("e2e_auth") },
                                mongo: try MongoClient(uri: TestServers.e2eMongoURI, threads: 2), amqpPort: TestServers.e2eAMQPPort)
    }
}
