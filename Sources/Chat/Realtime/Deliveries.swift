import AMQP
import Foundation
import Logging
import ServiceLifecycle
import SocketIO

/// Carries what happens in a chat's room to the other chat replicas, whose sockets may be
/// in it (new messages, members who left or were removed): a fanout exchange, and a queue
/// per replica that goes when the replica does, consumed in order so a removal comes
/// before the messages sent after it. Delivery is live-only (a socket that is not
/// connected reads history over REST), so the messages are not persistent and a replica
/// skips its own by their `replica` header, unread. A `Service`: it connects and sends
/// from `run()` on, and stops with the service group.
final class Deliveries: Service, Sendable {
    static let exchange = "switchboard.chat.deliveries"
    let replicaId = UUID().uuidString
    private let publisher: Publisher
    private let consumer: Consumer
    let logger: Logger
    /// Publishing waits for the connection thread (and, while the broker is away, for it to
    /// come back): a queue and one task keep that wait away from the socket that sent the
    /// message, and keep the order.
    private let outgoing: AsyncStream<RoomEvent>.Continuation
    private let queued: AsyncStream<RoomEvent>

    /// The header naming the replica that published (its own come back through the fanout).
    static let replicaHeader = "replica"

    init(amqp: AMQPConfiguration, logger: Logger, deliver: @escaping @Sendable (RoomEvent) -> Void) {
        let exchange = Topology.Exchange.fanout(Self.exchange, durable: false)
        let queue = "chat.deliveries.\(replicaId)"
        let topology = Topology(
            exchanges: [exchange], queues: [Topology.Queue(queue, durable: false, messageTTL: 30_000, autoDelete: true)],
            bindings: [Topology.Binding(queue: queue, exchange: Self.exchange, routingKey: "")])
        // Live-only: no confirm round trip per message (a broker outage loses the live copy anyway).
        let publisher = Publisher(config: amqp, topology: Topology(exchanges: [exchange]), confirms: false, logger: logger)
        self.publisher = publisher
        let ownId = replicaId
        // The replica's own deliveries come back through the fanout: acked on the connection
        // thread as they arrive, never handed to a task.
        consumer = Consumer(config: amqp, topology: topology, queue: queue, ordered: true, logger: logger,
                            settleOnArrival: { $0.message.headers[Deliveries.replicaHeader] == .string(ownId) ? .ack : nil }) { delivery in
            guard let json = try? JSONValue.parse(delivery.message.body), let event = RoomEvent(json: json) else { return .reject(requeue: false) }
            deliver(event)
            return .ack
        }
        self.logger = logger
        (queued, outgoing) = AsyncStream<RoomEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
    }

    /// Sends what the replica's sockets did, and hands the other replicas' events to
    /// `deliver`, until the service group shuts down gracefully.
    func run() async throws {
        consumer.start()
        publisher.start()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                for await event in queued {
                    do {
                        try await publisher.publish(AMQPMessage(
                            exchange: Deliveries.exchange, routingKey: "", body: Array(event.json.serialized().utf8),
                            headers: [Deliveries.replicaHeader: .string(replicaId)], persistent: false))
                    } catch {
                        logger.warning("live delivery to other replicas failed: \(error)", metadata: ["chatId": "\(event.chatId)"])
                    }
                }
            }
            try? await gracefulShutdown()
            outgoing.finish()
        }
        await consumer.close()
        await publisher.close()
    }

    var isConnected: Bool { publisher.isConnected && consumer.isConnected }

    /// Tells the other replicas; a broker outage costs them the live copy, never the message.
    func publish(_ event: RoomEvent) {
        outgoing.yield(event)
    }
}
