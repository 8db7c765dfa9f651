import Foundation
import Gateway
import Testing
import TestSupport

/// docker-compose.yml and deploy/k8s/ checked without Docker or a cluster: against the
/// local stack (scripts/up), the variables the code reads, and each other
/// (check_deployment.py); the gateway configurations they carry with the gateway's parser;
/// the manifests against Kubernetes' schemas (validate_kubernetes.py).
@Suite struct DeploymentTests {
    static func report() async throws -> [String: Any] {
        let run = try await PythonRun("Tests/DeploymentTests/check_deployment.py", [TestServers.repositoryRoot.path])
        try #require(run.status == 0, "\(run.output)")
        return try #require(run.report)
    }

    @Test func composeAndKubernetesAgreeWithTheLocalStack() async throws {
        let report = try await Self.report()
        let problems = report["problems"] as? [String] ?? ["no report"]
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect((report["checks"] as? Int ?? 0) >= 150)
    }

    /// Against Kubernetes' own schemas, strictly, for 1.30 and the newest release the
    /// validator knows (validate_kubernetes.py; a broken manifest must be refused there too).
    @Test func theKubernetesManifestsValidateAgainstKubernetesSchemas() async throws {
        let run = try await PythonRun("Tests/DeploymentTests/validate_kubernetes.py", [TestServers.repositoryRoot.path])
        let report = try #require(run.report, "no report: \(run.output.suffix(2000))")
        #expect((report["problems"] as? [String]) == [], "\(report["problems"] ?? "?")")
        #expect((report["validated"] as? [String] ?? []).count >= 26, "every resource, both versions: \(report["validated"] ?? "?")")
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
