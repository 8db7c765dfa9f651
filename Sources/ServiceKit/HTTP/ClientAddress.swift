import HTTPTypes
import Hummingbird
import NIOCore

/// The address of the client behind the gateway: the TCP peer, unless the peer is a
/// trusted proxy, in which case the right-most `X-Forwarded-For` entry that is not itself
/// a trusted proxy. Entries a client wrote itself sit further left and are never used.
public struct ClientAddress: Sendable {
    public let trustedProxies: [IPNetwork]

    public init(trustedProxies: [IPNetwork]) { self.trustedProxies = trustedProxies }

    public func of(_ request: Request, peer: SocketAddress?) -> String {
        guard let peerIP = peer?.ipAddress else { return "unknown" }
        guard isTrusted(peerIP) else { return peerIP }
        // Several X-Forwarded-For fields are one comma-separated list, in order.
        let hops = request.headers[values: .xForwardedFor].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() where !isTrusted(hop) {
            return IPNetwork.parseAddress(hop) == nil ? "unknown" : hop
        }
        return hops.first ?? peerIP
    }

    func isTrusted(_ address: String) -> Bool { trustedProxies.contains { $0.contains(address) } }
}
