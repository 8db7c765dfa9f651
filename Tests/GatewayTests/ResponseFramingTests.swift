@testable import Gateway
import NIOCore
import Testing

/// Where an upstream response ends, read from raw bytes however they are split (pure logic).
@Suite struct ResponseFramingTests {
    /// What the framing made of `response` fed in pieces of `step` bytes: the heads' status
    /// codes, the body bytes passed on, and whether the end was seen (and where).
    struct Outcome: Equatable {
        var statuses: [Int] = []
        var body: [UInt8] = []
        var ended = false
        var left = 0
    }

    static func feed(_ response: String, step: Int, head: Bool = false) throws(ResponseFraming.Failure) -> Outcome {
        var framing = ResponseFraming(requestWasHead: head)
        var outcome = Outcome()
        let bytes = Array(response.utf8)
        var offset = 0
        while offset < bytes.count, !outcome.ended {
            var buffer = ByteBuffer(bytes: bytes[offset..<min(bytes.count, offset + step)])
            offset += buffer.readableBytes
            reading: while true {
                switch try framing.next(&buffer) {
                case .needMore: break reading
                case .head(let head): outcome.statuses.append(head.status)
                case .body(let slice, let ends):
                    outcome.body += slice.readableBytesView
                    if ends {
                        outcome.ended = true
                        outcome.left = buffer.readableBytes + bytes.count - offset
                        break reading
                    }
                    if buffer.readableBytes == 0 { break reading }
                }
            }
        }
        return outcome
    }

    static let steps = [1, 2, 3, 7, 64, 10_000]

    @Test func aFixedLengthBodyEndsAfterItsLengthHoweverTheBytesArrive() throws {
        let response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"
        for step in Self.steps {
            let outcome = try Self.feed(response + "EXTRA", step: step)
            #expect(outcome == Outcome(statuses: [200], body: Array("hello world".utf8), ended: true, left: 5), "step \(step)")
        }
    }

    @Test func aChunkedBodyPassesWithItsFramingAndEndsAfterTheTrailers() throws {
        let body = "5;ext=1\r\nhello\r\n6\r\n world\r\nA \r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n"
        let response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body
        for step in Self.steps {
            let outcome = try Self.feed(response + "NEXT", step: step)
            #expect(outcome == Outcome(statuses: [200], body: Array(body.utf8), ended: true, left: 4), "step \(step)")
        }
        let bare = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        #expect(try Self.feed(bare, step: 1).ended)
    }

    @Test func responsesWithoutABodyEndWithTheirHead() throws {
        #expect(try Self.feed("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", step: 5, head: true).ended, "a response to HEAD")
        #expect(try Self.feed("HTTP/1.1 204 No Content\r\n\r\n", step: 5).ended)
        #expect(try Self.feed("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", step: 5).ended)
        let continued = try Self.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", step: 3)
        #expect(continued == Outcome(statuses: [100, 201], body: Array("ok".utf8), ended: true, left: 0))
    }

    @Test func aBodyWithoutLengthRunsUntilTheConnectionCloses() throws {
        var framing = ResponseFraming(requestWasHead: false)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\nsome bytes")
        guard case .head = try framing.next(&buffer), case .body(let slice, let ends) = try framing.next(&buffer) else {
            Issue.record("expected a head, then body bytes")
            return
        }
        #expect(String(buffer: slice) == "some bytes" && !ends && framing.endsAtClose)
    }

    @Test func keepAliveFollowsTheVersionAndTheConnectionHeader() throws {
        func keepAlive(_ head: String) throws -> Bool {
            try ResponseFraming.parseHead(ByteBuffer(string: head + "\r\n")).keepAlive
        }
        #expect(try keepAlive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"))
        #expect(try !keepAlive("HTTP/1.1 200 OK\r\nConnection: Close\r\n"))
        #expect(try !keepAlive("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n"))
        #expect(try keepAlive("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"))
        let parsed = try ResponseFraming.parseHead(ByteBuffer(string: "HTTP/1.1 404 Not Found\r\nA: 1\r\nB:two  \r\n\r\n"))
        #expect(parsed.status == 404 && parsed.fields.count == 2)
        #expect(String(decoding: parsed.value(of: parsed.fields[1]), as: UTF8.self) == "two", "the value is trimmed")
    }

    @Test func malformedResponsesAreRefused() {
        let bad = [
            "HTTP/2 200 OK\r\n\r\n",
            "HTTP/1.1 2x0 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
            "HTTP/1.1 200 OK\r\n folded: value\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
        ]
        for response in bad {
            #expect(throws: ResponseFraming.Failure.self, "\(response.debugDescription)") { _ = try Self.feed(response, step: 1000) }
        }
        var framing = ResponseFraming(requestWasHead: false, maxHeadBytes: 100)
        var huge = ByteBuffer(string: "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 200))
        #expect(throws: ResponseFraming.Failure.self) { _ = try framing.next(&huge) }
    }
}
