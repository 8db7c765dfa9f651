import BSON
import ClientThreads
import CMongoc
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle

/// libmongoc logs to stderr by default; route it through swift-log instead.
private let mongocLogger = Logger(label: "mongoc")

private let mongocInitialized: Void = {
    mongoc_init()
    mongoc_log_set_handler(
        { level, domain, message, _ in
            let text = message.map { String(cString: $0) } ?? ""
            let source = domain.map { String(cString: $0) } ?? "mongoc"
            switch level {
            case MONGOC_LOG_LEVEL_ERROR, MONGOC_LOG_LEVEL_CRITICAL:
                mongocLogger.error("\(text)", metadata: ["domain": "\(source)"])
            case MONGOC_LOG_LEVEL_WARNING:
                mongocLogger.warning("\(text)", metadata: ["domain": "\(source)"])
            case MONGOC_LOG_LEVEL_MESSAGE, MONGOC_LOG_LEVEL_INFO:
                mongocLogger.info("\(text)", metadata: ["domain": "\(source)"])
            default:
                break
            }
        }, nil)
}()

/// libmongoc documents `mongoc_client_pool_t` as thread-safe; clients popped from
/// it are used by one thread at a time and pushed back.
final class ClientPool: @unchecked Sendable {
    let pointer: OpaquePointer

    init(uri: String, maxSize: Int) throws {
        _ = mongocInitialized
        var error = bson_error_t()
        guard let parsed = mongoc_uri_new_with_error(uri, &error) else {
            // libmongoc's message can quote the URI, password included: say only that it is invalid.
            throw MongoError.client(domain: error.domain, code: error.code, message: "the MongoDB URI is invalid")
        }
        defer { mongoc_uri_destroy(parsed) }
        // A missing server should surface as an error in seconds, not after libmongoc's 30 s default.
        if mongoc_uri_get_option_as_int32(parsed, "serverSelectionTimeoutMS", 0) == 0 {
            mongoc_uri_set_option_as_int32(parsed, "serverSelectionTimeoutMS", 5000)
        }
        guard let pool = mongoc_client_pool_new(parsed) else {
            throw MongoError.client(domain: 0, code: 0, message: "could not create a client pool for the URI")
        }
        mongoc_client_pool_set_error_api(pool, 2)
        mongoc_client_pool_max_size(pool, UInt32(maxSize))
        mongoc_client_pool_set_appname(pool, "switchboard")
        pointer = pool
    }

    func pop() -> OpaquePointer { mongoc_client_pool_pop(pointer) }
    func push(_ client: OpaquePointer) { mongoc_client_pool_push(pointer, client) }

    /// Destroying a pool joins libmongoc's server-monitor threads, which can take seconds
    /// (a monitor mid-check against a slow server): never on the releasing thread, which may
    /// be one of Swift's cooperative threads — two on a two-core machine, and with both
    /// blocked here every task in the process stops.
    deinit {
        let pool = PoolToDestroy(pointer: pointer)
        let thread = Thread { pool.destroy() }
        thread.name = "mongoc-pool-destroy"
        thread.start()
    }
}

/// Handed to the thread that destroys it; nothing else holds it any more.
private struct PoolToDestroy: @unchecked Sendable {
    let pointer: OpaquePointer
    func destroy() { mongoc_client_pool_destroy(pointer) }
}

/// A connection pool to one MongoDB deployment. Every libmongoc call runs on the
/// client's own threads, never on the caller's event loop. A `Service`: its threads start
/// with its first call or with `run()`, never in `init`, and stop when the service group
/// shuts down gracefully (or at `close()`).
public final class MongoClient: Service, Sendable {
    let pool: ClientPool
    private let clientThreads: ClientThreads
    /// A session or an open cursor holds a pooled client across awaits; if they held them
    /// all, the threads would block popping one and the holders, waiting for a thread,
    /// could never finish (seen: 50 sockets connecting at once, each reading with cursors,
    /// stopped the chat service). At most three quarters of the pool is held so; the other
    /// holders wait, off any thread.
    let holdPermits: Permits
    public let logger: Logger

