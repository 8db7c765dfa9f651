import Foundation
import Mongo

/// What the request service knows of a user, kept from auth's events so that an invite
/// by email never calls auth.
public struct DirectoryEntry: Codable, Sendable, Equatable {
    /// The user id.
    public var _id: String
    public var email: String
    public var firstName: String
    public var lastName: String
}

/// The local user directory.
public protocol Directory: Sendable {
    func upsert(_ entry: DirectoryEntry, session: MongoSession?) async throws
    func remove(userId: String, session: MongoSession?) async throws
    func find(email: String) async throws -> DirectoryEntry?
    func find(userIds: [String]) async throws -> [String: DirectoryEntry]
}

public struct MongoDirectory: Directory {
    let entries: MongoCollection<DirectoryEntry>

    public init(database: MongoDatabase) { entries = database.collection("directory") }

    public func prepare() async throws { try await entries.createIndexes([Index("email", unique: true)]) }

    public func upsert(_ entry: DirectoryEntry, session: MongoSession?) async throws {
        // Auth keeps emails unique, so another id under this email is an account deleted
        // since: its auth.user.deleted may simply arrive after this event (another queue).
        try await entries.deleteMany(.eq("email", entry.email) && .ne("_id", entry._id), session: session)
        let update = Update.set("email", entry.email).set("firstName", entry.firstName).set("lastName", entry.lastName)
        _ = try await entries.updateOne(.eq("_id", entry._id), update, upsert: true, session: session)
    }

    public func remove(userId: String, session: MongoSession?) async throws {
        try await entries.deleteOne(.eq("_id", userId), session: session)
    }

    public func find(email: String) async throws -> DirectoryEntry? { try await entries.findOne(.eq("email", email)) }

    public func find(userIds: [String]) async throws -> [String: DirectoryEntry] {
        guard !userIds.isEmpty else { return [:] }
        let found = try await entries.findAll(.in("_id", Array(Set(userIds))))
        return Dictionary(found.map { ($0._id, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
