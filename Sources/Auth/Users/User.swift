import BSON
import Foundation

/// An account as stored. The password hash never leaves the service.
public struct User: Codable, Sendable, Equatable {
    public var _id: ObjectId
    /// Trimmed and lower-cased; unique.
    public var email: String
    public var firstName: String
    public var lastName: String
    public var passwordHash: String
    public var role: String
    public var createdAt: Date
    public var updatedAt: Date
}

/// An account as clients see it: the reference system's field names (`_id`, `emailId`),
/// plus `id` for clients that prefer it.
public struct PublicUser: Codable, Sendable, Equatable {
    public var _id: String
    public var id: String
    public var firstName: String
    public var lastName: String
    public var emailId: String
    public var role: String
    public var createdAt: Date

    public init(_ user: User) {
        _id = user._id.hex
        id = user._id.hex
        firstName = user.firstName
        lastName = user.lastName
        emailId = user.email
        role = user.role
        createdAt = user.createdAt
    }
}
