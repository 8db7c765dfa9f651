import AMQP
import Foundation
import Logging
import Mongo
import ServiceLifecycle
import Synchronization

/// What a handler gets besides the event: the transaction to write in (so its writes
/// and the "applied" marker commit together), a logger carrying the event's id and
/// correlation id, and `afterCommit` for what must wait for the commit.
public struct EventContext: Sendable {
    public let session: MongoSession
    public let logger: Logger
    public let attempt: Int
    let committed: AfterCommit

    /// Runs `action` once the transaction has committed (never if it rolls back): cache
    /// invalidations go here — dropped before the commit, an entry could be filled again
    /// from the data the commit is about to replace, and stay stale for its whole lifetime.
    public func afterCommit(_ action: @escaping @Sendable () async -> Void) {
        committed.add(action)
    }
}

/// The actions an attempt's handler left for after its commit.
final class AfterCommit: Sendable {
    private let actions = Mutex<[@Sendable () async -> Void]>([])

    func add(_ action: @escaping @Sendable () async -> Void) { actions.withLock { $0.append(action) } }

    func run() async {
        for action in actions.withLock({ $0 }) { await action() }
    }
}

/// How often a failing handler is tried before its event is dead-lettered.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var firstDelay: Duration

    public init(maxAttempts: Int = 5, firstDelay: Duration = .milliseconds(200)) {
        self.maxAttempts = max(1, maxAttempts)
        self.firstDelay = firstDelay
    }

    /// firstDelay, ×4 each retry.
    func delay(afterAttempt attempt: Int) -> Duration { firstDelay * Int(pow(4.0, Double(attempt - 1))) }
}

/// Runs a service's event handlers: one durable queue per event type, each event
/// applied once (idempotent on its id, in one transaction with the handler's writes),
/// acked only after that commit, a failing handler retried with backoff and then
/// dead-lettered with the reason in its headers. A `Service`: it consumes from `run()`
/// on, and on graceful shutdown stops taking deliveries, finishes and acks those in
/// hand, then closes (what it could not finish in time the broker redelivers, and the
/// marker makes it apply once).
public final class EventConsumer: Service, Sendable {
    typealias RawHandler = @Sendable (AMQPDelivery) async -> DeliveryOutcome

    public let service: String
    let mongo: MongoClient
    let processed: ProcessedEvents
    let amqp: AMQPConfiguration
    let retry: RetryPolicy
    let prefetch: Int
    let logger: Logger
    private let handlers = Mutex<[(type: String, handler: RawHandler)]>([])
    private let consumers = Mutex<[Consumer]>([])
    private let prepared = Mutex(false)
    private let deadLetters: Publisher

    public init(service: String, mongo: MongoClient, database: String, amqp: AMQPConfiguration,
                retry: RetryPolicy = RetryPolicy(), prefetch: Int = 50, logger: Logger = Logger(label: "events")) {
        self.service = service
        self.mongo = mongo
        self.processed = ProcessedEvents(database: mongo.database(database))
        self.amqp = amqp
        self.retry = retry
        self.prefetch = prefetch
        self.logger = logger
        deadLetters = Publisher(
            config: amqp, topology: Topology(exchanges: [.direct(EventTopology.deadLetterExchange)]), logger: logger)
    }

