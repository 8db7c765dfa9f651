import BSON
import Foundation
import Mongo

/// What a patchProfile changes, already validated. `.some(nil)` clears a field.
public struct ProfileChanges: Sendable, Equatable {
    public var firstName: String?
    public var lastName: String?
    public var about: String?
    public var age: Int??
    public var gender: String??
    /// A stored picture (the link goes).
    public var picture: Picture?
    /// A link instead of a picture (`.some(nil)`: neither).
    public var pictureLink: String??

    public init() {}

    public var isEmpty: Bool { self == ProfileChanges() }

    /// The one `$set`/`$unset` that applies these changes.
    func update(now: Date) -> Update {
        var update = Update.set("updatedAt", now)
        if let firstName { update = update.set("firstName", firstName) }
        if let lastName { update = update.set("lastName", lastName) }
        if let about { update = update.set("about", about) }
        if let age { update = age.map { update.set("age", $0) } ?? update.unset("age") }
        if let gender { update = gender.map { update.set("gender", $0) } ?? update.unset("gender") }
        if let picture {
            let stored: BSONDocument = [
                "fileId": .objectId(picture.fileId), "contentType": .string(picture.contentType), "size": .int64(Int64(picture.size)),
            ]
            update = update.set("picture", stored).unset("pictureLink")
        } else if let pictureLink {
            update = (pictureLink.map { update.set("pictureLink", $0) } ?? update.unset("pictureLink")).unset("picture")
        }
        return update
    }

    /// `profile` as it is after `update(now:)`.
    func applied(to profile: Profile, now: Date) -> Profile {
        var p = profile
        p.updatedAt = now
        if let firstName { p.firstName = firstName }
        if let lastName { p.lastName = lastName }
        if let about { p.about = about }
        if let age { p.age = age }
        if let gender { p.gender = gender }
        if let picture {
            p.picture = picture
            p.pictureLink = nil
        } else if let pictureLink {
            p.pictureLink = pictureLink
            p.picture = nil
        }
        return p
    }
}
