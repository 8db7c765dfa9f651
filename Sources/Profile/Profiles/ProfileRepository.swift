import BSON
import Foundation
import Mongo

/// Where profiles live.
public protocol ProfileRepository: Sendable {
    /// Creates the profile unless one exists for that user (events may come twice).
    func createIfAbsent(_ profile: Profile, session: MongoSession?) async throws
    func find(userId: String) async throws -> Profile?
    /// Applies `changes` atomically; returns the profile before and after, nil if there is none.
    func update(userId: String, _ changes: ProfileChanges, now: Date) async throws -> (before: Profile, after: Profile)?
    /// Removes the profile; returns what it was.
    func delete(userId: String, session: MongoSession?) async throws -> Profile?
    /// A page of profiles whose first or last name starts with `search`, by name.
    func list(search: String?, excluding: String?, skip: Int, limit: Int) async throws -> (profiles: [Profile], total: Int)
}

public struct MongoProfileRepository: ProfileRepository {
    let profiles: MongoCollection<Profile>

    public init(database: MongoDatabase) { profiles = database.collection("profiles") }

    public func prepare() async throws {
        try await profiles.createIndexes([Index([("firstName", .ascending), ("lastName", .ascending)]), Index("lastName")])
    }

    public func createIfAbsent(_ profile: Profile, session: MongoSession?) async throws {
        var fields = try BSONEncoder().encode(profile)
        fields["_id"] = nil
        _ = try await profiles.updateOne(.eq("_id", profile._id), Update().setOnInsert(fields), upsert: true, session: session)
    }

    public func find(userId: String) async throws -> Profile? { try await profiles.findOne(.eq("_id", userId)) }

    public func update(userId: String, _ changes: ProfileChanges, now: Date) async throws -> (before: Profile, after: Profile)? {
        guard let before = try await profiles.findOneAndUpdate(.eq("_id", userId), changes.update(now: now), returnNew: false) else {
            return nil
        }
        return (before, changes.applied(to: before, now: now))
    }

    public func delete(userId: String, session: MongoSession?) async throws -> Profile? {
        try await profiles.findOneAndDelete(.eq("_id", userId), session: session)
    }

    public func list(search: String?, excluding: String?, skip: Int, limit: Int) async throws -> (profiles: [Profile], total: Int) {
        var filters: [Filter] = []
        if let search, !search.isEmpty { filters.append(.hasPrefix("firstName", search) || .hasPrefix("lastName", search)) }
        if let excluding { filters.append(.ne("_id", excluding)) }
        let filter: Filter = filters.isEmpty ? .all : .and(filters)
        let options = FindOptions(sort: [("firstName", .ascending), ("lastName", .ascending), ("_id", .ascending)], limit: limit, skip: skip)
        async let page = profiles.findAll(filter, options: options)
        async let total = profiles.count(filter)
        return try await (page, total)
    }
}
