import ServiceKit

/// The image formats a profile picture may have, recognised by their first bytes.
public enum ImageType: String, Sendable, CaseIterable {
    case jpeg = "image/jpeg"
    case png = "image/png"
    case webp = "image/webp"

    public init?(sniffing bytes: [UInt8]) {
        guard let sniffed = SniffedType(sniffing: bytes), let image = ImageType(rawValue: sniffed.rawValue) else { return nil }
        self = image
    }

    public var contentType: String { rawValue }

    var name: String {
        switch self {
        case .jpeg: "JPEG"
        case .png: "PNG"
        case .webp: "WebP"
        }
    }
}
