import BSON
import CMongoc
import NIOPosix
import Synchronization

/// The libmongoc objects behind one open cursor: a client taken from the pool for
/// the cursor's life, its collection handle and the cursor. Only touched under the lock.
struct CursorState {
    var client: OpaquePointer
    var collection: OpaquePointer
    var cursor: OpaquePointer

    func destroy(into pool: ClientPool) {
        mongoc_cursor_destroy(cursor)
        mongoc_collection_destroy(collection)
        pool.push(client)
    }
}

/// mongoc_collection_find_with_opts; errors of the query itself surface at the first `mongoc_cursor_next`.
func openCursor(_ collection: OpaquePointer, filter: BSONDocument, options: OpaquePointer) throws -> OpaquePointer {
    let cursor = try withBSON(filter) { mongoc_collection_find_with_opts(collection, $0, options, nil) }
    guard let cursor else { throw MongoError.client(domain: 0, code: 0, message: "find was refused") }
    return cursor
}

/// Hands `CursorState` to a pool thread when a cursor is dropped half-read.
private struct AbandonedCursor: @unchecked Sendable {
    let state: CursorState
}

final class CursorHandle: Sendable {
    private let state: Mutex<CursorState?>
    private let pool: ClientPool
    private let threads: NIOThreadPool
    /// The client's `holdPermits`: one is held while the cursor is open.
    private let permits: Permits

    private init(state: sending CursorState, pool: ClientPool, threads: NIOThreadPool, permits: Permits) {
        self.state = Mutex(state)
        self.pool = pool
        self.threads = threads
        self.permits = permits
    }

    static func open(
        client: MongoClient, database: String, collection: String, filter: Filter, options: FindOptions
    ) async throws -> CursorHandle {
        let pool = client.pool
        let filterDoc = filter.document
        let optsDoc = options.document
        let threads = client.threads
        let permits = client.holdPermits
        await permits.acquire()
        do {
            return try await open(pool: pool, threads: threads, permits: permits, database: database, collection: collection, filter: filterDoc, options: optsDoc)
        } catch {
            permits.release()
            throw error
        }
    }

    private static func open(
        pool: ClientPool, threads: NIOThreadPool, permits: Permits, database: String, collection: String, filter filterDoc: BSONDocument,
        options optsDoc: BSONDocument
    ) async throws -> CursorHandle {
        try await threads.runIfActive {
            let c = pool.pop()
            guard let coll = mongoc_client_get_collection(c, database, collection) else {
                pool.push(c)
                throw MongoError.client(domain: 0, code: 0, message: "no collection handle for \(database).\(collection)")
            }
            let cursor: OpaquePointer
            do { cursor = try withOptions(optsDoc, session: nil) { try openCursor(coll, filter: filterDoc, options: $0) } } catch {
                mongoc_collection_destroy(coll)
                pool.push(c)
                throw error
            }
            return CursorHandle(state: CursorState(client: c, collection: coll, cursor: cursor), pool: pool, threads: threads, permits: permits)
        }
    }

    /// Up to `max` more documents; an empty array once the cursor is exhausted.
    func nextBatch(max: Int) async throws -> [BSONDocument] {
        try await threads.runIfActive { [self] in
            try state.withLock { state -> [BSONDocument] in
                guard let current = state else { return [] }
                var batch = [BSONDocument]()
                var doc: OpaquePointer?
                while batch.count < max, mongoc_cursor_next(current.cursor, &doc), let doc {
                    batch.append(try readBSON(doc))
                }
                if batch.count < max {
                    var error = bson_error_t()
                    let failed = mongoc_cursor_error(current.cursor, &error)
                    current.destroy(into: pool)
                    state = nil
                    permits.release()
                    if failed { throw makeError(error) }
                }
                return batch
            }
        }
    }

    deinit {
        // A cursor dropped before its end may still need a killCursors round trip: not on this thread.
        guard let abandoned = state.withLock({ $0.take().map(AbandonedCursor.init) }) else { return }
        let (pool, permits) = (self.pool, self.permits)
        threads.submit { _ in
            abandoned.state.destroy(into: pool)
            permits.release()
        }
    }
}

/// Matching documents, fetched from the server a batch at a time as they are iterated.
public struct MongoCursor<Document: Decodable & Sendable>: AsyncSequence, Sendable {
    let handle: CursorHandle
    let batchSize: Int

    public struct AsyncIterator: AsyncIteratorProtocol {
        let handle: CursorHandle
        let batchSize: Int
        var buffer: [BSONDocument] = []
        var index = 0
        var finished = false

        public mutating func next() async throws -> Document? {
            if index == buffer.count {
                guard !finished else { return nil }
                buffer = try await handle.nextBatch(max: batchSize)
                index = 0
                if buffer.count < batchSize { finished = true }
                if buffer.isEmpty { return nil }
            }
            defer { index += 1 }
            do { return try BSONDecoder().decode(Document.self, from: buffer[index]) } catch {
                throw MongoError.invalidDocument("\(error)")
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: handle, batchSize: Swift.max(1, batchSize)) }
}
