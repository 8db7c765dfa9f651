import BSON
import Foundation
import Mongo

/// One event waiting to be published (or published, until its TTL removes it).
struct OutboxEntry: Codable, Sendable {
    /// The event's id.
    var _id: String
    var type: String
    /// The envelope as JSON, exactly as it will be published.
    var body: String
    var correlationId: String
    var createdAt: Date
    var publishedAt: Date?
}

/// Events recorded in the producer's own database, in the same transaction as the
/// state change that caused them, so a change never commits without its event nor
/// an event without its change. `OutboxRelay` publishes them.
public struct Outbox: Sendable {
    let entries: MongoCollection<OutboxEntry>

    /// How long a published entry is kept (for inspection) before MongoDB removes it.
    public static let keepPublishedSeconds = 7 * 24 * 3600

    public init(database: MongoDatabase, collection: String = "outbox") {
        entries = database.collection(collection)
    }

    /// Creates the indexes the relay and the clean-up rely on (idempotent: call at start).
    public func prepare() async throws {
        try await entries.createIndexes([
            Index([("publishedAt", .ascending), ("createdAt", .ascending)]),
            Index([("publishedAt", .ascending)], name: "published_ttl", expireAfterSeconds: Self.keepPublishedSeconds),
        ])
    }

    /// Records `payload` as a new event inside `session`'s transaction and returns its envelope.
    @discardableResult
    public func record<P: EventPayload>(_ payload: P, correlationId: String, session: MongoSession) async throws -> EventEnvelope<P> {
        let envelope = EventEnvelope(payload, correlationId: correlationId)
        let body = String(decoding: try EventCoding.encoder.encode(envelope), as: UTF8.self)
        try await entries.insert(
            OutboxEntry(_id: envelope.id, type: P.type, body: body, correlationId: correlationId, createdAt: envelope.occurredAt),
            session: session)
        return envelope
    }

    /// Entries not yet published, oldest first.
    func pending(limit: Int) async throws -> [OutboxEntry] {
        try await entries.findAll(.eq("publishedAt", BSONValue.null), options: FindOptions(sort: [("createdAt", .ascending)], limit: limit))
    }

    func markPublished(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        _ = try await entries.updateMany(.in("_id", ids), .set("publishedAt", Date()))
    }

    /// How many entries wait to be published (for metrics and tests).
    public func pendingCount() async throws -> Int {
        try await entries.count(.eq("publishedAt", BSONValue.null))
    }
}
