import NIOCore
import NIOWebSocket
import Testing

@testable import SocketIO

/// The WebSocket protocol of a client's frames, without a socket.
@Suite struct WebSocketFrameReaderTests {
    static let key = WebSocketMaskingKey([0x11, 0x22, 0x33, 0x44])!

    /// A client's frame: masked, as clients must.
    func frame(_ opcode: WebSocketOpcode, _ bytes: [UInt8], fin: Bool = true, masked: Bool = true) -> WebSocketFrame {
        var data = ByteBuffer(bytes: bytes)
        if masked { data.webSocketMask(Self.key) }
        return WebSocketFrame(fin: fin, opcode: opcode, maskKey: masked ? Self.key : nil, data: data)
    }

    @Test func fragmentsAreJoinedIntoOneMessage() {
        var reader = WebSocketFrameReader(maxPayload: 100)
        #expect(reader.receive(frame(.text, Array("40{\"a\":".utf8), fin: false)) == .none)
        #expect(reader.receive(frame(.ping, [1, 2])) == .pong(ByteBuffer(bytes: [1, 2])), "a control frame between fragments is answered")
        #expect(reader.receive(frame(.continuation, Array("1".utf8), fin: false)) == .none)
        #expect(reader.receive(frame(.continuation, Array("}".utf8))) == .message(.text("40{\"a\":1}")))
        #expect(reader.receive(frame(.binary, [0, 255], fin: false)) == .none)
        #expect(reader.receive(frame(.continuation, [7])) == .message(.binary(ByteBuffer(bytes: [0, 255, 7]))))
        #expect(reader.receive(frame(.text, Array("é".utf8))) == .message(.text("é")), "the reader goes on after a whole message")
    }

    @Test func protocolViolationsCloseTheConnection() {
        var reader = WebSocketFrameReader(maxPayload: 100)
        #expect(reader.receive(frame(.text, Array("4x".utf8), masked: false)) == .fail(.protocolError), "a client must mask its frames")
        #expect(reader.receive(frame(.continuation, [1])) == .fail(.protocolError), "a continuation of nothing")
        #expect(reader.receive(frame(.text, [0x34], fin: false)) == .none)
        #expect(reader.receive(frame(.text, [0x34])) == .fail(.protocolError), "a new message before the last one ended")
        var fresh = WebSocketFrameReader(maxPayload: 100)
        #expect(fresh.receive(frame(.ping, [1], fin: false)) == .fail(.protocolError), "a fragmented ping")
        #expect(fresh.receive(frame(.ping, Array(repeating: 1, count: 126))) == .fail(.protocolError), "a ping over 125 bytes")
        #expect(fresh.receive(frame(.text, [0x34, 0xC3, 0x28])) == .fail(.dataInconsistentWithMessage), "text that is not UTF-8")
        #expect(fresh.receive(frame(.connectionClose, [0x03, 0xE8])) == .clientClosed)
        var extended = WebSocketFrameReader(maxPayload: 100)
        var compressed = frame(.text, [0x34])
        compressed.rsv1 = true
        #expect(extended.receive(compressed) == .fail(.protocolError), "no extension was negotiated")
    }

    /// The payload limit holds for a message as a whole, however it is cut up.
    @Test func aMessageOverTheLimitIsRefused() {
        var reader = WebSocketFrameReader(maxPayload: 10)
        #expect(reader.receive(frame(.text, Array(repeating: 0x34, count: 10))) == .message(.text(String(repeating: "4", count: 10))))
        #expect(reader.receive(frame(.text, Array(repeating: 0x34, count: 11))) == .fail(.messageTooLarge))
        var cut = WebSocketFrameReader(maxPayload: 10)
        #expect(cut.receive(frame(.binary, Array(repeating: 1, count: 6), fin: false)) == .none)
        #expect(cut.receive(frame(.continuation, Array(repeating: 1, count: 5))) == .fail(.messageTooLarge))
    }
}
