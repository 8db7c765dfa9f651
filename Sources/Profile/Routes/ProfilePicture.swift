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
            guard value.utf8.count <= Self.maxLink, let url = URL(string: value), let host = url.host, !host.isEmpty,
                  [".jpg", ".jpeg", ".png"].contains(where: { url.path.lowercased().hasSuffix($0) })
            else {
                throw APIError.badRequest("A profilePic link must be an http(s) URL of a .jpg, .jpeg or .png image (at most \(Self.maxLink) characters)",
                                          code: "invalid_picture")
            }
            self = .link(value)
        } else {
            throw Self.invalid
        }
    }

    static let invalid = APIError.badRequest("profilePic must be a data:image/… base64 URL, an http(s) image link, or null", code: "invalid_picture")
}
