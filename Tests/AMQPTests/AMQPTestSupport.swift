import AMQP
import Synchronization
import TestSupport

/// A topic exchange, a durable queue bound to it and a dead-letter queue, all named
/// for one test and deleted afterwards.
struct TestTopology {
    let exchange = TestServers.uniqueName("test.x")
    let queue = TestServers.uniqueName("test.q")
    let deadLetterExchange = TestServers.uniqueName("test.dlx")
    let deadLetterQueue = TestServers.uniqueName("test.dlq")

    var topology: Topology {
        Topology(
            exchanges: [.topic(exchange), .fanout(deadLetterExchange)],
            queues: [Topology.Queue(queue, deadLetterExchange: deadLetterExchange), Topology.Queue(deadLetterQueue)],
            bindings: [
                .init(queue: queue, exchange: exchange, routingKey: "test.#"),
                .init(queue: deadLetterQueue, exchange: deadLetterExchange, routingKey: ""),
            ])
    }

    func message(_ id: String, routingKey: String = "test.event") -> AMQPMessage {
        AMQPMessage(exchange: exchange, routingKey: routingKey, body: Array("{\"n\":\"\(id)\"}".utf8), messageId: id,
                    correlationId: "corr-\(id)", headers: ["attempt": .int(1), "source": .string("tests")])
    }

    func cleanUp(_ config: AMQPConfiguration) async throws {
        let admin = AMQPAdmin(config: config)
        try await admin.deleteQueue(queue)
        try await admin.deleteQueue(deadLetterQueue)
        try await admin.deleteExchange(exchange)
        try await admin.deleteExchange(deadLetterExchange)
    }
}

/// What a consumer has seen, shared with the test.
final class Received: Sendable {
    private let state = Mutex<(ids: Set<String>, deliveries: Int, redelivered: Int)>(([], 0, 0))

    func record(_ delivery: AMQPDelivery) {
        state.withLock {
            $0.ids.insert(delivery.message.messageId ?? "?")
            $0.deliveries += 1
            if delivery.redelivered { $0.redelivered += 1 }
        }
    }

    var ids: Set<String> { state.withLock { $0.ids } }
    var deliveries: Int { state.withLock { $0.deliveries } }
    var redelivered: Int { state.withLock { $0.redelivered } }

    /// Polls until `condition` holds or `timeout` passes; returns whether it held.
    func wait(timeout: Duration, until condition: @Sendable (Received) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(self)
    }
}
