import AMQP
import Foundation
import Hummingbird
import Logging
import Mongo
import Redis

/// One dependency the service needs in order to serve: a name and a cheap probe.
public struct ReadinessCheck: Sendable {
    public let name: String
    public let probe: @Sendable () async throws -> Void

    public init(_ name: String, probe: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.probe = probe
    }

    public static func mongo(_ client: MongoClient) -> ReadinessCheck { ReadinessCheck("mongo") { try await client.ping() } }
    public static func redis(_ client: RedisClient) -> ReadinessCheck { ReadinessCheck("redis") { try await client.ping() } }
    public static func amqp(_ publisher: Publisher) -> ReadinessCheck {
        ReadinessCheck("rabbitmq") { if !publisher.isConnected { throw AMQPError.connection("not connected") } }
    }
    /// Connected, for a service that only consumes (`EventConsumer.isConnected`).
    public static func amqp(consuming isConnected: @escaping @Sendable () -> Bool) -> ReadinessCheck {
        ReadinessCheck("rabbitmq") { if !isConnected() { throw AMQPError.connection("not connected") } }
    }
}

struct HealthBody: ResponseEncodable, Codable {
    let status: String
    let checks: [String: String]?
}

extension Router where Context: ServiceContext {
    /// `GET /health`: the process is alive. `GET /ready`: every dependency answered its probe
    /// within `timeout` (200), or not (503, naming which).
    @discardableResult
    public func addHealthRoutes(checks: [ReadinessCheck], timeout: Duration = .seconds(2)) -> Self {
        get("/health") { _, _ in HealthBody(status: "ok", checks: nil) }
        get("/ready") { _, context -> Response in
            let results = await withTaskGroup(of: (String, Bool).self) { group in
                for check in checks {
                    group.addTask {
                        let passed = await withTaskGroup(of: Bool?.self) { race in
                            race.addTask { (try? await check.probe()) != nil }
                            race.addTask { try? await Task.sleep(for: timeout); return nil }
                            let first = await race.next() ?? nil
                            race.cancelAll()
                            return first ?? false
                        }
                        return (check.name, passed)
                    }
                }
                return await group.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
            }
            let ready = results.values.allSatisfy { $0 }
            let states = results.mapValues { $0 ? "up" : "down" }
            let logged = Logger.MetadataValue.dictionary(states.mapValues { .string($0) })
            if ready {
                context.logger.debug("readiness checked", metadata: ["checks": logged])
            } else {
                context.logger.warning("not ready", metadata: ["checks": logged])
            }
            let body = HealthBody(status: ready ? "ready" : "unavailable", checks: states)
            let json = try JSONEncoder().encode(body)
            return Response(
                status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
        return self
    }
}
