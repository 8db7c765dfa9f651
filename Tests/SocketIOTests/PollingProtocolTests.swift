import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SocketIO
import Testing
import TestSupport

/// The conformance server over real sockets, spoken to packet by packet over HTTP
/// long-polling (the official suites cover the same ground; these run in CI).
@Suite struct PollingProtocolTests {
    /// Heartbeats roomy enough for a machine busy with other tests.
    static let roomy = EngineConfiguration(pingInterval: .seconds(2), pingTimeout: .seconds(10), maxPayload: 1_000_000)

    static func withServer(
        engine: EngineConfiguration = roomy, connectTimeout: Duration = .seconds(20), _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await Conformance.application(port: 0, engine: engine, connectTimeout: connectTimeout, logger: Logger(label: "socketio-test")).test(.live, body)
    }

    static func open(_ client: any TestClientProtocol) async throws -> String {
        let response = try await client.execute(uri: "/socket.io/?EIO=4&transport=polling", method: .get)
        let body = String(buffer: response.body)
        guard response.status == .ok, body.hasPrefix("0"), let sid = try JSONValue.parse(String(body.dropFirst()))["sid"]?.stringValue else {
            throw PollingFailure("handshake answered \(response.status): \(body)")
        }
        return sid
    }

    static func post(_ client: any TestClientProtocol, _ sid: String, _ payload: String) async throws -> Int {
        let response = try await client.execute(uri: "/socket.io/?EIO=4&transport=polling&sid=\(sid)", method: .post, body: ByteBuffer(string: payload))
        return Int(response.status.code)
    }

    /// Polls until `count` packets other than pings arrived (answering pings), or a poll fails.
    static func packets(_ client: any TestClientProtocol, _ sid: String, count: Int) async throws -> [String] {
        var packets: [String] = []
        while packets.count < count {
            let response = try await client.execute(uri: "/socket.io/?EIO=4&transport=polling&sid=\(sid)", method: .get)
            guard response.status == .ok else { throw PollingFailure("poll answered \(response.status) after \(packets)") }
            for packet in String(buffer: response.body).split(separator: "\u{1e}").map(String.init) {
                if packet == "2" { _ = try await post(client, sid, "3") } else { packets.append(packet) }
            }
        }
        return packets
    }

    /// Two GETs on connections of their own, the second 50 ms after the first (each blocks
    /// a thread of its own, not the cooperative pool).
    static func twoGetsAtOnce(port: Int, _ first: String, _ second: String) async throws -> (RawHTTPResponse, RawHTTPResponse) {
        async let earlier = rawHTTPGet(port: port, path: first)
        try await Task.sleep(for: .milliseconds(50))
        async let later = rawHTTPGet(port: port, path: second)
        return (try await earlier, try await later)
    }

    @Test func handshakeSaysTheConfiguredHeartbeat() async throws {
        try await Self.withServer { client in
            let response = try await client.execute(uri: "/socket.io/?EIO=4&transport=polling", method: .get)
            let open = try JSONValue.parse(String(String(buffer: response.body).dropFirst()))
            #expect(open["upgrades"] == ["websocket"] && open["pingInterval"] == 2000 && open["pingTimeout"] == 10000 && open["maxPayload"] == 1_000_000)
            for uri in ["/socket.io/?transport=polling", "/socket.io/?EIO=3&transport=polling", "/socket.io/?EIO=4", "/socket.io/?EIO=4&transport=carrier-pigeon",
                        "/socket.io/?EIO=4&transport=polling&sid=nope"] {
                #expect(try await client.execute(uri: uri, method: .get).status == .badRequest, "\(uri)")
            }
            #expect(try await client.execute(uri: "/socket.io/?EIO=4&transport=polling", method: .post).status == .badRequest, "POST without a session")
        }
    }