    /// Registers the handler of one event type; call before `run()`.
    public func on<P: EventPayload>(_ type: P.Type, _ handler: @escaping @Sendable (EventEnvelope<P>, EventContext) async throws -> Void) {
        let queue = EventTopology.queue(service: service, type: P.type)
        let raw: RawHandler = { [self] delivery in await handle(delivery, queue: queue, as: P.self, handler) }
        handlers.withLock { $0.append((P.type, raw)) }
    }

    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await close()
    }

    /// Declares the queues, so events published from now on are kept: the service calls
    /// this before its HTTP server answers. With the broker down it returns anyway: the
    /// consumers connect, and declare their queues, when it is back.
    public func prepare() async throws {
        try await processed.prepare()
        let registered = handlers.withLock { $0 }
        let admin = AMQPAdmin(config: amqp)
        do {
            for entry in registered { try await admin.declare(EventTopology.consumer(service: service, type: entry.type)) }
        } catch {
            // Each consumer declares its queue when it connects; the service need not wait for the broker.
            logger.warning("event queues not declared yet (broker unreachable), declaring on connect: \(error)")
        }
        prepared.withLock { $0 = true }
    }

    /// Prepares (unless done) and starts consuming every registered event type, once.
    /// `run()` does this, then waits for the shutdown; call it directly only outside a service group.
    public func start() async throws {
        if !prepared.withLock({ $0 }) { try await prepare() }
        let registered = handlers.withLock { $0 }
        let started: [Consumer] = consumers.withLock { consumers in
            guard consumers.isEmpty else { return [] }
            consumers = registered.map { entry in
                Consumer(config: amqp, topology: EventTopology.consumer(service: service, type: entry.type),
                         queue: EventTopology.queue(service: service, type: entry.type), prefetch: prefetch,
                         logger: logger, handler: entry.handler)
            }
            return consumers
        }
        for consumer in started { consumer.start() }
    }

    /// Whether every queue's consumer is connected (for readiness checks).
    public var isConnected: Bool { consumers.withLock { $0.allSatisfy(\.isConnected) } }

    /// Stops every queue's consumer at once (each settles what it has in hand), then the dead-letter publisher.
    public func close() async {
        await withTaskGroup(of: Void.self) { group in
            for consumer in consumers.withLock({ $0 }) { group.addTask { await consumer.close() } }
        }
        await deadLetters.close()
    }

    // MARK: one delivery

    private func handle<P: EventPayload>(
        _ delivery: AMQPDelivery, queue: String, as type: P.Type,
        _ handler: @escaping @Sendable (EventEnvelope<P>, EventContext) async throws -> Void
    ) async -> DeliveryOutcome {
        var log = logger
        log[metadataKey: "queue"] = .string(queue)
        let body = Data(delivery.message.body)
        let envelope: EventEnvelope<P>
        do {
            envelope = try EventCoding.decoder.decode(EventEnvelope<P>.self, from: body)
        } catch {
            // Only now read the bare header: to say whether this is an event at all, and which.
            guard let header = try? EventCoding.decoder.decode(EventHeader.self, from: body) else {
                return await deadLetter(delivery, queue: queue, reason: "not an event envelope", attempts: 0, logger: log)
            }
            log[metadataKey: "eventId"] = .string(header.id)
            log[metadataKey: "correlationId"] = .string(header.correlationId)
            return await deadLetter(delivery, queue: queue, reason: "payload does not match \(P.type) v\(P.version): \(error)", attempts: 0, logger: log)
        }
        log[metadataKey: "eventId"] = .string(envelope.id)
        log[metadataKey: "correlationId"] = .string(envelope.correlationId)

        var lastError = ""
        for attempt in 1...retry.maxAttempts {
            do {
                let committed = AfterCommit()
                try await mongo.withTransaction { session in
                    try await processed.claim(queue: queue, eventId: envelope.id, session: session)
                    try await handler(envelope, EventContext(session: session, logger: log, attempt: attempt, committed: committed))
                }
                await committed.run()
                log.debug("event applied", metadata: ["attempt": "\(attempt)"])
                return .ack
            } catch {
                // The marker's duplicate key means an earlier delivery was applied; a handler's own is a failure.
                if case MongoError.duplicateKey = error, (try? await isProcessed(queue: queue, eventId: envelope.id)) == true {
                    log.info("event already applied, ignored")
                    return .ack
                }
                lastError = "\(error)"
                log.warning("event handler failed", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                if attempt < retry.maxAttempts { try? await Task.sleep(for: retry.delay(afterAttempt: attempt)) }
            }
        }
        return await deadLetter(delivery, queue: queue, reason: lastError, attempts: retry.maxAttempts, logger: log)
    }

    private func isProcessed(queue: String, eventId: String) async throws -> Bool {
        try await processed.markers.count(.eq("_id", "\(queue):\(eventId)")) > 0
    }

    /// Publishes a copy to the dead-letter queue with the reason, then acks the original;
    /// if that copy cannot be published, the broker dead-letters the original (without reason).
    private func deadLetter(_ delivery: AMQPDelivery, queue: String, reason: String, attempts: Int, logger: Logger) async -> DeliveryOutcome {
        var copy = delivery.message
        copy.exchange = EventTopology.deadLetterExchange
        copy.routingKey = queue
        copy.headers["x-error"] = .string(String(reason.prefix(1000)))
        copy.headers["x-attempts"] = .int(Int64(attempts))
        copy.headers["x-original-routing-key"] = .string(delivery.message.routingKey)
        logger.error("event dead-lettered", metadata: ["reason": "\(reason.prefix(200))", "attempts": "\(attempts)"])
        do {
            try await deadLetters.publish(copy)
            return .ack
        } catch {
            return .reject(requeue: false)
        }
    }
}
