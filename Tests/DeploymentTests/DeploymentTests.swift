import Foundation
import Gateway
import Testing
import TestSupport

/// docker-compose.yml and deploy/k8s/ checked without Docker or a cluster: against the
/// local stack (scripts/up), the variables the code reads, and each other
/// (check_deployment.py); the gateway configurations they carry with the gateway's parser.
@Suite struct DeploymentTests {
    static func report() async throws -> [String: Any] {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("deployment-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let root = TestServers.repositoryRoot.path
        let script = TestServers.repositoryRoot.appendingPathComponent("Tests/DeploymentTests/check_deployment.py").path
        let status = try await ChildProcess([TestServers.python, script, root], outputPath: output).wait()
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        try #require(status == 0, "\(text)")
        let line = text.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func composeAndKubernetesAgreeWithTheLocalStack() async throws {
        let report = try await Self.report()
        let problems = report["problems"] as? [String] ?? ["no report"]
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect((report["checks"] as? Int ?? 0) >= 150)
    }

    @Test func theirGatewayConfigurationsParse() async throws {
        let configs = try #require(try await Self.report()["gatewayConfigs"] as? [String: String])
        #expect(configs.count == 2)
        // Read as if beside the repository's openapi.json, as they are in the image (/app).
        let file = TestServers.repositoryRoot.appendingPathComponent("gateway.conf").path
        for (name, text) in configs {
            let config = try GatewayConfig.parse(text, file: file)
            #expect(config.listen.host == "0.0.0.0" && config.listen.port == 3000, "\(name)")
            #expect(config.openAPIDocument != nil, "\(name) serves the OpenAPI document")
            let socketIO = try #require(config.route(for: "/chat/socket.io/"), "\(name)")
            #expect(socketIO.websocket && socketIO.balance == .ipHash, "\(name): Socket.IO sessions stay on their instance")
            #expect(config.route(for: "/auth/login")?.rateLimit?.perSecond == 1, "\(name)")
        }
    }
}
