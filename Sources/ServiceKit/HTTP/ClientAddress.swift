import EdgeContract
import HTTPTypes
import Hummingbird
import NIOCore

extension ClientAddress {
    /// The client of a request a service received (its TCP peer is the gateway, or a client).
    public func of(_ request: Request, peer: SocketAddress?) -> String {
        guard let peerIP = peer?.ipAddress else { return "unknown" }
        return resolve(peerIP: peerIP, peerTrusted: isTrusted(peerIP), forwardedFor: request.headers[values: .xForwardedFor])
    }
}
