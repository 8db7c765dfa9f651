import Foundation
import Logging
import NIOCore
import Synchronization
import Testing
@testable import Gateway
@testable import ServiceKit

/// The access log's own encoder against the JSON log handler it stands in for.
@Suite struct AccessLogTests {
    static let time = "2026-12-07T06:00:00.123Z"

    static func handlerLine(_ entry: AccessLogEntry) -> [UInt8] {
        JSONLogLine.encode(time: time, level: "info", label: "gateway", message: "request", metadata: entry.metadata)
    }

    @Test func aLineIsTheBytesTheJSONLogHandlerWritesForTheSameFields() {
        let odd = ["", "plain", "quote \" backslash \\", "newline \n tab \t nul \u{00} del \u{7f}", "é 😀 /a/b", "[2001:db8::1]:443"]
        var random = SplitMix(seed: 0xACCE55)
        for round in 0..<2000 {
            func pick() -> String { odd[Int(random.next() % UInt64(odd.count))] }
            let latencies = [0, 0.000004, 0.000005, 0.0001, 0.00035, 0.012, 1.5, 12.3456, 3600.019, Double(random.next() % 10_000_000) / 1e6]
            let entry = AccessLogEntry(
                route: "/api/" + pick(), method: ["GET", "POST", "M\"X"][round % 3], uri: "/items/" + pick() + (round % 2 == 0 ? "?q=" + pick() : ""),
                status: [200, 101, 0, 404, 599][round % 5], seconds: latencies[round % latencies.count], bytes: Int(random.next() % 5_000_000),
                upstream: round % 4 == 0 ? "-" : "127.0.0.1:\(round)", requestId: pick(), client: pick())
            let line = entry.jsonLine(label: "gateway") { $0.append(contentsOf: Self.time.utf8) }
            let expected = Self.handlerLine(entry)
            #expect(line == expected, "\(String(decoding: line, as: UTF8.self)) vs \(String(decoding: expected, as: UTF8.self))")
            if line != expected { return }
        }
    }

    @Test func theQueryIsNotLoggedAndTheLineParsesAsJSON() throws {
        let entry = AccessLogEntry(route: "/api/", method: "GET", uri: "/api/items?token=secret&x=1", status: 200, seconds: 0.0123,
                                   bytes: 29, upstream: "127.0.0.1:3910", requestId: "abc", client: "192.0.2.7")
        let line = entry.jsonLine(label: "gateway")
        #expect(line.last == UInt8(ascii: "\n") && !String(decoding: line, as: UTF8.self).contains("secret"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: String])
        #expect(object["path"] == "/api/items" && object["latencyMs"] == "12.3" && object["status"] == "200" && object["message"] == "request")
        #expect(try #require(ISO8601DateFormatter.withMilliseconds.date(from: object["time"] ?? "")).timeIntervalSinceNow.magnitude < 60)
    }

    @Test func aProxiedRequestWritesOneLineWithNoHeaderValue() throws {
        let lines = Mutex<[String]>([])
        let connection = try ClientHandlerTests.Connection(accessLog: .jsonLines { encode in
            var line: [UInt8] = []
            encode(&line)
            lines.withLock { $0.append(String(decoding: line, as: UTF8.self)) }
        })
        try connection.send("GET /svc/a?session=s3cr3t HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k3n\r\nCookie: token=c00k1e\r\nX-Request-Id: req-1\r\n\r\n")
        try connection.upstreams.channels[0].writeInbound(ClientHandlerTests.ok("done"))
        #expect(try connection.answers().hasSuffix("done"))
        let written = lines.withLock { $0 }
        try #require(written.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: String])
        #expect(object["path"] == "/svc/a" && object["route"] == "/svc/" && object["requestId"] == "req-1" && object["status"] == "200")
        #expect(object["bytes"] != nil && object["client"] == "192.0.2.7" && object["upstream"] == "127.0.0.1:9001" && object["method"] == "GET", "\(written[0])")
        #expect(object["bytes"] == "4", "\(written[0])")
        for secret in ["s3cr3t", "t0k3n", "c00k1e"] { #expect(!written[0].contains(secret)) }
    }
}

extension ISO8601DateFormatter {
    static var withMilliseconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
