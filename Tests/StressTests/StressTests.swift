import Foundation
import Testing
import TestSupport

/// The stress run in its reduced form (scripts/stress runs the full one): a stack of its own —
/// SecantusDB, Redis, RabbitMQ, the services with two chat replicas, the gateway — put under
/// load, hostile input, faults (servers killed, stopped and restarted) and rolling restarts of
/// every instance under load by stress.py, which prints its report and ends with a JSON line
/// of what failed.
@Suite struct StressTests {
    @Test func theReducedStressRunPasses() async throws {
        let run = try await PythonRun("Tests/StressTests/stress.py", ["--binary", TestServers.switchboardExecutable, "--reduced"])
        let report = try #require(run.report, "no report: \(run.output.suffix(3000))")
        #expect(report["passed"] as? Bool == true, "failed: \(report["failed"] ?? "?")\n\(run.output.suffix(6000))")
        let sections = report["sections"] as? [String: Any] ?? [:]
        #expect(Set(sections.keys) == ["load", "hostile", "faults", "rolling"], "every section ran: \(sections.keys)")
        #expect((sections["faults"] as? [Any])?.count == 6, "six fault scenarios")
        #expect((sections["rolling"] as? [Any])?.count == 8, "eight rolling-restart figures")
    }
}
