import BSON
import Foundation

/// A user's profile as stored, keyed by the user's id (from `auth.user.created`).
public struct Profile: Codable, Sendable, Equatable {
    public var _id: String
    public var firstName: String
    public var lastName: String
    public var about: String
    public var age: Int?
    public var gender: String?
    public var picture: Picture?
    /// An image link the user gave instead of a picture (never fetched by the server).
    public var pictureLink: String?
    public var createdAt: Date
    public var updatedAt: Date

    public var userId: String { _id }
}

/// Where a profile's picture is: a GridFS file, its sniffed type and size.
public struct Picture: Codable, Sendable, Equatable {
    public var fileId: ObjectId
    public var contentType: String
    public var size: Int
}

/// A profile as clients see it (DESIGN.md's fields, plus `_id` as the reference system
/// had it): the same shape whether it came from the cache or the database.
public struct ProfileView: Codable, Sendable, Equatable {
    public var _id: String
    public var userId: String
    public var firstName: String
    public var lastName: String
    public var about: String
    /// The picture's URL through the gateway (versioned, so caches see a new one), or null.
    public var profilePic: String?
    public var age: Int?
    public var gender: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(_ profile: Profile) {
        _id = profile._id
        userId = profile._id
        firstName = profile.firstName
        lastName = profile.lastName
        about = profile.about
        profilePic = profile.pictureLink ?? profile.picture.map { "/profile/picture/\(profile._id)?v=\($0.fileId.hex)" }
        age = profile.age
        gender = profile.gender
        createdAt = profile.createdAt
        updatedAt = profile.updatedAt
    }

    /// Absent values are `null`, not missing keys: clients read every field.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(_id, forKey: ._id)
        try c.encode(userId, forKey: .userId)
        try c.encode(firstName, forKey: .firstName)
        try c.encode(lastName, forKey: .lastName)
        try c.encode(about, forKey: .about)
        try c.encode(profilePic, forKey: .profilePic)
        try c.encode(age, forKey: .age)
        try c.encode(gender, forKey: .gender)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}
