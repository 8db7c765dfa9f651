import EdgeContract
import Foundation
import NIOCore
import NIOHTTP1

/// Responses the gateway writes itself, in DESIGN.md's error body.
enum GatewayResponses {
    static func errorBody(message: String, code: String, requestId: String) -> ByteBuffer {
        ByteBuffer(bytes: EdgeContract.errorBody(message: message, code: code, requestId: requestId))
    }

    static func json(_ object: Any) -> ByteBuffer {
        ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }
}

/// Hop-by-hop headers: meaningful for one connection only, never forwarded (RFC 9110 7.6.1).
enum HopByHop {
    static let names: Set<String> = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]
    /// The lengths of those names: most headers are ruled out without lower-casing them.
    static let lengths: Set<Int> = Set(names.map(\.utf8.count))
    static let lowercasedBytes: [[UInt8]] = names.map { Array($0.utf8) }
    static let upgrade = Array("upgrade".utf8)

    /// The names a Connection header lists: dropped with it.
    static func connectionTokens(_ headers: HTTPHeaders) -> [String] {
        var named: [String] = []
        for value in headers[canonicalForm: "connection"] {
            let lower = value.lowercased()
            if !names.contains(lower), lower != "close" { named.append(lower) }
        }
        return named
    }

    /// Whether a request field stays with the gateway: hop-by-hop (but Upgrade and
    /// Connection on an upgrade), named by Connection, or one the gateway sets itself.
    static func isDropped(_ name: String, keepUpgrade: Bool, alsoDropping named: [String], gatewaySets: [String]) -> Bool {
        let count = name.utf8.count
        if lengths.contains(count) {
            let lower = name.lowercased()
            if names.contains(lower) { return !(keepUpgrade && (lower == "upgrade" || lower == "connection")) }
        }
        for other in gatewaySets where other.utf8.count == count && ResponseFraming.equalsLowercased(name.utf8, other) { return true }
        for other in named where other.utf8.count == count && ResponseFraming.equalsLowercased(name.utf8, other) { return true }
        return false
    }
}
