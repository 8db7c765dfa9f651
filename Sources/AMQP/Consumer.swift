import Foundation
import Logging
import Synchronization

/// Consumes one queue on a connection and thread of its own, handing each delivery
/// to an async handler and acking or rejecting it with the handler's outcome — only
/// after the handler returns, so a crash mid-handler means redelivery, not loss.
/// At most `prefetch` deliveries are in the handler at once. When the connection
/// breaks it reconnects with backoff and declares its topology again; outcomes of
/// deliveries from the old connection are dropped (the broker redelivers those).
public final class Consumer: Sendable {
    public typealias Handler = @Sendable (AMQPDelivery) async -> DeliveryOutcome

    struct Settlement {
        let generation: Int
        let tag: UInt64
        let outcome: DeliveryOutcome
    }

    struct Shared {
        var settlements: [Settlement] = []
        var stopping = false
        var connected = false
        var inFlight = 0
    }

    private let shared = Mutex(Shared())
    private let wake = WakeSignal()
    private let done = Atomic<Bool>(false)
    let config: AMQPConfiguration
    let topology: Topology
    let queue: String
    let prefetch: Int
    let handler: Handler
    let logger: Logger

    public init(config: AMQPConfiguration, topology: Topology = Topology(), queue: String, prefetch: Int = 100,
                logger: Logger = Logger(label: "amqp.consumer"), handler: @escaping Handler) {
        self.config = config
        self.topology = topology
        self.queue = queue
        self.prefetch = prefetch
        self.handler = handler
        self.logger = logger
        let thread = Thread { [self] in run() }
        thread.name = "amqp-consumer"
        thread.start()
    }

    public var isConnected: Bool { shared.withLock { $0.connected } }

    /// Stops taking deliveries, waits up to `timeout` for handlers already running to
    /// finish and their outcomes to be sent, then closes the connection.
    public func close(timeout: Duration = .seconds(10)) async {
        shared.withLock { $0.stopping = true }
        wake.signal()
        let deadline = ContinuousClock.now + timeout
        while !done.load(ordering: .acquiring), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        done.store(true, ordering: .releasing)
        wake.signal()
    }

    private func run() {
        var connection: AMQPConnection?
        var generation = 0
        var backoff = Backoff(max: config.maxBackoffSeconds)

        while !done.load(ordering: .acquiring) {
            let (stopping, inFlight) = shared.withLock { ($0.stopping, $0.inFlight) }
            if stopping, inFlight == 0, shared.withLock({ $0.settlements.isEmpty }) { break }

            if connection == nil {
                if stopping { break }
                do {
                    let c = try AMQPConnection(config)
                    try c.declare(topology)
                    try c.consume(queue: queue, prefetch: prefetch)
                    connection = c
                    generation += 1
                    backoff.reset()
                    shared.withLock { $0.connected = true }
                    logger.info("AMQP consumer connected", metadata: ["queue": "\(queue)"])
                } catch {
                    logger.debug("AMQP consumer cannot connect", metadata: ["queue": "\(queue)", "error": "\(error)"])
                    wake.wait(socket: -1, timeoutMs: Int32(backoff.next() * 1000))
                    continue
                }
            }
            guard let c = connection else { continue }

            do {
                let settlements = shared.withLock { shared in
                    defer { shared.settlements.removeAll() }
                    return shared.settlements
                }
                for s in settlements where s.generation == generation { try c.settle(s.tag, s.outcome) }

                if !stopping, let delivery = try c.nextDelivery() {
                    dispatch(delivery, generation: generation)
                    continue
                }
                if !c.hasBufferedInput {
                    wake.wait(socket: stopping ? -1 : c.fileDescriptor, timeoutMs: config.idleWaitMilliseconds)
                }
            } catch {
                logger.warning("AMQP consumer connection lost", metadata: ["queue": "\(queue)", "error": "\(error)"])
                connection = nil
                shared.withLock { $0.connected = false }
            }
        }
        connection?.closeGracefully()
        shared.withLock { $0.connected = false }
        done.store(true, ordering: .releasing)
    }

    private func dispatch(_ delivery: AMQPDelivery, generation: Int) {
        shared.withLock { $0.inFlight += 1 }
        let handler = self.handler
        Task { [self] in
            let outcome = await handler(delivery)
            shared.withLock {
                $0.inFlight -= 1
                $0.settlements.append(Settlement(generation: generation, tag: delivery.deliveryTag, outcome: outcome))
            }
            wake.signal()
        }
    }
}
