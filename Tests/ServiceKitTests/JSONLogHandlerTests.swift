import EdgeContract
import Foundation
import Logging
import ServiceKit
import Synchronization
import Testing

final class Lines: Sendable {
    let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

@Suite struct JSONLogHandlerTests {
    @Test func eachLineIsOneJSONObjectWithTheRequestId() throws {
        let out = Lines()
        var logger = Logger(label: "auth") { JSONLogHandler(label: $0, level: .debug, write: out.append) }
        logger[metadataKey: "requestId"] = "req-1"
        logger.info("user signed up", metadata: ["userId": "u1", "attempt": .stringConvertible(2)])
        logger.trace("not at this level")
        #expect(out.all.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.all[0].utf8)) as? [String: Any])
        #expect(object["message"] as? String == "user signed up")
        #expect(object["level"] as? String == "info" && object["label"] as? String == "auth")
        #expect(object["requestId"] as? String == "req-1" && object["userId"] as? String == "u1" && object["attempt"] as? String == "2")
        #expect((object["time"] as? String)?.contains("T") == true)
    }

    @Test func secretLookingMetadataIsRedacted() throws {
        let out = Lines()
        let logger = Logger(label: "auth") { JSONLogHandler(label: $0, write: out.append) }
        logger.info("login", metadata: [
            "password": "hunter2", "passwordHash": "$argon2id$abc", "refresh_token": "rt", "Cookie": "token=abc",
            "authorization": "Bearer xyz", "nested": ["accessToken": "jwt"], "email": "a@b.c",
        ])
        let line = try #require(out.all.first)
        for secret in ["hunter2", "$argon2id$abc", "\"rt\"", "token=abc", "Bearer xyz", "\"jwt\""] {
            #expect(!line.contains(secret), "\(secret) leaked")
        }
        #expect(line.contains("a@b.c"), "ordinary metadata stays")
        #expect(line.contains("[redacted]"))
    }
}

@Suite struct JSONLogLineTests {
    private func line(_ message: String, metadata: Logger.Metadata = [:]) throws -> (text: String, object: [String: Any]) {
        let out = Lines()
        let logger = Logger(label: "gateway") { JSONLogHandler(label: $0, write: out.append) }
        logger.info("\(message)", metadata: metadata)
        let text = try #require(out.all.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        return (text, object)
    }

    @Test func stringsComeBackExactlyWhateverTheyHold() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t return \r bell \u{07} nul \u{00} del \u{7f} é 😀 /a/b"
        let (text, object) = try line(tricky, metadata: ["path": .string(tricky)])
        #expect(object["message"] as? String == tricky && object["path"] as? String == tricky)
        #expect(!text.contains("\n") && text.contains("/a/b"), "one line, slashes as they are: \(text)")
    }

    @Test func keysAreSortedAndTheFixedFieldsWin() throws {
        let (text, object) = try line("request", metadata: ["status": "200", "level": "forged", "bytes": .stringConvertible(12), "zone": "z"])
        #expect(object["level"] as? String == "info" && object["bytes"] as? String == "12")
        let keys = ["bytes", "label", "level", "message", "status", "time", "zone"]
        let positions = keys.map { text.range(of: "\"\($0)\":")!.lowerBound }
        #expect(positions == positions.sorted(), "\(text)")
    }

    @Test func nestedValuesAreObjectsAndArraysWithSecretsRedacted() throws {
        let (_, object) = try line("nested", metadata: ["upstreams": ["b": "down", "a": .array(["1", .stringConvertible(2)])], "outer": ["refreshToken": "rt"]])
        let upstreams = try #require(object["upstreams"] as? [String: Any])
        #expect(upstreams["b"] as? String == "down" && upstreams["a"] as? [String] == ["1", "2"])
        #expect((object["outer"] as? [String: String]) == ["refreshToken": "[redacted]"])
    }

    @Test func timestampsAreFoundationsISO8601InUTCWithMilliseconds() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        // Leap days, century rules, the epoch, a year's last millisecond, and a spread of instants.
        var instants: [Int64] = [0, 951_782_400, 951_868_799, 4_107_542_399, 4_107_542_400, 1_798_761_599, 68_169_600 - 1]
        var seed: UInt64 = 0x5EED
        for _ in 0..<2000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            instants.append(Int64(seed >> 33) % 7_258_118_400)  // 1970 to 2200
        }
        for seconds in instants {
            let milliseconds = Int(seconds % 1000)
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(seconds) + Double(milliseconds) / 1000 + 0.0001))
            #expect(LogTime.format(seconds: seconds, milliseconds: milliseconds) == expected)
        }
        let now = try #require(formatter.date(from: LogTime.now()))
        #expect(abs(now.timeIntervalSinceNow) < 5)
    }
}
