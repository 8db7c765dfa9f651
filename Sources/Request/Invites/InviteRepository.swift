import BSON
import Events
import Foundation
import Mongo

/// Where invites live. Answering one records `request.accepted` or `request.rejected`
/// in the same transaction.
public protocol InviteRepository: Sendable {
    /// Throws `MongoError.duplicateKey` when the pair already has a pending or accepted invite.
    func create(_ invite: Invite) async throws
    func find(id: ObjectId) async throws -> Invite?
    /// The pair's pending or accepted invite.
    func findActive(between a: String, and b: String) async throws -> Invite?
    /// Answers a pending invite addressed to `userId`; nil when there is none (any more).
    func respond(id: ObjectId, by userId: String, with status: InviteStatus, now: Date, correlationId: String) async throws -> Invite?
    /// Withdraws a pending invite sent by `userId`; nil when there is none.
    func cancel(id: ObjectId, by userId: String) async throws -> Invite?
    func sent(by userId: String, limit: Int) async throws -> [Invite]
    func received(by userId: String, limit: Int) async throws -> [Invite]
    /// Removes every invite to or from `userId`; returns them.
    func removeAll(involving userId: String, session: MongoSession?) async throws -> [Invite]
}

public struct MongoInviteRepository: InviteRepository {
    let invites: MongoCollection<Invite>
    let outbox: Outbox
    let client: MongoClient

    public init(database: MongoDatabase, outbox: Outbox) {
        invites = database.collection("invites")
        self.outbox = outbox
        client = database.client
    }

    public func prepare() async throws {
        try await invites.createIndexes([
            Index("activeKey", unique: true),
            Index([("fromUserId", .ascending), ("createdAt", .descending)]),
            Index([("toUserId", .ascending), ("status", .ascending), ("createdAt", .descending)]),
        ])
    }

    public func create(_ invite: Invite) async throws { try await invites.insert(invite) }

    public func find(id: ObjectId) async throws -> Invite? { try await invites.findOne(.eq("_id", id)) }

    public func findActive(between a: String, and b: String) async throws -> Invite? {
        try await invites.findOne(.eq("activeKey", Invite.pairKey(a, b)))
    }

    public func respond(id: ObjectId, by userId: String, with status: InviteStatus, now: Date, correlationId: String) async throws -> Invite? {
        try await client.withTransaction { session in
            // One write decides: of two racing answers only one still finds the invite pending.
            let pending: Filter = .eq("_id", id) && .eq("toUserId", userId) && .eq("status", InviteStatus.pending.rawValue)
            var update = Update.set("status", status.rawValue).set("updatedAt", now)
            if status == .rejected { update = update.set("activeKey", Invite.closedKey(id)) }
            guard let answered = try await invites.findOneAndUpdate(pending, update, session: session) else { return nil }
            if status == .accepted {
                try await outbox.record(
                    RequestAccepted(requestId: id.hex, fromUserId: answered.fromUserId, toUserId: answered.toUserId),
                    correlationId: correlationId, session: session)
            } else {
                try await outbox.record(
                    RequestRejected(requestId: id.hex, fromUserId: answered.fromUserId, toUserId: answered.toUserId),
                    correlationId: correlationId, session: session)
            }
            return answered
        }
    }

    public func cancel(id: ObjectId, by userId: String) async throws -> Invite? {
        // One write: a response that comes first leaves nothing pending to delete.
        try await invites.findOneAndDelete(.eq("_id", id) && .eq("fromUserId", userId) && .eq("status", InviteStatus.pending.rawValue))
    }

    public func sent(by userId: String, limit: Int) async throws -> [Invite] {
        try await invites.findAll(.eq("fromUserId", userId), options: FindOptions(sort: [("createdAt", .descending)], limit: limit))
    }

    public func received(by userId: String, limit: Int) async throws -> [Invite] {
        try await invites.findAll(.eq("toUserId", userId), options: FindOptions(sort: [("createdAt", .descending)], limit: limit))
    }

    public func removeAll(involving userId: String, session: MongoSession?) async throws -> [Invite] {
        let involving: Filter = .eq("fromUserId", userId) || .eq("toUserId", userId)
        let found = try await invites.findAll(involving)
        try await invites.deleteMany(involving, session: session)
        return found
    }
}
