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

    init(config: AMQPConfiguration, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// Starts the thread; its owner calls this at the end of its own init.
    func start(name: String, _ run: @escaping @Sendable () -> Void) {
        let thread = Thread(block: run)
        thread.name = name
        thread.start()
    }

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
        wake.signal()
        let deadline = ContinuousClock.now + timeout
        while shouldRun, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        finished.store(true, ordering: .releasing)
        wake.signal()
    }
}
