import NIOCore
@testable import Redis
import Testing

/// The protocol alone, without a server: what goes out, and replies however they arrive.
@Suite struct RESPTests {
    @Test func commandsGoOutAsArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESP.write([Array("SET".utf8), Array("k".utf8), [0, 13, 10]], into: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\0\r\n\r\n")
    }

    static let stream = "+OK\r\n-ERR no\r\n:-42\r\n$5\r\nhe\r\nl\r\n$-1\r\n*-1\r\n*3\r\n$1\r\na\r\n*2\r\n:1\r\n$0\r\n\r\n+x\r\n"
    static let values: [RedisValue] = [
        .status("OK"), .error("ERR no"), .integer(-42), .bulk(Array("he\r\nl".utf8)), .null, .null,
        .array([.bulk(Array("a".utf8)), .array([.integer(1), .bulk([])]), .status("x")]),
    ]

    @Test func everyKindOfReplyIsRead() throws {
        var buffer = ByteBuffer(string: Self.stream)
        var read = [RedisValue]()
        while let value = try RESP.read(from: &buffer) { read.append(value) }
        #expect(read == Self.values)
        #expect(buffer.readableBytes == 0)
    }

    /// Bytes arrive in any pieces: a reply is read only once whole, and nothing is lost.
    @Test func repliesSplitAtEveryByteAreReadWhole() throws {
        let bytes = Array(Self.stream.utf8)
        for cut in 1..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes[..<cut])
            var read = [RedisValue]()
            while let value = try RESP.read(from: &buffer) { read.append(value) }
            buffer.writeBytes(bytes[cut...])
            while let value = try RESP.read(from: &buffer) { read.append(value) }
            #expect(read == Self.values, "cut at \(cut)")
        }
    }

    @Test func malformedRepliesAreErrors() {
        for bad in ["?x\r\n", ":12a\r\n", "$x\r\n", String(repeating: "*1\r\n", count: 40) + ":1\r\n"] {
            var buffer = ByteBuffer(string: bad)
            #expect(throws: RESP.ProtocolError.self, "\(bad.prefix(12))") { try RESP.read(from: &buffer) }
        }
    }
}
