import BSON
import CMongoc
import NIOPosix
import Synchronization

/// The libmongoc objects of one session: the client it was started on (held for
/// the session's life) and the session. Only touched under the lock.
struct SessionState {
    var client: OpaquePointer
    var session: OpaquePointer
}

private struct EndedSession: @unchecked Sendable {
    let state: SessionState
}

/// A transaction in progress. Pass it as `session:` to collection calls that must
/// commit or abort together; use it from one task at a time.
public final class MongoSession: Sendable {
    private let state: Mutex<SessionState?>
    private let pool: ClientPool
    private let threads: NIOThreadPool

    private init(state: sending SessionState, pool: ClientPool, threads: NIOThreadPool) {
        self.state = Mutex(state)
        self.pool = pool
        self.threads = threads
    }

    static func startTransaction(client: MongoClient) async throws -> MongoSession {
        let (pool, threads) = (client.pool, client.threads)
        return try await threads.runIfActive {
            let c = pool.pop()
            var error = bson_error_t()
            guard let session = mongoc_client_start_session(c, nil, &error) else {
                pool.push(c)
                throw makeError(error)
            }
            guard mongoc_client_session_start_transaction(session, nil, &error) else {
                mongoc_client_session_destroy(session)
                pool.push(c)
                throw makeError(error)
            }
            return MongoSession(state: SessionState(client: c, session: session), pool: pool, threads: threads)
        }
    }

    /// Runs `body` on a pool thread with the session's client and session.
    func run<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer, OpaquePointer) throws -> T) async throws -> T {
        try await threads.runIfActive { [self] in
            try state.withLock { state in
                guard let s = state else { throw MongoError.client(domain: 0, code: 0, message: "the session has ended") }
                return try body(s.client, s.session)
            }
        }
    }

    func commit() async throws {
        try await run { _, session in
            var error = bson_error_t()
            var ok = false
            _ = try withReply { reply in ok = mongoc_client_session_commit_transaction(session, reply, &error) }
            if !ok { throw makeError(error) }
        }
    }

    /// Aborts a transaction still open, ends the session and gives the client back.
    func end() async {
        _ = try? await threads.runIfActive { [self] in
            state.withLock { state in
                guard let s = state.take() else { return }
                if mongoc_client_session_in_transaction(s.session) {
                    var error = bson_error_t()
                    _ = mongoc_client_session_abort_transaction(s.session, &error)
                }
                mongoc_client_session_destroy(s.session)
                pool.push(s.client)
            }
        }
    }

    deinit {
        guard let ended = state.withLock({ $0.take().map(EndedSession.init) }) else { return }
        let pool = self.pool
        threads.submit { _ in
            mongoc_client_session_destroy(ended.state.session)
            pool.push(ended.state.client)
        }
    }
}

extension MongoClient {
    /// Runs `body` in a transaction and commits it; if `body` throws, nothing it wrote stays.
    /// A write conflict with another transaction is retried, up to `attempts` times in all,
    /// after a short, growing, jittered pause: retried at once, it meets the other
    /// transaction still open and conflicts again.
    @discardableResult
    public func withTransaction<T: Sendable>(attempts: Int = 8, _ body: (MongoSession) async throws -> T) async throws -> T {
        try await holdPermits.withPermit { try await transaction(attempts: attempts, body) }
    }

    private func transaction<T: Sendable>(attempts: Int, _ body: (MongoSession) async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            let session = try await MongoSession.startTransaction(client: self)
            do {
                let result = try await body(session)
                try await session.commit()
                await session.end()
                return result
            } catch {
                await session.end()
                guard attempt < attempts, case MongoError.server(let code, _) = error, [112, 251].contains(code) else { throw error }
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 << min(attempt, 5)))))
                attempt += 1
            }
        }
    }
}

/// Options for one call, with the session's id appended when there is a session.
func withOptions<R>(_ options: BSONDocument, session: OpaquePointer?, _ body: (OpaquePointer) throws -> R) throws -> R {
    try withBSON(options) { opts in
        guard let opts else { throw MongoError.invalidDocument("no options") }
        if let session {
            var error = bson_error_t()
            guard mongoc_client_session_append(session, opts, &error) else { throw makeError(error) }
        }
        return try body(opts)
    }
}
