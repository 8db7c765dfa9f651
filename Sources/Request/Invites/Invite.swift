import BSON
import Foundation

public enum InviteStatus: String, Codable, Sendable, CaseIterable {
    case pending, accepted, rejected
}

/// An invite (a "request" in the reference system) from one user to another.
public struct Invite: Codable, Sendable, Equatable {
    public var _id: ObjectId
    public var fromUserId: String
    public var toUserId: String
    public var status: InviteStatus
    public var message: String
    public var createdAt: Date
    public var updatedAt: Date
    /// The pair's key while the invite is pending or accepted, `closed:<id>` once rejected.
    /// One unique index on it refuses, in the same write, a second pending invite in
    /// either direction and any invite between users who are already connected.
    public var activeKey: String

    public static func pairKey(_ a: String, _ b: String) -> String { a < b ? "\(a):\(b)" : "\(b):\(a)" }
    public static func closedKey(_ id: ObjectId) -> String { "closed:\(id.hex)" }
}

/// A user as an invite shows them.
public struct UserSummary: Codable, Sendable, Equatable {
    public var id: String
    public var firstName: String
    public var lastName: String
    public var emailId: String

    init(_ entry: DirectoryEntry) {
        id = entry._id
        firstName = entry.firstName
        lastName = entry.lastName
        emailId = entry.email
    }
}

/// An invite as clients see it: DESIGN.md's fields, `_id` as the reference system had it,
/// and who the two users are (null once an account is gone).
public struct InviteView: Codable, Sendable, Equatable {
    public var _id: String
    public var id: String
    public var fromUserId: String
    public var toUserId: String
    public var status: InviteStatus
    public var message: String
    public var createdAt: Date
    public var updatedAt: Date
    public var fromUser: UserSummary?
    public var toUser: UserSummary?

    init(_ invite: Invite, users: [String: DirectoryEntry]) {
        _id = invite._id.hex
        id = invite._id.hex
        fromUserId = invite.fromUserId
        toUserId = invite.toUserId
        status = invite.status
        message = invite.message
        createdAt = invite.createdAt
        updatedAt = invite.updatedAt
        fromUser = users[invite.fromUserId].map(UserSummary.init)
        toUser = users[invite.toUserId].map(UserSummary.init)
    }
}
