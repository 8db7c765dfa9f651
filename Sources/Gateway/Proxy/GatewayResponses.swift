import Foundation
import NIOCore
import NIOHTTP1
import ServiceKit

/// Responses the gateway writes itself, in DESIGN.md's error body.
enum GatewayResponses {
    static func errorBody(message: String, code: String, requestId: String) -> ByteBuffer {
        ByteBuffer(bytes: ServiceKit.errorBody(message: message, code: code, requestId: requestId))
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

    /// `headers` without hop-by-hop fields and those the Connection header names.
    static func stripped(_ headers: HTTPHeaders, keepUpgrade: Bool = false) -> HTTPHeaders {
        var named = names
        var lengths = Self.lengths
        for value in headers[canonicalForm: "connection"] {
            let token = value.lowercased()
            if !names.contains(token) {
                named.insert(token)
                lengths.insert(token.utf8.count)
            }
        }
        if keepUpgrade {
            named.remove("upgrade")
            named.remove("connection")
        }
        var result = HTTPHeaders()
        for (name, value) in headers where !(lengths.contains(name.utf8.count) && named.contains(name.lowercased())) {
            result.add(name: name, value: value)
        }
        return result
    }
}
