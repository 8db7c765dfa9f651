import Foundation

/// Email addresses as every service compares them: trimmed, lower-cased, and shaped like
/// an address (one `@`, a dot in the domain, no spaces, at most 254 characters).
public enum EmailAddress {
    /// The normalised address, or 400 naming `field`.
    public static func normalized(_ raw: String, field: String = "emailId") throws -> String {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !email.contains(where: \.isWhitespace)
        else { throw APIError.badRequest("\(field) must be a valid email address", code: "invalid_email") }
        return email
    }
}
