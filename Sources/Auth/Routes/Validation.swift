import Foundation
import ServiceKit

/// The rules for what clients send, each failing with a message a person can act on.
enum Validation {
    static let minPasswordLength = 8
    static let maxPasswordLength = 128

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
