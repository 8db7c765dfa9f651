import Foundation

/// First and last names as every service stores them: 1 to 50 characters as sent, not
/// only white space, stored trimmed.
public enum PersonName {
    public static let maxLength = 50

    public static func normalized(_ raw: String, field: String) throws -> String {
        try TextInput.required(raw, field: field, length: 1...maxLength)
    }
}
