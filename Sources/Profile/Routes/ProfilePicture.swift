import Foundation
import ServiceKit

/// `profilePic` in a JSON patch, as the reference's clients send it: a `data:image/jpeg`,
/// `image/jpg` or `image/png` base64 URL (stored in GridFS like an uploaded picture), an
/// http(s) link to a .jpg/.jpeg/.png image (kept as the picture's link — never fetched by
/// the server), or null (no picture). Anything else is refused, never dropped.
enum ProfilePicture: Equatable {
    case upload([UInt8])
    case link(String)

    static let maxLink = 2048

    init?(_ value: String?) throws {
        guard let value else { return nil }
        let lower = value.prefix(40).lowercased()
        if lower.hasPrefix("data:") {
            guard let comma = value.utf8.firstIndex(of: UInt8(ascii: ",")) else { throw Self.invalid }
            let header = value[..<comma].lowercased()
            guard ["data:image/jpeg;base64", "data:image/jpg;base64", "data:image/png;base64"].contains(header) else {
                throw APIError.unsupportedMediaType("A data URL picture must be image/jpeg or image/png, base64-encoded")
            }
            guard let bytes = Data(base64Encoded: String(value[value.index(after: comma)...])) else {
                throw APIError.badRequest("profilePic is not valid base64", code: "invalid_picture")
            }
            self = .upload(Array(bytes))
        } else if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard Self.isImageLink(value) else {
                throw APIError.badRequest("A profilePic link must be an http(s) URL of a .jpg, .jpeg or .png image (at most \(Self.maxLink) characters)",
                                          code: "invalid_picture")
            }
            self = .link(value)
        } else {
            throw Self.invalid
        }
    }

    /// The link the schema describes, checked in one pass: `http(s)://`, a host without
    /// `/?#`, a path ending in .jpg/.jpeg/.png (any case), then perhaps `?…` or `#…`; no
    /// white space or control characters anywhere; at most `maxLink` characters.
    static func isImageLink(_ value: String) -> Bool {
        let scalars = Array(value.unicodeScalars)
        guard scalars.count <= maxLink, !scalars.contains(where: isForbidden) else { return false }
        let lower = String(String.UnicodeScalarView(scalars.prefix(8))).lowercased()
        var index = lower.hasPrefix("https://") ? 8 : lower.hasPrefix("http://") ? 7 : -1
        guard index > 0 else { return false }
        let hostStart = index
        while index < scalars.count, !"/?#".unicodeScalars.contains(scalars[index]) { index += 1 }
        guard index > hostStart, index < scalars.count, scalars[index] == "/" else { return false }
        let pathStart = index
        while index < scalars.count, scalars[index] != "?", scalars[index] != "#" { index += 1 }
        let path = String(String.UnicodeScalarView(scalars[pathStart..<index])).lowercased()
        return [".jpg", ".jpeg", ".png"].contains(where: { path.hasSuffix($0) })
    }

    /// What the schema's link pattern leaves out: controls, white space as `TextInput` trims it, U+FEFF.
    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFEFF || TextInput.isSpace(scalar)
    }

    static let invalid = APIError.badRequest("profilePic must be a data:image/… base64 URL, an http(s) image link, or null", code: "invalid_picture")
}
