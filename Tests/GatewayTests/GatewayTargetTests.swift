import Foundation
import Testing
import TestSupport

/// The gateway shares only EdgeContract with the services: it must not drag a database,
/// cache or broker client along (read from the manifest SwiftPM itself evaluates).
@Suite struct GatewayTargetTests {
    @Test func theGatewayLinksNoDatabaseCacheOrBrokerClient() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-manifest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // A scratch path of its own: the running `swift test` holds .build's lock.
        process.arguments = ["swift", "package", "--package-path", TestServers.repositoryRoot.path, "--scratch-path", scratch.path, "dump-package"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let targets = try #require(manifest["targets"] as? [[String: Any]])
        // Each target's dependencies inside this package (byName or target), products of others by name.
        var inside: [String: [String]] = [:]
        var products: [String: [String]] = [:]
        for target in targets {
            let name = try #require(target["name"] as? String)
            for dependency in target["dependencies"] as? [[String: Any]] ?? [] {
                if let byName = (dependency["byName"] ?? dependency["target"]) as? [Any], let other = byName.first as? String {
                    inside[name, default: []].append(other)
                } else if let product = dependency["product"] as? [Any], let other = product.first as? String {
                    products[name, default: []].append(other)
                }
            }
        }
        var reached: Set<String> = [], pending = ["Gateway"]
        while let next = pending.popLast() {
            if reached.insert(next).inserted { pending += inside[next] ?? [] }
        }
        #expect(reached.contains("EdgeContract") && reached.contains("ConnectionDrain"), "\(reached.sorted())")
        for client in ["Mongo", "Redis", "AMQP", "CMongoc", "CHiredis", "CRabbitMQ", "BSON", "Events", "ServiceKit"] {
            #expect(!reached.contains(client), "the gateway reaches \(client): \(reached.sorted())")
        }
        let external = Set(reached.flatMap { products[$0] ?? [] })
        #expect(external.isDisjoint(with: ["JWTKit", "Crypto"]), "\(external.sorted())")
    }
}
