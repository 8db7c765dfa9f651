import Foundation
import ServiceKit

/// The rules for what clients send, each failing with a message a person can act on.
enum Validation {
    static let maxNameLength = 50
    static let minPasswordLength = 8
    static let maxPasswordLength = 128

    /// Trimmed, lower-cased, and shaped like an address (one `@`, a dot in the domain, no spaces).
    static func email(_ raw: String) throws -> String {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !email.contains(where: \.isWhitespace)
        else { throw APIError.badRequest("emailId must be a valid email address", code: "invalid_email") }
        return email
    }

    static func name(_ raw: String, field: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= maxNameLength else {
            throw APIError.badRequest("\(field) must be 1 to \(maxNameLength) characters", code: "invalid_\(field)")
        }
        return name
    }

    /// 8 to 128 characters with a letter and a digit: long beats clever, but not "password".
    static func password(_ password: String, field: String = "password") throws {
        guard password.count >= minPasswordLength, password.count <= maxPasswordLength,
              password.contains(where: \.isLetter), password.contains(where: \.isNumber)
        else {
            throw APIError.badRequest(
                "\(field) must be \(minPasswordLength) to \(maxPasswordLength) characters and contain a letter and a digit",
                code: "weak_password")
        }
    }
}
