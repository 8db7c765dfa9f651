import NIOPosix

/// One-off broker operations (declare, purge, delete, count) on a short-lived
/// connection, run on a thread pool: for set-up, tests and tools, not hot paths.
public struct AMQPAdmin: Sendable {
    public let config: AMQPConfiguration

    public init(config: AMQPConfiguration) { self.config = config }

    public func declare(_ topology: Topology) async throws { try await run { try $0.declare(topology) } }
    @discardableResult
    public func purge(_ queue: String) async throws -> Int { try await run { try $0.purge(queue) } }
    public func deleteQueue(_ queue: String) async throws { try await run { try $0.deleteQueue(queue) } }
    public func deleteExchange(_ exchange: String) async throws { try await run { try $0.deleteExchange(exchange) } }
    public func messageCount(_ queue: String) async throws -> Int { try await run { try $0.messageCount(queue) } }

    /// Waits for the broker to accept connections (for example after a restart).
    public func waitUntilReachable(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            do { return try await run { _ in } } catch {
                if ContinuousClock.now >= deadline { throw error }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (AMQPConnection) throws -> T) async throws -> T {
        let config = self.config
        return try await NIOThreadPool.singleton.runIfActive {
            let connection = try AMQPConnection(config)
            defer { connection.closeGracefully() }
            return try body(connection)
        }
    }
}
