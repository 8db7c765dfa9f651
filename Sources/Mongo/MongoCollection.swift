import BSON
import CMongoc

/// A collection of `Document`s, encoded and decoded with `BSONEncoder`/`BSONDecoder`.
public struct MongoCollection<Document: Codable & Sendable>: Sendable {
    public let client: MongoClient
    public let database: String
    public let name: String

    // MARK: insert

    public func insert(_ document: Document, session: MongoSession? = nil) async throws {
        let doc = try encode(document)
        _ = try await write(session) { collection, opts, reply, error in
            try withBSON(doc) { mongoc_collection_insert_one(collection, $0, opts, reply, &error) }
        }
    }

    public func insert(many documents: [Document], session: MongoSession? = nil) async throws {
        guard !documents.isEmpty else { return }
        let docs = try documents.map(encode)
        _ = try await write(session) { collection, opts, reply, error in
            // libmongoc takes an array of `const bson_t *`.
            let owned = try docs.map { doc in
                try doc.bytes().withUnsafeBufferPointer { bson_new_from_data($0.baseAddress, $0.count) }
                    ?? { throw MongoError.invalidDocument("libbson refused the document") }()
            }
            defer { owned.forEach { bson_destroy($0) } }
            var pointers: [OpaquePointer?] = owned
            return pointers.withUnsafeMutableBufferPointer { buffer in
                mongoc_collection_insert_many(collection, buffer.baseAddress, buffer.count, opts, reply, &error)
            }
        }
    }

    // MARK: find

    /// A cursor that streams matching documents in batches of `options.batchSize`.
    public func find(_ filter: Filter = .all, options: FindOptions = FindOptions()) async throws -> MongoCursor<Document> {
        let handle = try await CursorHandle.open(client: client, database: database, collection: name, filter: filter, options: options)
        return MongoCursor(handle: handle, batchSize: options.batchSize)
    }

    /// Every matching document, collected: for result sets known to be small. Read to the
    /// end in one job on one pool thread: no client is held across awaits.
    public func findAll(_ filter: Filter = .all, options: FindOptions = FindOptions()) async throws -> [Document] {
        let filterDoc = filter.document
        let optsDoc = options.document
        let found = try await client.withCollection(database, name) { collection, _ -> [BSONDocument] in
            let cursor = try withOptions(optsDoc, session: nil) { try openCursor(collection, filter: filterDoc, options: $0) }
            defer { mongoc_cursor_destroy(cursor) }
            var all = [BSONDocument]()
            var raw: OpaquePointer?
            while mongoc_cursor_next(cursor, &raw), let raw { all.append(try readBSON(raw)) }
            var error = bson_error_t()
            if mongoc_cursor_error(cursor, &error) { throw makeError(error) }
            return all
        }
        return try found.map(decode)
    }

    /// The first match, in one round trip on one pool thread (no cursor is kept open).
    public func findOne(_ filter: Filter, sort: [(field: String, order: SortOrder)] = [], session: MongoSession? = nil) async throws -> Document? {
        let filterDoc = filter.document
        let optsDoc = FindOptions(sort: sort, limit: 1, batchSize: 1).document
        let found = try await client.withCollection(database, name, session: session) { collection, s -> BSONDocument? in
            let cursor = try withOptions(optsDoc, session: s) { try openCursor(collection, filter: filterDoc, options: $0) }
            defer { mongoc_cursor_destroy(cursor) }
            var raw: OpaquePointer?
            if mongoc_cursor_next(cursor, &raw), let raw { return try readBSON(raw) }
            var error = bson_error_t()
            if mongoc_cursor_error(cursor, &error) { throw makeError(error) }
            return nil
        }
        return try found.map(decode)
    }

    // MARK: update

    public func updateOne(_ filter: Filter, _ update: Update, upsert: Bool = false, session: MongoSession? = nil) async throws -> UpdateResult {
        try await updateCall(filter, update, upsert: upsert, many: false, session: session)
    }

    public func updateMany(_ filter: Filter, _ update: Update, session: MongoSession? = nil) async throws -> UpdateResult {
        try await updateCall(filter, update, upsert: false, many: true, session: session)
    }

    private func updateCall(_ filter: Filter, _ update: Update, upsert: Bool, many: Bool, session: MongoSession?) async throws -> UpdateResult {
        let updateDoc = try update.checked()
        let filterDoc = filter.document
        let reply = try await write(session, options: upsert ? ["upsert": true] : [:]) { collection, opts, reply, error in
            try withBSON(filterDoc) { selector in
                try withBSON(updateDoc) { update in
                    many
                        ? mongoc_collection_update_many(collection, selector, update, opts, reply, &error)
                        : mongoc_collection_update_one(collection, selector, update, opts, reply, &error)
                }
            }
        }
        return UpdateResult(
            matched: Int(reply["matchedCount"]?.integerValue ?? 0),
            modified: Int(reply["modifiedCount"]?.integerValue ?? 0),
            upsertedId: reply["upsertedId"])
    }

