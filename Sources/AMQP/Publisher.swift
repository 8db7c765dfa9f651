import Logging
import ServiceLifecycle
import Synchronization

/// Publishes with publisher confirms on a connection and thread of its own.
///
/// `publish` returns once the broker has confirmed the message (basic.ack), so a
/// returned publish of a persistent message to a durable queue survives a broker
/// crash. Many concurrent `publish` calls are pipelined: they are all sent, and the
/// confirms are matched as they arrive. If the connection breaks, the publisher
/// reconnects with backoff, declares its topology again and re-sends every message
/// not yet confirmed — so a message may reach consumers twice, never zero times.
/// Without `confirms` (for live-only messages that may be lost, never for events), `publish`
/// returns once the message is written to the connection: no confirm round trip, and what
/// was written before a connection broke is gone.
/// A `Service`: its connection thread starts with the first publish or `run()` (never in
/// `init`); on graceful shutdown it waits for the confirms of what was handed over, then closes.
public final class Publisher: Service, Sendable {
    struct Pending {
        let message: AMQPMessage
        let completion: Completion
    }

    struct Shared {
        var queued: [Pending] = []
        var stopping = false
    }

    private let shared = Mutex(Shared())
    private let thread: ConnectionThread
    let topology: Topology
    let maxInFlight: Int
    let confirms: Bool

    public init(config: AMQPConfiguration, topology: Topology = Topology(), maxInFlight: Int = 1000, confirms: Bool = true,
                logger: Logger = Logger(label: "amqp.publisher")) {
        self.topology = topology
        self.maxInFlight = maxInFlight
        self.confirms = confirms
        thread = ConnectionThread(config: config, logger: logger)
    }

    /// Starts the connection thread (once).
    public func start() {
        thread.start(name: "amqp-publisher") { [self] in runConnection() }
    }

    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await close()
    }

    /// Whether the publisher has a working connection right now (for readiness checks).
    public var isConnected: Bool { thread.isConnected }

    /// Sends `message` and returns when the broker has confirmed it (without `confirms`,
    /// once it is written). Throws `AMQPError.nacked`
    /// if the broker refused it, `AMQPError.closed` if the publisher closed first, and
    /// `CancellationError` if the task is cancelled first (the message may still arrive).
    public func publish(_ message: AMQPMessage) async throws {
        // The broker closes the channel for an unknown exchange, and a re-send would fail the
        // same way forever: only exchanges this publisher declared (or the default one) are allowed.
        guard message.exchange.isEmpty || topology.exchanges.contains(where: { $0.name == message.exchange }) else {
            throw AMQPError.refused("exchange \"\(message.exchange)\" is not in this publisher's topology")
        }
        let completion = Completion()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                guard completion.install(continuation) else {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                let accepted = shared.withLock { shared in
                    guard !shared.stopping else { return false }
                    shared.queued.append(Pending(message: message, completion: completion))
                    return true
                }
                if accepted {
                    start()
                    thread.wake.signal()
                } else {
                    completion.fail(AMQPError.closed)
                }
            }
        } onCancel: {
            completion.fail(CancellationError())
        }
    }

    /// Stops after the messages already handed over are confirmed or `timeout` passes;
    /// whatever is still unconfirmed then fails with `AMQPError.closed`.
    public func close(timeout: Duration = .seconds(10)) async {
        shared.withLock { $0.stopping = true }
        await thread.stop(timeout: timeout)
    }

    // MARK: the connection thread

    private func runConnection() {
        var connection: AMQPConnection?
        var unconfirmed: [(tag: UInt64, pending: Pending)] = []
        var resend: [Pending] = []
        var nextTag: UInt64 = 1
        var backoff = Backoff(max: thread.config.maxBackoffSeconds)

        func settle(_ confirm: AMQPConnection.Confirm) {
            let (tag, multiple, ok): (UInt64, Bool, Bool) =
                switch confirm {
                case .ack(let t, let m): (t, m, true)
                case .nack(let t, let m): (t, m, false)
                }
            let matches = { (entry: (tag: UInt64, pending: Pending)) in multiple ? entry.tag <= tag : entry.tag == tag }
            for entry in unconfirmed where matches(entry) {
                if ok { entry.pending.completion.succeed() } else { entry.pending.completion.fail(AMQPError.nacked) }
            }
            unconfirmed.removeAll(where: matches)
        }

        while thread.shouldRun {
            let (stopping, idle) = shared.withLock { ($0.stopping, $0.queued.isEmpty) }
            if stopping, idle, resend.isEmpty, unconfirmed.isEmpty { break }

            if connection == nil {
                connection = thread.connect(topology: topology, backoff: &backoff) { [confirms] c throws(AMQPError) in
                    if confirms { try c.enableConfirms() }
                }
                nextTag = 1
                if connection != nil, !resend.isEmpty { thread.logger.info("AMQP publisher re-sending", metadata: ["count": "\(resend.count)"]) }
            }
            guard let c = connection else { continue }

            do {
                // Take new messages while the window has room; re-sends go first.
                let room = maxInFlight - unconfirmed.count - resend.count
                if room > 0 {
                    resend += shared.withLock { shared in
                        let taken = Array(shared.queued.prefix(room))
                        shared.queued.removeFirst(taken.count)
                        return taken
                    }
                }
                while !resend.isEmpty, unconfirmed.count < maxInFlight {
                    let next = resend[0]
                    // A caller that gave up (cancelled) before its message went out: do not send it.
                    if next.completion.isDone {
                        resend.removeFirst()
                        continue
                    }
                    try c.publish(next.message)
                    resend.removeFirst()
                    if confirms {
                        unconfirmed.append((nextTag, next))
                        nextTag += 1
                    } else {
                        next.completion.succeed()
                    }
                }
                for confirm in try c.readConfirms() { settle(confirm) }
                let canSendMore = !resend.isEmpty && unconfirmed.count < maxInFlight
                if !c.hasBufferedInput, !canSendMore {
                    thread.wake.wait(socket: c.fileDescriptor, timeoutMs: thread.config.idleWaitMilliseconds)
                }
                for confirm in try c.readConfirms() { settle(confirm) }
            } catch {
                thread.lost(error, metadata: ["unconfirmed": "\(unconfirmed.count)"])
                connection = nil
                // Everything not confirmed goes out again, in its original order, on the next connection.
                resend = unconfirmed.map(\.pending) + resend
                unconfirmed.removeAll()
            }
        }

        let leftover = unconfirmed.map(\.pending) + resend + shared.withLock { shared in
            defer { shared.queued.removeAll() }
            return shared.queued
        }
        leftover.forEach { $0.completion.fail(AMQPError.closed) }
        thread.finish(closing: connection)
    }
}
