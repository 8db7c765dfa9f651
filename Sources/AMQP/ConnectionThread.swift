import Foundation
import Logging
import Synchronization

/// The thread a `Publisher` or `Consumer` keeps its connection on: how it is woken,
/// how it (re)connects with backoff, and how it is asked to stop.
final class ConnectionThread: Sendable {
    let wake = WakeSignal()
    let config: AMQPConfiguration
    let logger: Logger
    private let finished = Atomic<Bool>(false)
    private let connected = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)

    init(config: AMQPConfiguration, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// Starts the thread, once (its owner's first use, or its service's `run()`); not after a stop.
    func start(name: String, _ run: @escaping @Sendable () -> Void) {
        guard shouldRun, started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        let thread = Thread(block: run)
        thread.name = name
        thread.start()
    }

    var isStarted: Bool { started.load(ordering: .acquiring) }

    /// False once the thread has finished, or was told to stop at its next turn.
    var shouldRun: Bool { !finished.load(ordering: .acquiring) }

    /// Whether a working connection is up (for readiness checks).
    var isConnected: Bool { connected.load(ordering: .relaxed) }

    /// A new connection with `topology` declared and `prepare` done on it; or, after
    /// waiting the next backoff delay, nil.
    func connect(topology: Topology, backoff: inout Backoff, prepare: (AMQPConnection) throws(AMQPError) -> Void) -> AMQPConnection? {
        do {
            let connection = try AMQPConnection(config)
            try connection.declare(topology)
            try prepare(connection)
            backoff.reset()
            connected.store(true, ordering: .relaxed)
            logger.info("AMQP connected", metadata: ["broker": "\(config.host):\(config.port)"])
            return connection
        } catch {
            logger.debug("AMQP cannot connect", metadata: ["error": "\(error)"])
            wake.wait(socket: -1, timeoutMs: Int32(backoff.next() * 1000))
            return nil
        }
    }

    /// The connection broke: the caller drops it and connects again.
    func lost(_ error: any Error, metadata: Logger.Metadata = [:]) {
        connected.store(false, ordering: .relaxed)
        logger.warning("AMQP connection lost", metadata: metadata.merging(["error": "\(error)"]) { a, _ in a })
    }

    /// Called by the thread as its last act.
    func finish(closing connection: AMQPConnection?) {
        connection?.closeGracefully()
        connected.store(false, ordering: .relaxed)
        finished.store(true, ordering: .releasing)
    }

    /// Waits up to `timeout` for the thread to finish by itself (its owner has asked it to),
    /// then makes it stop at its next turn.
    func stop(timeout: Duration) async {
        // Never started: nothing to wait for, and it must not start later.
        let neverStarted = started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        if neverStarted {
            finished.store(true, ordering: .releasing)
            return
        }
        wake.signal()
        let deadline = ContinuousClock.now + timeout
        // In a task of its own: in a cancelled caller (a service group cancelled after its
        // grace) every sleep would return at once, and this loop spin a core for `timeout`.
        await Task { [self] in
            while shouldRun, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
        }.value
        finished.store(true, ordering: .releasing)
        wake.signal()
    }
}
