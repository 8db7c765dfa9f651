import Foundation

/// First and last names as every service stores them: trimmed, 1 to 50 characters.
public enum PersonName {
    public static let maxLength = 50

    public static func normalized(_ raw: String, field: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= maxLength else {
            throw APIError.badRequest("\(field) must be 1 to \(maxLength) characters", code: "invalid_\(field)")
        }
        return name
    }
}
