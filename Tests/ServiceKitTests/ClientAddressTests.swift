import EdgeContract
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceKit
import Testing

@Suite struct ClientAddressTests {
    @Test func networksMatchByPrefix() throws {
        let lan = try #require(IPNetwork("10.1.0.0/16"))
        #expect(lan.contains("10.1.200.3") && !lan.contains("10.2.0.1") && !lan.contains("::1"))
        #expect(try #require(IPNetwork("::1")).contains("::1"))
        #expect(try #require(IPNetwork("127.0.0.1")).contains("::ffff:127.0.0.1"), "IPv4-mapped IPv6 is the IPv4 address")
        #expect(try #require(IPNetwork("fd00::/8")).contains("fd12:3456::1"))
        for bad in ["", "10.0.0.0/33", "300.1.1.1", "10.0.0.0/x", "example.com"] { #expect(IPNetwork(bad) == nil, "\(bad)") }
    }

    @Test func forwardedForIsBelievedOnlyFromTrustedProxies() throws {
        let resolver = ClientAddress(trustedProxies: [IPNetwork("127.0.0.1")!, IPNetwork("10.0.0.0/8")!])
        func client(_ peer: String?, _ forwardedFor: [String]) throws -> String {
            var headers = HTTPFields()
            for value in forwardedFor { headers.append(HTTPField(name: .xForwardedFor, value: value)) }
            let request = Request(head: HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/", headerFields: headers), body: .init(buffer: ByteBuffer()))
            return resolver.of(request, peer: try peer.map { try SocketAddress(ipAddress: $0, port: 1234) })
        }
        #expect(try client("203.0.113.9", ["1.2.3.4"]) == "203.0.113.9", "an untrusted peer's header is ignored")
        #expect(try client("127.0.0.1", ["198.51.100.7"]) == "198.51.100.7")
        #expect(try client("127.0.0.1", ["6.6.6.6, 198.51.100.7"]) == "198.51.100.7", "the client's own entries sit to the left")
        #expect(try client("127.0.0.1", ["198.51.100.7, 10.0.0.5"]) == "198.51.100.7", "trusted hops are skipped")
        #expect(try client("127.0.0.1", ["6.6.6.6", "198.51.100.7"]) == "198.51.100.7", "several fields are one list")
        #expect(try client("127.0.0.1", []) == "127.0.0.1")
        #expect(try client("127.0.0.1", ["not-an-ip"]) == "unknown")
        #expect(try client(nil, ["1.2.3.4"]) == "unknown")
    }
}
