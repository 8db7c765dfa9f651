import BSON
import Foundation
import Mongo
import ServiceKit

/// What a presented refresh token turned out to be.
public enum Rotation: Sendable, Equatable {
    /// Valid (or rotated moments ago, within the grace window): the session goes on.
    case rotated(family: ObjectId, userId: ObjectId)
    /// Rotated earlier and presented again: a copy is in someone else's hands.
    case reused(family: ObjectId, userId: ObjectId)
    /// Unknown, expired or revoked.
    case invalid
}

/// An access token to deny when its session ends.
public struct LiveAccessToken: Sendable, Equatable {
    public let jti: String
    public let expiresAt: Date
}

/// The refresh-token families (sessions) of every user.
public protocol SessionStore: Sendable {
    /// Records `token`, issued with the access token `access`, in session `family`.
    func add(token: String, family: ObjectId, userId: ObjectId, access: AccessClaims, now: Date) async throws
    /// Retires `token` if it is the session's current one (atomically: of two racing
    /// calls one rotates, the other sees a just-rotated token).
    func rotate(token: String, now: Date) async throws -> Rotation
    /// The session `token` belongs to, whatever its state.
    func family(of token: String) async throws -> ObjectId?
    /// Ends a session; returns its access tokens that have not expired yet.
    func revoke(family: ObjectId, now: Date) async throws -> [LiveAccessToken]
    /// Ends every session of `userId` but `except`.
    func revokeAll(userId: ObjectId, except: ObjectId?, now: Date) async throws -> [LiveAccessToken]
}

public struct MongoSessionStore: SessionStore {
    let tokens: MongoCollection<RefreshTokenRecord>
    let lifetime: TimeInterval
    let grace: TimeInterval

    public init(database: MongoDatabase, lifetimeDays: Int, graceSeconds: Int) {
        tokens = database.collection("refresh_tokens")
        lifetime = TimeInterval(lifetimeDays) * 86_400
        grace = TimeInterval(graceSeconds)
    }

    public func prepare() async throws {
        try await tokens.createIndexes([
            Index("family"), Index("userId"),
            // Records go once they could no longer be presented, rotated ones included.
            Index("expiresAt", expireAfterSeconds: 0),
        ])
    }

    public func add(token: String, family: ObjectId, userId: ObjectId, access: AccessClaims, now: Date) async throws {
        try await tokens.insert(RefreshTokenRecord(
            _id: RefreshToken.hash(token), family: family, userId: userId, state: .active, issuedAt: now, rotatedAt: nil,
            expiresAt: now.addingTimeInterval(lifetime), accessJti: access.jti.value, accessExpiresAt: access.exp.value))
    }

    public func rotate(token: String, now: Date) async throws -> Rotation {
        let hash = RefreshToken.hash(token)
        let current: Filter = .eq("_id", hash) && .eq("state", RefreshTokenRecord.State.active.rawValue) && .gt("expiresAt", now)
        let retire = Update.set("state", RefreshTokenRecord.State.rotated.rawValue).set("rotatedAt", now)
        if let record = try await tokens.findOneAndUpdate(current, retire) {
            return .rotated(family: record.family, userId: record.userId)
        }
        guard let record = try await tokens.findOne(.eq("_id", hash)), record.expiresAt > now, record.state == .rotated,
              let rotatedAt = record.rotatedAt
        else { return .invalid }
        if now.timeIntervalSince(rotatedAt) <= grace { return .rotated(family: record.family, userId: record.userId) }
        return .reused(family: record.family, userId: record.userId)
    }

    public func family(of token: String) async throws -> ObjectId? {
        try await tokens.findOne(.eq("_id", RefreshToken.hash(token)))?.family
    }

    public func revoke(family: ObjectId, now: Date) async throws -> [LiveAccessToken] {
        try await revoke(.eq("family", family), now: now)
    }

    public func revokeAll(userId: ObjectId, except: ObjectId?, now: Date) async throws -> [LiveAccessToken] {
        try await revoke(except.map { .eq("userId", userId) && .ne("family", $0) } ?? .eq("userId", userId), now: now)
    }

    private func revoke(_ filter: Filter, now: Date) async throws -> [LiveAccessToken] {
        let live = try await tokens.findAll(filter && .gt("accessExpiresAt", now))
        _ = try await tokens.updateMany(filter && .ne("state", RefreshTokenRecord.State.revoked.rawValue),
                                    .set("state", RefreshTokenRecord.State.revoked.rawValue))
        return live.map { LiveAccessToken(jti: $0.accessJti, expiresAt: $0.accessExpiresAt) }
    }
}
