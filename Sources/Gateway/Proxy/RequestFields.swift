import NIOHTTP1

/// The request fields the gateway acts on, found in one pass over the head (each NIO
/// lookup by name is a scan of its own).
struct RequestFields {
    var requestId: String?
    var forwardedFor: [String] = []
    var origin: String?
    var contentLength: Int?
    var chunked = false
    var upgradeToWebSocket = false
    /// The `Cookie` fields, for browser sessions (`session_refresh`).
    var cookies: [String] = []
    /// The fields' size as sent: names, values and separators.
    var bytes = 0

    init(_ headers: HTTPHeaders) {
        for (name, value) in headers {
            let length = name.utf8.count
            bytes += length + value.utf8.count + 4
            switch length {
            case 6 where Self.named(name, "origin"):
                if origin == nil { origin = value }
            case 6 where Self.named(name, "cookie"):
                cookies.append(value)
            case 7 where Self.named(name, "upgrade"):
                if value.split(separator: ",").contains(where: { $0.trimmingSpaces.lowercased() == "websocket" }) { upgradeToWebSocket = true }
            case 12 where Self.named(name, "x-request-id"):
                if requestId == nil { requestId = value }
            case 14 where Self.named(name, "content-length"):
                contentLength = Int(value)
            case 15 where Self.named(name, "x-forwarded-for"):
                forwardedFor.append(value)
            case 17 where Self.named(name, "transfer-encoding"):
                chunked = true
            default:
                break
            }
        }
    }

    private static func named(_ name: String, _ lowercase: String) -> Bool {
        ResponseFraming.equalsLowercased(name.utf8, lowercase)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var slice = self
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
