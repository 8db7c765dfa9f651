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

    /// `headers` without hop-by-hop fields and those the Connection header names. Removes in
    /// place from a copy: most messages carry one or none, so nothing else is rebuilt.
    static func stripped(_ headers: HTTPHeaders, keepUpgrade: Bool = false) -> HTTPHeaders {
        var result = headers
        var named: [String] = []
        for (name, _) in headers where lengths.contains(name.utf8.count) {
            let lower = name.lowercased()
            if names.contains(lower) { named.append(lower) }
        }
        for value in headers[canonicalForm: "connection"] where !names.contains(value.lowercased()) {
            named.append(String(value))
        }
        for name in named where !(keepUpgrade && (name == "upgrade" || name == "connection")) {
            result.remove(name: name)
        }
        return result
    }
}
