import NIOPosix
import Synchronization

/// The threads a database or cache client runs its blocking C calls on: started by the
/// first call that needs them (never in the client's `init`), stopped once by `close()`,
/// after the calls under way. The Mongo client's (libmongoc blocks).
public final class ClientThreads: Sendable {
    private enum Lifecycle { case unstarted, running, closed }
    private let pool: NIOThreadPool
    private let lifecycle = Mutex(Lifecycle.unstarted)

    public init(count: Int) {
        pool = NIOThreadPool(numberOfThreads: count)
    }

    /// The pool, started if this is its first use; once closed its calls fail (`runIfActive`).
    public var threads: NIOThreadPool {
        lifecycle.withLock { state in
            if state == .unstarted {
                pool.start()
                state = .running
            }
        }
        return pool
    }

    public func close() async throws {
        let wasRunning = lifecycle.withLock { state in
            defer { state = .closed }
            return state == .running
        }
        if wasRunning { try await pool.shutdownGracefully() }
    }
}
