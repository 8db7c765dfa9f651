import BSON
import CMongoc
import Foundation
import NIOPosix
import Synchronization

/// A stored GridFS file's description, from the bucket's `files` collection.
public struct GridFSFile: Codable, Sendable, Equatable {
    public var id: ObjectId
    public var length: Int64
    public var chunkSize: Int32
    public var uploadDate: Date
    public var filename: String
    public var metadata: BSONDocument?

    enum CodingKeys: String, CodingKey {
        case id = "_id", length, chunkSize, uploadDate, filename, metadata
    }
}

/// A GridFS bucket. Uploads and downloads stream in chunks; no file is held whole in memory.
public struct GridFSBucket: Sendable {
    public let client: MongoClient
    public let database: String
    public let bucket: String

    /// Bytes per GridFS chunk document (the MongoDB default).
    public static let chunkSize = 255 * 1024

    /// Stores the byte chunks of `content` as one file. If the sequence throws or
    /// the upload fails, the chunks written so far are removed.
    @discardableResult
    public func upload<S: AsyncSequence & Sendable>(
        _ content: S, filename: String, metadata: BSONDocument? = nil, id: ObjectId = ObjectId()
    ) async throws -> ObjectId where S.Element: Collection<UInt8> & Sendable {
        let stream = try await GridFSStream.openUpload(bucket: self, filename: filename, metadata: metadata, id: id)
        do {
            for try await chunk in content where !chunk.isEmpty {
                try await stream.write(Array(chunk))
            }
            try await stream.finish()
        } catch {
            await stream.abort()
            throw error
        }
        return id
    }

    /// Stores `bytes` as one file.
    @discardableResult
    public func upload(bytes: [UInt8], filename: String, metadata: BSONDocument? = nil, id: ObjectId = ObjectId()) async throws -> ObjectId {
        try await upload(ChunkedBytes(bytes: bytes), filename: filename, metadata: metadata, id: id)
    }

    /// The file's content as a sequence of chunks; throws `MongoError.fileNotFound` for an unknown id.
    public func download(_ id: ObjectId) async throws -> GridFSDownload {
        GridFSDownload(stream: try await GridFSStream.openDownload(bucket: self, id: id))
    }

    /// The whole file in memory: for small files.
    public func downloadAll(_ id: ObjectId) async throws -> [UInt8] {
        var bytes = [UInt8]()
        for try await chunk in try await download(id) { bytes += chunk }
        return bytes
    }

    public func file(_ id: ObjectId) async throws -> GridFSFile? {
        try await MongoDatabase(client: client, name: database)
            .collection("\(bucket).files", of: GridFSFile.self).findOne(.eq("_id", id))
    }

    /// Removes the file and its chunks; throws `MongoError.fileNotFound` for an unknown id.
    public func delete(_ id: ObjectId) async throws {
        try await client.withClient { [database, bucket] client, _ in
            try withBucket(client, database: database, bucket: bucket) { b in
                var error = bson_error_t()
                let ok = withObjectIdValue(id) { mongoc_gridfs_bucket_delete_by_id(b, $0, &error) }
                if !ok { throw makeError(error) }
            }
        }
    }
}

/// The database handle and bucket for `bucket` on `client`; the caller destroys both.
private func openBucket(_ client: OpaquePointer, database: String, bucket: String) throws -> (database: OpaquePointer, bucket: OpaquePointer) {
    guard let db = mongoc_client_get_database(client, database) else {
        throw MongoError.client(domain: 0, code: 0, message: "no database handle for \(database)")
    }
    var error = bson_error_t()
    let handle = try? withBSON(["bucketName": .string(bucket)]) { mongoc_gridfs_bucket_new(db, $0, nil, &error) }
    guard let handle = handle ?? nil else {
        mongoc_database_destroy(db)
        throw makeError(error)
    }
    return (db, handle)
}

/// Opens the bucket on `client` for the duration of `body`.
private func withBucket<R>(_ client: OpaquePointer, database: String, bucket: String, _ body: (OpaquePointer) throws -> R) throws -> R {
    let opened = try openBucket(client, database: database, bucket: bucket)
    defer {
        mongoc_gridfs_bucket_destroy(opened.bucket)
        mongoc_database_destroy(opened.database)
    }
    return try body(opened.bucket)
}

public struct GridFSDownload: AsyncSequence, Sendable {
    let stream: GridFSStream

    public struct AsyncIterator: AsyncIteratorProtocol {
        let stream: GridFSStream
        public mutating func next() async throws -> [UInt8]? { try await stream.read() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: stream) }
}

/// Splits a byte array into GridFS-sized chunks.
struct ChunkedBytes: AsyncSequence, Sendable {
    let bytes: [UInt8]

    struct AsyncIterator: AsyncIteratorProtocol {
        let bytes: [UInt8]
        var offset = 0
        mutating func next() async -> ArraySlice<UInt8>? {
            guard offset < bytes.count else { return nil }
            let end = Swift.min(offset + GridFSBucket.chunkSize, bytes.count)
            defer { offset = end }
            return bytes[offset..<end]
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(bytes: bytes) }
}

/// The libmongoc objects behind one open GridFS stream, held under a lock.
struct GridFSStreamState {
    var client: OpaquePointer
    var database: OpaquePointer
    var bucket: OpaquePointer
    var stream: UnsafeMutablePointer<mongoc_stream_t>