    @Test func connectsEchoesAndAcknowledges() async throws {
        try await Self.withServer { client in
            let sid = try await Self.open(client)
            #expect(try await Self.post(client, sid, #"40{"token":"t"}"#) == 200)
            let connected = try await Self.packets(client, sid, count: 2)
            #expect(connected[0].hasPrefix(#"40{"sid":""#) && connected[1] == #"42["auth",{"token":"t"}]"#)
            #expect(try await Self.post(client, sid, "42[\"message\",1,\"2\",{\"3\":[true]}]\u{1e}4217[\"message-with-ack\",\"a\"]") == 200)
            #expect(try await Self.packets(client, sid, count: 2) == [#"42["message-back",1,"2",{"3":[true]}]"#, #"4317["a"]"#])
            // Binary attachments over polling travel base64-encoded.
            #expect(try await Self.post(client, sid, "451-[\"message\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQID") == 200)
            #expect(try await Self.packets(client, sid, count: 2) == [#"451-["message-back",{"_placeholder":true,"num":0}]"#, "bAQID"])
            #expect(try await Self.post(client, sid, "40/random,") == 200)
            #expect(try await Self.packets(client, sid, count: 1) == [#"44/random,{"message":"Invalid namespace"}"#])
        }
    }

    @Test func aMalformedPacketEndsTheSession() async throws {
        try await Self.withServer { client in
            for bad in ["4abc", "42{}", #"42abc["message"]"#, "x"] {
                let sid = try await Self.open(client)
                _ = try await Self.post(client, sid, "40")
                _ = try await Self.packets(client, sid, count: 2)
                _ = try await Self.post(client, sid, bad)
                let poll = try await client.execute(uri: "/socket.io/?EIO=4&transport=polling&sid=\(sid)", method: .get)
                #expect(poll.status == .badRequest, "\(bad) closes the session")
            }
        }
    }

    @Test func twoLongPollsAtOnceBreakTheSession() async throws {
        try await Self.withServer { client in
            // Two long-polls at once break the protocol: the first gets a close packet, the second a 400.
            // (On connections of their own: the test client sends one request at a time.)
            // They overlap only if the second reaches the server while the first waits (up to the
            // 2 s ping interval). On a loaded machine it was seen to come later: then the first is
            // just answered with its ping ("2"), which proves nothing, and a fresh session tries again.
            var answers: [String] = []
            for _ in 0..<3 {
                let sid = try await Self.open(client)
                let (first, second) = try await Self.twoGetsAtOnce(port: client.port!, "/socket.io/?EIO=4&transport=polling&sid=\(sid)",
                                                                   "/socket.io/?EIO=4&transport=polling&sid=\(sid)&t=2")
                answers = [first, second].map { "\($0.status) \($0.body)" }.sorted()
                if !answers.contains("200 2") { break }
            }
            // Whichever arrived second (usually the second) is refused; the waiting one learns the session is closed.
            #expect(answers.first == "200 1" && answers.last?.hasPrefix("400 ") == true, "\(answers)")
        }
    }

    /// Under the suites' short timings. Liveness, not speed: each check waits up to 10 s.
    @Test func silentAndDoublePollingClientsAreDropped() async throws {
        try await Self.withServer(engine: Conformance.engineConfiguration, connectTimeout: Conformance.connectTimeout) { client in
            // A client that takes pings and never answers them is dropped.
            let quiet = try await Self.open(client)
            let deadline = ContinuousClock.now + .seconds(10)
            var quietStatus = HTTPResponse.Status.ok
            while quietStatus == .ok, ContinuousClock.now < deadline {
                quietStatus = try await client.execute(uri: "/socket.io/?EIO=4&transport=polling&sid=\(quiet)", method: .get).status
            }
            #expect(quietStatus == .badRequest)
            // A client that never joins a namespace is dropped after the connect timeout.
            let idle = try await Self.open(client)
            let idleDeadline = ContinuousClock.now + .seconds(10)
            var status = HTTPResponse.Status.ok
            while status == .ok, ContinuousClock.now < idleDeadline {
                status = try await client.execute(uri: "/socket.io/?EIO=4&transport=polling&sid=\(idle)", method: .get).status
                if status == .ok { _ = try await Self.post(client, idle, "3") }
            }
            #expect(status == .badRequest)
        }
    }
}

struct PollingFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
