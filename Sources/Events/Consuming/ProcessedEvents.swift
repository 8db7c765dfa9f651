import Foundation
import Mongo

/// Which events a consuming service has applied, so a redelivered one changes nothing.
/// The marker is written in the same transaction as the handler's writes.
struct ProcessedEvent: Codable, Sendable {
    /// `<queue>:<event id>`
    var _id: String
    var processedAt: Date
}

struct ProcessedEvents: Sendable {
    let markers: MongoCollection<ProcessedEvent>
    /// Long past any redelivery, the markers expire.
    static let keepSeconds = 30 * 24 * 3600

    init(database: MongoDatabase) { markers = database.collection("processed_events") }

    func prepare() async throws {
        try await markers.createIndexes([Index("processedAt", expireAfterSeconds: Self.keepSeconds)])
    }

    /// Claims the event inside `session`; throws `MongoError.duplicateKey` if it was applied before.
    func claim(queue: String, eventId: String, session: MongoSession) async throws {
        try await markers.insert(ProcessedEvent(_id: "\(queue):\(eventId)", processedAt: Date()), session: session)
    }
}
