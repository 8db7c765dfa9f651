import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `switchboard` binary as a real process: configuration from the environment,
/// real sockets to the real servers, JSON logs, and a clean exit on SIGTERM.
@Suite struct ProbeProcessTests {
    /// The executable SwiftPM built beside this test bundle.
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("switchboard").path
    }

    @Test func servesReadinessLogsJSONAndStopsOnSIGTERM() async throws {
        let port = try freeLoopbackPort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(port).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let process = try ChildProcess([Self.binary, "probe"], environment: [
            "PROBE_PORT": String(port), "MONGO_URI": TestServers.mongoURI, "REDIS_PORT": String(TestServers.redisPort),
            "AMQP_PORT": String(TestServers.amqpPort), "LOG_LEVEL": "debug", "LOG_FORMAT": "json",
        ], outputPath: log)

        // Ready once every dependency answers (the AMQP publisher connects in the background).
        var ready: RawHTTPResponse?
        for _ in 0..<100 {
            if let r = try? await rawHTTPGet(port: port, path: "/ready", headers: ["X-Request-Id": "e2e-probe-1"]), r.status == 200 {
                ready = r
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let response = try #require(ready, "the probe never became ready")
        #expect(response.headers["x-request-id"] == "e2e-probe-1")
        #expect(response.body.contains("\"mongo\":\"up\"") && response.body.contains("\"redis\":\"up\"") && response.body.contains("\"rabbitmq\":\"up\""))
        #expect(try await rawHTTPGet(port: port, path: "/health").status == 200)
        let missing = try await rawHTTPGet(port: port, path: "/nope")
        #expect(missing.status == 404 && missing.body.contains("\"code\":\"no_route\""))

        process.signal(SIGTERM)
        let exit = await process.wait()
        #expect(exit == 0, "SIGTERM shuts the service down cleanly")

        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "every log line is one JSON object")
        #expect(objects.contains { $0["requestId"] as? String == "e2e-probe-1" && $0["message"] as? String == "readiness checked" })
        #expect(objects.contains { $0["message"] as? String == "stopped" })
    }
}
