/// The address of the client behind the gateway: the TCP peer, unless the peer is a
/// trusted proxy, in which case the right-most `X-Forwarded-For` entry that is not itself
/// a trusted proxy. Entries a client wrote itself sit further left and are never used.
public struct ClientAddress: Sendable {
    public let trustedProxies: [IPNetwork]

    public init(trustedProxies: [IPNetwork]) { self.trustedProxies = trustedProxies }

    /// The client of a request from `peerIP` (whose trust the caller may have worked out
    /// once per connection) that carried these `X-Forwarded-For` values.
    public func resolve(peerIP: String, peerTrusted: Bool, forwardedFor values: [String]) -> String {
        guard peerTrusted, !values.isEmpty else { return peerIP }
        let hops = Self.hops(values)
        for hop in hops.reversed() where !isTrusted(hop) {
            return IPNetwork.parseAddress(hop) == nil ? "unknown" : hop
        }
        return hops.first ?? peerIP
    }

    /// Several X-Forwarded-For fields are one comma-separated list, in order.
    public static func hops(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { hop in
            String(hop.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
        }
    }

    public func isTrusted(_ address: String) -> Bool { trustedProxies.contains { $0.contains(address) } }
}
