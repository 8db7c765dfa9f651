import Foundation
import NIOCore
import NIOHTTP1

/// Responses the gateway writes itself, in DESIGN.md's error body.
enum GatewayResponses {
    static func errorBody(message: String, code: String, requestId: String) -> ByteBuffer {
        struct Body: Encodable {
            struct Detail: Encodable { let code: String; let requestId: String }
            let message: String
            let error: Detail
        }
        let data = (try? JSONEncoder().encode(Body(message: message, error: .init(code: code, requestId: requestId)))) ?? Data()
        return ByteBuffer(bytes: data)
    }

    static func json(_ object: Any) -> ByteBuffer {
        ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }
}

/// Hop-by-hop headers: meaningful for one connection only, never forwarded (RFC 9110 7.6.1).
enum HopByHop {
    static let names: Set<String> = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]

    /// `headers` without hop-by-hop fields and those the Connection header names.
    static func stripped(_ headers: HTTPHeaders, keepUpgrade: Bool = false) -> HTTPHeaders {
        var named = names
        for value in headers[canonicalForm: "connection"] { named.insert(value.lowercased()) }
        if keepUpgrade { named.remove("upgrade"); named.remove("connection") }
        var result = HTTPHeaders()
        for (name, value) in headers where !named.contains(name.lowercased()) { result.add(name: name, value: value) }
        return result
    }
}
