import Foundation
import Hummingbird
import ServiceKit

/// patchProfile's fields as sent, in JSON or as multipart text fields. A field left out is
/// unchanged; `null` (or an empty multipart field) clears `age`, `gender` or `profilePic`.
/// `age` may come as a number or as digits in a string (what a form sends, and what the
/// reference accepted); `profilePic` as a `data:image/…;base64,` URL or an image's http(s) link.
struct ProfilePatch: Decodable {
    var firstName: String?
    var lastName: String?
    var about: String?
    var age: Int??
    var gender: String??
    var profilePic: String??

    enum CodingKeys: String, CodingKey { case firstName, lastName, about, age, gender, profilePic }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        firstName = try c.decodeIfPresent(String.self, forKey: .firstName)
        lastName = try c.decodeIfPresent(String.self, forKey: .lastName)
        about = try c.decodeIfPresent(String.self, forKey: .about)
        if c.contains(.age) {
            if try c.decodeNil(forKey: .age) {
                age = .some(nil)
            } else if let number = try? c.decode(Int.self, forKey: .age) {
                age = .some(number)
            } else if let text = try? c.decode(String.self, forKey: .age) {
                // In JSON a string must hold a number: null is how JSON clears.
                guard let value = try Self.age(text) else { throw APIError.badRequest("age must be a whole number", code: "invalid_age") }
                age = .some(value)
            } else {
                throw APIError.badRequest("age must be a whole number", code: "invalid_age")
            }
        }
        if c.contains(.gender) { gender = try c.decodeNil(forKey: .gender) ? .some(nil) : .some(try c.decode(String.self, forKey: .gender)) }
        if c.contains(.profilePic) { profilePic = try c.decodeNil(forKey: .profilePic) ? .some(nil) : .some(try c.decode(String.self, forKey: .profilePic)) }
    }

    /// Digits, perhaps with spaces around them (a form field); empty clears.
    static func age(_ text: String) throws -> Int? {
        let trimmed = Self.spacesTrimmed(text)
        if trimmed.isEmpty { return nil }
        guard trimmed.utf8.count <= 3, trimmed.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let value = Int(trimmed) else {
            throw APIError.badRequest("age must be a whole number", code: "invalid_age")
        }
        return value
    }

    /// Without the spaces around it (the schema's ` *`).
    static func spacesTrimmed(_ text: String) -> Substring {
        var slice = text[...]
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return slice
    }

    /// From multipart text parts (a file part is the picture, handled apart).
    init(parts: [MultipartPart]) throws {
        for part in parts where part.filename == nil {
            guard let text = part.text else { throw APIError.badRequest("\(part.name) must be UTF-8 text", code: "invalid_field") }
            switch part.name {
            case "firstName": firstName = text
            case "lastName": lastName = text
            case "about": about = text
            case "age": age = .some(try Self.age(text))
            case "gender": gender = Self.spacesTrimmed(text).isEmpty ? .some(nil) : .some(text)
            case "profilePic" where !text.isEmpty: profilePic = .some(text)  // a link or data URL as text
            default: continue  // unknown fields are ignored, as in JSON
            }
        }
    }

    /// The validated changes.
    func changes() throws -> ProfileChanges {
        var changes = ProfileChanges()
        changes.firstName = try firstName.map { try PersonName.normalized($0, field: "firstName") }
        changes.lastName = try lastName.map { try PersonName.normalized($0, field: "lastName") }
        if let about { changes.about = try TextInput.optional(about, field: "about", maxLength: Self.maxAbout, code: "invalid_about") }
        if let age {
            if let value = age, !Self.ages.contains(value) {
                throw APIError.badRequest("age must be between \(Self.ages.lowerBound) and \(Self.ages.upperBound)", code: "invalid_age")
            }
            changes.age = .some(age)
        }
        if let gender {
            let value = gender.map { Self.spacesTrimmed($0).lowercased() }
            if let value, !Self.genders.contains(value) {
                throw APIError.badRequest("gender must be one of \(Self.genders.joined(separator: ", ")), or null", code: "invalid_gender")
            }
            changes.gender = .some(value)
        }
        return changes
    }

    /// The reference's model allowed 750.
    static let maxAbout = 750
    static let ages = 13...120
    static let genders = ["male", "female", "other"]
}