    /// - Parameters:
    ///   - uri: a `mongodb://` connection string.
    ///   - threads: how many blocking calls may run at once. The pool holds more
    ///     clients than that, so open cursors and GridFS streams do not starve it.
    public init(uri: String, threads: Int = 8, logger: Logger = Logger(label: "mongo")) throws {
        pool = try ClientPool(uri: uri, maxSize: threads * 4)
        holdPermits = Permits(threads * 3)
        clientThreads = ClientThreads(count: threads)
        self.logger = logger
    }

    /// The client's threads, started by the first call that needs them (none once closed).
    var threads: NIOThreadPool { clientThreads.threads }

    /// Runs until the service group shuts down gracefully, then closes the client: list it
    /// before the services that use it (a group stops its services in reverse order).
    public func run() async throws {
        _ = threads
        try? await gracefulShutdown()
        try await close()
    }

    public func database(_ name: String) -> MongoDatabase { MongoDatabase(client: self, name: name) }

    /// Round trip to the server: what readiness checks call.
    public func ping() async throws {
        _ = try await database("admin").runCommand(["ping": 1])
    }

    /// Stops the threads after the calls under way; the pool itself is freed with the last reference.
    public func close() async throws {
        try await clientThreads.close()
    }

    /// Runs `body` on one of the client's threads with a client from the pool — or, inside a
    /// transaction, the session's client — and the session to append to the call's options.
    func withClient<T: Sendable>(
        session: MongoSession? = nil, _ body: @escaping @Sendable (OpaquePointer, OpaquePointer?) throws -> T
    ) async throws -> T {
        if let session { return try await session.run { client, s in try body(client, s) } }
        let pool = self.pool
        return try await threads.runIfActive {
            let client = pool.pop()
            defer { pool.push(client) }
            return try body(client, nil)
        }
    }

    /// Runs `body` with one collection handle, as `withClient` does.
    func withCollection<T: Sendable>(
        _ database: String, _ collection: String, session: MongoSession? = nil,
        _ body: @escaping @Sendable (OpaquePointer, OpaquePointer?) throws -> T
    ) async throws -> T {
        try await withClient(session: session) { client, s in
            guard let handle = mongoc_client_get_collection(client, database, collection) else {
                throw MongoError.client(domain: 0, code: 0, message: "no collection handle for \(database).\(collection)")
            }
            defer { mongoc_collection_destroy(handle) }
            return try body(handle, s)
        }
    }
}

public struct MongoDatabase: Sendable {
    public let client: MongoClient
    public let name: String

    public func collection<T: Codable & Sendable>(_ name: String, of type: T.Type = T.self) -> MongoCollection<T> {
        MongoCollection(client: client, database: self.name, name: name)
    }

    public func gridFS(bucket: String = "fs") -> GridFSBucket {
        GridFSBucket(client: client, database: name, bucket: bucket)
    }

    /// Runs a database command (a write command, so it goes to the primary) and returns the reply.
    public func runCommand(_ command: BSONDocument, session: MongoSession? = nil) async throws -> BSONDocument {
        let name = self.name
        return try await client.withClient(session: session) { client, s in
            guard let db = mongoc_client_get_database(client, name) else {
                throw MongoError.client(domain: 0, code: 0, message: "no database handle for \(name)")
            }
            defer { mongoc_database_destroy(db) }
            var error = bson_error_t()
            var ok = false
            let reply = try withReply { reply in
                ok = try withBSON(command) { cmd in
                    try withOptions([:], session: s) { mongoc_database_write_command_with_opts(db, cmd, $0, reply, &error) }
                }
            }
            guard ok else { throw makeError(error) }
            return reply
        }
    }

    /// Drops the database and everything in it.
    public func drop() async throws {
        _ = try await runCommand(["dropDatabase": 1])
    }
}
