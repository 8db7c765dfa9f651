import AMQP
import Foundation
import Logging

/// Carries what happens in a chat's room to the other chat replicas, whose sockets may be
/// in it (new messages, members who left or were removed): a fanout exchange, and a queue
/// per replica that goes when the replica does, consumed in order so a removal comes
/// before the messages sent after it. Delivery is live-only (a socket that is not
/// connected reads history over REST), so the messages are not persistent and a replica
/// skips its own.
final class Deliveries: Sendable {
    static let exchange = "switchboard.chat.deliveries"
    let replicaId = UUID().uuidString
    private let publisher: Publisher
    private let consumer: Consumer
    let logger: Logger
    /// Publishing waits for the broker's confirm: a queue and one task keep that wait (and
    /// any broker outage) away from the socket that sent the message, and keep the order.
    private let outgoing: AsyncStream<Delivery>.Continuation
    private let sender: Task<Void, Never>

    struct Delivery: Codable, Sendable {
        let replicaId: String
        let event: RoomEvent
    }

    init(amqp: AMQPConfiguration, logger: Logger, deliver: @escaping @Sendable (RoomEvent) -> Void) {
        let exchange = Topology.Exchange.fanout(Self.exchange, durable: false)
        let queue = "chat.deliveries.\(replicaId)"
        let topology = Topology(
            exchanges: [exchange], queues: [Topology.Queue(queue, durable: false, messageTTL: 30_000, autoDelete: true)],
            bindings: [Topology.Binding(queue: queue, exchange: Self.exchange, routingKey: "")])
        let publisher = Publisher(config: amqp, topology: Topology(exchanges: [exchange]), logger: logger)
        self.publisher = publisher
        let ownId = replicaId
        consumer = Consumer(config: amqp, topology: topology, queue: queue, ordered: true, logger: logger) { delivery in
            guard let decoded = try? Deliveries.decoder.decode(Delivery.self, from: Data(delivery.message.body)) else { return .reject(requeue: false) }
            if decoded.replicaId != ownId { deliver(decoded.event) }
            return .ack
        }
        self.logger = logger
        let (stream, continuation) = AsyncStream<Delivery>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        outgoing = continuation
        sender = Task {
            for await delivery in stream {
                do {
                    let body = try Deliveries.encoder.encode(delivery)
                    try await publisher.publish(AMQPMessage(exchange: Deliveries.exchange, routingKey: "", body: Array(body), persistent: false))
                } catch {
                    logger.warning("live delivery to other replicas failed: \(error)", metadata: ["chatId": "\(delivery.event.chatId)"])
                }
            }
        }
    }

    var isConnected: Bool { publisher.isConnected && consumer.isConnected }

    /// Tells the other replicas; a broker outage costs them the live copy, never the message.
    func publish(_ event: RoomEvent) {
        outgoing.yield(Delivery(replicaId: replicaId, event: event))
    }

    func close() async {
        outgoing.finish()
        sender.cancel()
        await consumer.close()
        await publisher.close()
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
