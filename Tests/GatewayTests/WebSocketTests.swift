import Foundation
import Gateway
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite struct WebSocketTests {
    @Test func aMessageRoundTripsThroughTheGateway() async throws {
        let echo = try await Upstream.start("echo")
        try await GatewayProxyTests.withGateway("""
            route /chat/ { upstream 127.0.0.1:\(echo.port); strip_prefix /chat; }
            route /chat/socket { upstream 127.0.0.1:\(echo.port); strip_prefix /chat; websocket on; read_timeout 2s; }
            """) { _, port in
            let socket = try await RawWebSocket.connect(port: port, path: "/chat/socket?EIO=4")
            #expect(socket.handshake.hasPrefix("HTTP/1.1 101"))
            #expect(socket.handshake.lowercased().contains("upgrade: websocket"))
            for message in ["hello", "second message", String(repeating: "z", count: 100)] {
                try socket.sendText(message)
                #expect(try await socket.nextText() == "echo: \(message)")
            }
            // Quiet for longer than the idle timeout: the tunnel is closed.
            try await Task.sleep(for: .milliseconds(2600))
            await #expect(throws: (any Error).self) { try socket.sendText("late"); _ = try await socket.nextText() }
            socket.close()

            // A route without `websocket on` does not upgrade.
            let plain = try await rawHTTPGet(port: port, path: "/chat/other", headers: ["Upgrade": "websocket", "Connection": "Upgrade"])
            #expect(plain.status == 200)
        }
        await echo.stop()
    }
}

/// A WebSocket client on a blocking socket: enough to prove bytes cross the gateway. Its
/// blocking reads run on threads of their own (`connect`, `nextText`; `receiveClose` for a thread of the caller's): on the
/// cooperative pool (two threads here) they would stall every other test of the process.
final class RawWebSocket: @unchecked Sendable {
    static func connect(port: Int, path: String) async throws -> RawWebSocket {
        try await onOwnThread { try RawWebSocket(port: port, path: path) }
    }

    func nextText() async throws -> String {
        try await onOwnThread { try self.receiveText() }
    }


    let fd: Int32
    private(set) var handshake = ""
    private var buffer: [UInt8] = []

    private init(port: Int, path: String) throws {
        fd = try connectLoopback(port: port, receiveTimeoutSeconds: 5)
        try write(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
        while true {
            if let end = find([13, 10, 13, 10]) {
                handshake = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                return
            }
            try fill()
        }
    }

    func sendText(_ text: String) throws {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        let mask: [UInt8] = [1, 2, 3, 4]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try write(frame)
    }

    private func receiveText() throws -> String {
        while buffer.count < 2 { try fill() }
        var length = Int(buffer[1] & 0x7F)
        var offset = 2
        if length == 126 {
            while buffer.count < 4 { try fill() }
            length = Int(buffer[2]) << 8 | Int(buffer[3])
            offset = 4
        }
        while buffer.count < offset + length { try fill() }
        let text = String(decoding: buffer[offset..<(offset + length)], as: UTF8.self)
        buffer.removeFirst(offset + length)
        return text
    }

    /// Reads frames until a close frame: true and its status code, or false if the connection ended first.
    func receiveClose() throws -> (Bool, Int) {
        while true {
            while buffer.count < 2 {
                do { try fill() } catch { return (false, 0) }
            }
            let opcode = buffer[0] & 0x0F
            let length = Int(buffer[1] & 0x7F)
            guard length < 126 else { throw POSIXError(.EPROTO) }
            while buffer.count < 2 + length {
                do { try fill() } catch { return (false, 0) }
            }
            let payload = Array(buffer[2..<(2 + length)])
            buffer.removeFirst(2 + length)
            if opcode == 0x8 { return (true, payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 0) }
        }
    }

    func close() { Glibc.close(fd) }

    private func write(_ bytes: [UInt8]) throws {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n == bytes.count else { throw POSIXError(.EPIPE) }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { throw POSIXError(.ECONNRESET) }
        buffer += chunk[0..<n]
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for i in 0...(buffer.count - needle.count) where Array(buffer[i..<(i + needle.count)]) == needle { return i }
        return nil
    }
}
