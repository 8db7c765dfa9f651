import BSON
import Foundation
import Mongo

/// Where profiles live.
public protocol ProfileRepository: Sendable {
    /// Creates the profile from an account's event unless one exists (events may come
    /// twice, and a user may have saved theirs first: then only names left empty are filled).
    func createFromAccount(userId: String, firstName: String, lastName: String, at time: Date, session: MongoSession?) async throws
    func find(userId: String) async throws -> Profile?
    /// Applies `changes` atomically, making the profile if there is none yet; returns it
    /// before (nil when it was made now) and after.
    func upsert(userId: String, _ changes: ProfileChanges, now: Date) async throws -> (before: Profile?, after: Profile)
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

    public func createFromAccount(userId: String, firstName: String, lastName: String, at time: Date, session: MongoSession?) async throws {
        let profile = Profile(_id: userId, firstName: firstName, lastName: lastName, about: "", age: nil, gender: nil, picture: nil,
                              pictureLink: nil, createdAt: time, updatedAt: time)
        var fields = try BSONEncoder().encode(profile)
        fields["_id"] = nil
        let result = try await profiles.updateOne(.eq("_id", profile._id), Update().setOnInsert(fields), upsert: true, session: session)
        guard result.upsertedId == nil else { return }
        // Saved by the user before the event: what they wrote stays, empty names are filled.
        for (field, value) in [("firstName", profile.firstName), ("lastName", profile.lastName)] {
            _ = try await profiles.updateOne(.and([.eq("_id", profile._id), .eq(field, "")]), .set(field, value), session: session)
        }
    }

    public func find(userId: String) async throws -> Profile? { try await profiles.findOne(.eq("_id", userId)) }

    public func upsert(userId: String, _ changes: ProfileChanges, now: Date) async throws -> (before: Profile?, after: Profile) {
        var update = changes.update(now: now).setOnInsert("createdAt", now)
        // A profile made now starts empty where this patch says nothing.
        if changes.firstName == nil { update = update.setOnInsert("firstName", "") }
        if changes.lastName == nil { update = update.setOnInsert("lastName", "") }
        if changes.about == nil { update = update.setOnInsert("about", "") }
        let before = try await profiles.findOneAndUpdate(.eq("_id", userId), update, upsert: true, returnNew: false)
        let blank = Profile(_id: userId, firstName: "", lastName: "", about: "", age: nil, gender: nil, picture: nil, pictureLink: nil,
                            createdAt: now, updatedAt: now)
        return (before, changes.applied(to: before ?? blank, now: now))
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
