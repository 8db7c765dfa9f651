import Foundation
import ServiceKit

/// The rules for what clients send, each failing with a message a person can act on.
enum Validation {
    static let minPasswordLength = 8
    static let maxPasswordLength = 128

    /// 8 to 128 characters with a letter and a digit: long beats clever, but not "password".
    static func password(_ password: String, field: String = "password") throws {
        // As openapi.json states it: code points, an ASCII letter and an ASCII digit (the
        // reference's rule asked for more of the same classes, so its users' passwords pass).
        let scalars = password.unicodeScalars
        guard (minPasswordLength...maxPasswordLength).contains(scalars.count),
              scalars.contains(where: { ("a"..."z").contains($0) || ("A"..."Z").contains($0) }), scalars.contains(where: { ("0"..."9").contains($0) })
        else {
            throw APIError.badRequest(
                "\(field) must be \(minPasswordLength) to \(maxPasswordLength) characters and contain a letter and a digit",
                code: "weak_password")
        }
    }
}