    /// Atomically updates the first match and returns it as it is after the update
    /// (or before, with `returnNew: false`); nil when nothing matched and no upsert.
    public func findOneAndUpdate(
        _ filter: Filter, _ update: Update, sort: [(field: String, order: SortOrder)] = [],
        upsert: Bool = false, returnNew: Bool = true, session: MongoSession? = nil
    ) async throws -> Document? {
        var command: BSONDocument = [
            "findAndModify": .string(name), "query": .document(filter.document), "update": .document(try update.checked()),
            "new": .bool(returnNew), "upsert": .bool(upsert),
        ]
        if let sortDoc = FindOptions(sort: sort).sortDocument { command.append("sort", .document(sortDoc)) }
        return try await findAndModify(command, session: session)
    }

    /// Atomically removes the first match and returns it; nil when nothing matched.
    public func findOneAndDelete(_ filter: Filter, session: MongoSession? = nil) async throws -> Document? {
        try await findAndModify(["findAndModify": .string(name), "query": .document(filter.document), "remove": .bool(true)], session: session)
    }

    /// Runs a findAndModify command; the document it matched, or nil.
    private func findAndModify(_ command: BSONDocument, session: MongoSession?) async throws -> Document? {
        let reply = try await MongoDatabase(client: client, name: database).runCommand(command, session: session)
        guard let value = reply["value"], case .document(let doc) = value else { return nil }
        return try decode(doc)
    }

    // MARK: delete, count

    @discardableResult
    public func deleteOne(_ filter: Filter, session: MongoSession? = nil) async throws -> Int {
        try await deleteCall(filter, many: false, session: session)
    }

    @discardableResult
    public func deleteMany(_ filter: Filter, session: MongoSession? = nil) async throws -> Int {
        try await deleteCall(filter, many: true, session: session)
    }

    private func deleteCall(_ filter: Filter, many: Bool, session: MongoSession?) async throws -> Int {
        let filterDoc = filter.document
        let reply = try await write(session) { collection, opts, reply, error in
            try withBSON(filterDoc) { selector in
                many
                    ? mongoc_collection_delete_many(collection, selector, opts, reply, &error)
                    : mongoc_collection_delete_one(collection, selector, opts, reply, &error)
            }
        }
        return Int(reply["deletedCount"]?.integerValue ?? 0)
    }

    public func count(_ filter: Filter = .all, session: MongoSession? = nil) async throws -> Int {
        let filterDoc = filter.document
        return try await client.withCollection(database, name, session: session) { collection, s in
            var error = bson_error_t()
            let n = try withBSON(filterDoc) { f in
                try withOptions([:], session: s) { mongoc_collection_count_documents(collection, f, $0, nil, nil, &error) }
            }
            guard n >= 0 else { throw makeError(error) }
            return Int(n)
        }
    }

    // MARK: indexes

    public func createIndexes(_ indexes: [Index]) async throws {
        guard !indexes.isEmpty else { return }
        _ = try await MongoDatabase(client: client, name: database).runCommand([
            "createIndexes": .string(name), "indexes": .array(indexes.map { .document($0.document) }),
        ])
    }

    /// The collection's indexes as the server describes them (`name`, `key`, `unique`, `expireAfterSeconds`, …).
    public func indexes() async throws -> [BSONDocument] {
        let reply = try await MongoDatabase(client: client, name: database).runCommand(["listIndexes": .string(name)])
        guard case .array(let batch)? = reply["cursor"]?.documentValue?["firstBatch"] else { return [] }
        return batch.compactMap(\.documentValue)
    }

    public func drop() async throws {
        do {
            _ = try await MongoDatabase(client: client, name: database).runCommand(["drop": .string(name)])
        } catch MongoError.server(code: 26, _) {
            // NamespaceNotFound: already gone.
        }
    }

    // MARK: helpers

    /// Runs a libmongoc write call with its options (the session's id appended), which fills
    /// `reply` and `error` and returns success.
    private func write(
        _ session: MongoSession?, options: BSONDocument = [:],
        _ call: @escaping @Sendable (OpaquePointer, OpaquePointer, OpaquePointer, inout bson_error_t) throws -> Bool
    ) async throws -> BSONDocument {
        try await client.withCollection(database, name, session: session) { collection, s in
            var error = bson_error_t()
            var ok = false
            let reply = try withReply { reply in
                ok = try withOptions(options, session: s) { opts in try call(collection, opts, reply, &error) }
            }
            guard ok else { throw makeError(error) }
            return reply
        }
    }

    func encode(_ document: Document) throws -> BSONDocument {
        let doc: BSONDocument
        do { doc = try BSONEncoder().encode(document) } catch { throw MongoError.invalidDocument("\(error)") }
        try FieldName.checkStorable(doc)
        return doc
    }

    func decode(_ document: BSONDocument) throws -> Document {
        do { return try BSONDecoder().decode(Document.self, from: document) } catch {
            throw MongoError.invalidDocument("\(error)")
        }
    }
}
