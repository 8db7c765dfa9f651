import BSON
import Events
import Foundation
import Mongo

/// Where accounts live. Creating or deleting one records `auth.user.created` or
/// `auth.user.deleted` in the same transaction.
public protocol UserRepository: Sendable {
    /// Throws `MongoError.duplicateKey` when the email is taken.
    func create(_ user: User, correlationId: String) async throws
    func find(email: String) async throws -> User?
    func find(id: ObjectId) async throws -> User?
    /// False when the user no longer exists.
    func updatePasswordHash(id: ObjectId, to hash: String, now: Date) async throws -> Bool
    /// False when the user did not exist (then no event is recorded).
    func delete(id: ObjectId, correlationId: String) async throws -> Bool
}

public struct MongoUserRepository: UserRepository {
    let users: MongoCollection<User>
    let outbox: Outbox
    let client: MongoClient

    public init(database: MongoDatabase, outbox: Outbox) {
        users = database.collection("users")
        self.outbox = outbox
        client = database.client
    }

    public func prepare() async throws {
        try await users.createIndexes([Index("email", unique: true)])
    }

    public func create(_ user: User, correlationId: String) async throws {
        try await client.withTransaction { session in
            try await users.insert(user, session: session)
            try await outbox.record(
                UserCreated(userId: user._id.hex, email: user.email, firstName: user.firstName, lastName: user.lastName),
                correlationId: correlationId, session: session)
        }
    }

    public func updatePasswordHash(id: ObjectId, to hash: String, now: Date) async throws -> Bool {
        try await users.updateOne(.eq("_id", id), .set("passwordHash", hash).set("updatedAt", now)).matched == 1
    }

    public func delete(id: ObjectId, correlationId: String) async throws -> Bool {
        try await client.withTransaction { session in
            guard try await users.deleteOne(.eq("_id", id), session: session) == 1 else { return false }
            try await outbox.record(UserDeleted(userId: id.hex), correlationId: correlationId, session: session)
            return true
        }
    }

    public func find(email: String) async throws -> User? { try await users.findOne(.eq("email", email)) }
    public func find(id: ObjectId) async throws -> User? { try await users.findOne(.eq("_id", id)) }
}
