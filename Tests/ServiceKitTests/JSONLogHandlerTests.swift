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
