import Logging
import ServiceLifecycle
import Synchronization

/// Consumes one queue on a connection and thread of its own, handing each delivery
/// to an async handler and acking or rejecting it with the handler's outcome — only
/// after the handler returns, so a crash mid-handler means redelivery, not loss.
/// At most `prefetch` deliveries are in the handler at once. When the connection
/// breaks it reconnects with backoff and declares its topology again; outcomes of
/// deliveries from the old connection are dropped (the broker redelivers those).
/// An `ordered` consumer hands deliveries to its handler one at a time, in the order
/// the broker sent them (for live streams where order matters more than parallelism).
/// A `settleOnArrival` check decides on the connection thread, before any handler, the
/// deliveries that need none (a pure, quick test of headers): they are settled at once.
/// A `Service`: it starts consuming at `start()` or `run()`, never in `init`, and on
/// graceful shutdown stops taking deliveries and settles the ones in hand before closing.
public final class Consumer: Service, Sendable {
    public typealias Handler = @Sendable (AMQPDelivery) async -> DeliveryOutcome
    /// The outcome of a delivery that needs no handler, else nil.
    public typealias ArrivalCheck = @Sendable (AMQPDelivery) -> DeliveryOutcome?

    struct Settlement {
        let generation: Int
        let tag: UInt64
        let outcome: DeliveryOutcome
    }

    struct Shared {
        var settlements: [Settlement] = []
        var stopping = false
        var inFlight = 0
    }

    private let shared = Mutex(Shared())
    private let thread: ConnectionThread
    let topology: Topology
    let queue: String
    let prefetch: Int
    let handler: Handler
    let settleOnArrival: ArrivalCheck?
    /// Set for an ordered consumer: its one handler task reads deliveries from here.
    private let inOrder: AsyncStream<(AMQPDelivery, Int)>.Continuation?
    private let inOrderStream: AsyncStream<(AMQPDelivery, Int)>?
    private let orderedTask = Mutex<Task<Void, Never>?>(nil)

    public init(config: AMQPConfiguration, topology: Topology = Topology(), queue: String, prefetch: Int = 100, ordered: Bool = false,
                logger: Logger = Logger(label: "amqp.consumer"), settleOnArrival: ArrivalCheck? = nil, handler: @escaping Handler) {
        self.topology = topology
        self.queue = queue
        self.prefetch = prefetch
        self.handler = handler
        self.settleOnArrival = settleOnArrival
        let ordered = ordered ? AsyncStream<(AMQPDelivery, Int)>.makeStream() : nil
        inOrder = ordered?.continuation
        inOrderStream = ordered?.stream
        var logger = logger
        logger[metadataKey: "queue"] = .string(queue)
        thread = ConnectionThread(config: config, logger: logger)
    }

    /// Starts consuming (once).
    public func start() {
        guard !thread.isStarted else { return }
        if let stream = inOrderStream {
            orderedTask.withLock { task in
                guard task == nil else { return }
                task = Task { [self] in
                    for await (delivery, generation) in stream { await handle(delivery, generation: generation) }
                }
            }
        }
        thread.start(name: "amqp-consumer") { [self] in runConnection() }
    }

    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await close()
    }

    public var isConnected: Bool { thread.isConnected }

    /// Stops taking deliveries, waits up to `timeout` for handlers already running to
    /// finish and their outcomes to be sent, then closes the connection.
    public func close(timeout: Duration = .seconds(10)) async {
        shared.withLock { $0.stopping = true }
        await thread.stop(timeout: timeout)
        inOrder?.finish()
    }

    private func runConnection() {
        var connection: AMQPConnection?
        var generation = 0
        var backoff = Backoff(max: thread.config.maxBackoffSeconds)

        while thread.shouldRun {
            let (stopping, busy) = shared.withLock { ($0.stopping, $0.inFlight > 0 || !$0.settlements.isEmpty) }
            if stopping, !busy { break }

            if connection == nil {
                if stopping { break }
                connection = thread.connect(topology: topology, backoff: &backoff) { [queue, prefetch] c throws(AMQPError) in
                    try c.consume(queue: queue, prefetch: prefetch)
                }
                if connection != nil { generation += 1 }
            }
            guard let c = connection else { continue }

            do {
                let settlements = shared.withLock { shared in
                    defer { shared.settlements.removeAll() }
                    return shared.settlements
                }
                for s in settlements where s.generation == generation { try c.settle(s.tag, s.outcome) }

                if !stopping, let delivery = try c.nextDelivery() {
                    if let outcome = settleOnArrival?(delivery) {
                        try c.settle(delivery.deliveryTag, outcome)
                    } else {
                        dispatch(delivery, generation: generation)
                    }
                    continue
                }
                if !c.hasBufferedInput {
                    thread.wake.wait(socket: stopping ? -1 : c.fileDescriptor, timeoutMs: thread.config.idleWaitMilliseconds)
                }
            } catch {
                thread.lost(error)
                connection = nil
            }
        }
        thread.finish(closing: connection)
    }

    private func dispatch(_ delivery: AMQPDelivery, generation: Int) {
        shared.withLock { $0.inFlight += 1 }
        if let inOrder {
            inOrder.yield((delivery, generation))
            return
        }
        Task { [self] in await handle(delivery, generation: generation) }
    }

    private func handle(_ delivery: AMQPDelivery, generation: Int) async {
        let outcome = await handler(delivery)
        shared.withLock {
            $0.inFlight -= 1
            $0.settlements.append(Settlement(generation: generation, tag: delivery.deliveryTag, outcome: outcome))
        }
        thread.wake.signal()
    }
}