    /// Closes and frees everything; returns libmongoc's error if the stream had one.
    func close(into pool: ClientPool, abort: Bool = false) -> MongoError? {
        var failure: MongoError?
        if abort {
            _ = mongoc_gridfs_bucket_abort_upload(stream)
        } else {
            let closed = mongoc_stream_close(stream) == 0
            var error = bson_error_t()
            if mongoc_gridfs_bucket_stream_error(stream, &error) {
                failure = makeError(error)
            } else if !closed {
                failure = .client(domain: 0, code: 0, message: "GridFS stream did not close")
            }
        }
        mongoc_stream_destroy(stream)
        mongoc_gridfs_bucket_destroy(bucket)
        mongoc_database_destroy(database)
        pool.push(client)
        return failure
    }
}

private struct AbandonedStream: @unchecked Sendable {
    let state: GridFSStreamState
}

final class GridFSStream: Sendable {
    private let state: Mutex<GridFSStreamState?>
    private let pool: ClientPool
    private let threads: NIOThreadPool
    private let isUpload: Bool

    private init(state: sending GridFSStreamState, pool: ClientPool, threads: NIOThreadPool, isUpload: Bool) {
        self.state = Mutex(state)
        self.pool = pool
        self.threads = threads
        self.isUpload = isUpload
    }

    private static func open(
        bucket: GridFSBucket, isUpload: Bool,
        _ openStream: @escaping @Sendable (OpaquePointer, inout bson_error_t) throws -> UnsafeMutablePointer<mongoc_stream_t>?
    ) async throws -> GridFSStream {
        let pool = bucket.client.pool
        let threads = bucket.client.threads
        let (database, name) = (bucket.database, bucket.bucket)
        return try await threads.runIfActive {
            let client = pool.pop()
            var opened: (database: OpaquePointer, bucket: OpaquePointer)?
            do {
                let bucket = try openBucket(client, database: database, bucket: name)
                opened = bucket
                var error = bson_error_t()
                guard let stream = try openStream(bucket.bucket, &error) else { throw makeError(error) }
                let state = GridFSStreamState(client: client, database: bucket.database, bucket: bucket.bucket, stream: stream)
                return GridFSStream(state: state, pool: pool, threads: threads, isUpload: isUpload)
            } catch {
                // Nothing opened so far outlives a failure to open the stream.
                if let opened {
                    mongoc_gridfs_bucket_destroy(opened.bucket)
                    mongoc_database_destroy(opened.database)
                }
                pool.push(client)
                throw error
            }
        }
    }

    static func openUpload(bucket: GridFSBucket, filename: String, metadata: BSONDocument?, id: ObjectId) async throws -> GridFSStream {
        var opts = BSONDocument()
        if let metadata { opts.append("metadata", .document(metadata)) }
        let optsDoc = opts
        return try await open(bucket: bucket, isUpload: true) { b, error in
            try withBSON(optsDoc) { o in
                withObjectIdValue(id) { mongoc_gridfs_bucket_open_upload_stream_with_id(b, $0, filename, o, &error) }
            }
        }
    }

    static func openDownload(bucket: GridFSBucket, id: ObjectId) async throws -> GridFSStream {
        try await open(bucket: bucket, isUpload: false) { b, error in
            withObjectIdValue(id) { mongoc_gridfs_bucket_open_download_stream(b, $0, &error) }
        }
    }

    func write(_ bytes: [UInt8]) async throws {
        try await threads.runIfActive { [self] in
            try state.withLock { state in
                guard let current = state else { throw MongoError.client(domain: 0, code: 0, message: "GridFS stream closed") }
                var copy = bytes
                let written = copy.withUnsafeMutableBytes { mongoc_stream_write(current.stream, $0.baseAddress, $0.count, 0) }
                if written != bytes.count {
                    var error = bson_error_t()
                    let failure = mongoc_gridfs_bucket_stream_error(current.stream, &error)
                        ? makeError(error) : MongoError.client(domain: 0, code: 0, message: "GridFS write was short")
                    _ = current.close(into: pool, abort: true)
                    state = nil
                    throw failure
                }
            }
        }
    }

    /// Writes the files document: the upload becomes visible.
    func finish() async throws {
        try await threads.runIfActive { [self] in
            try state.withLock { state in
                guard let current = state.take() else { return }
                if let failure = current.close(into: pool) { throw failure }
            }
        }
    }

    func abort() async {
        _ = try? await threads.runIfActive { [self] in
            state.withLock { state in _ = state.take()?.close(into: pool, abort: true) }
        }
    }

    /// The next chunk of a download; nil at the end.
    func read() async throws -> [UInt8]? {
        try await threads.runIfActive { [self] in
            try state.withLock { state -> [UInt8]? in
                guard let current = state else { return nil }
                var buffer = [UInt8](repeating: 0, count: GridFSBucket.chunkSize)
                let n = buffer.withUnsafeMutableBytes { mongoc_stream_read(current.stream, $0.baseAddress, $0.count, $0.count, 0) }
                if n > 0 {
                    buffer.removeLast(buffer.count - n)
                    return buffer
                }
                var error = bson_error_t()
                let failure = n < 0 && mongoc_gridfs_bucket_stream_error(current.stream, &error) ? makeError(error) : nil
                _ = current.close(into: pool)
                state = nil
                if let failure { throw failure }
                return nil
            }
        }
    }

    deinit {
        guard let abandoned = state.withLock({ $0.take().map(AbandonedStream.init) }) else { return }
        // An upload never finished is removed; a download dropped early just closes.
        let (pool, isUpload) = (self.pool, self.isUpload)
        threads.submit { _ in _ = abandoned.state.close(into: pool, abort: isUpload) }
    }
}
