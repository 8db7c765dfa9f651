import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import SocketIO

/// The frames the server writes itself, read back by NIO's WebSocket decoder (what a
/// client's parser does), at every length encoding.
@Suite struct ServerFramesTests {
    func decoded(_ bytes: ByteBuffer) throws -> WebSocketFrame? {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try channel.writeInbound(bytes)
        return try channel.readInbound(as: WebSocketFrame.self)
    }

    @Test func everyLengthEncodingReadsBack() throws {
        for length in [0, 1, 125, 126, 127, 65_535, 65_536, 200_000] {
            let text = String(repeating: "x", count: max(0, length - 1))
            let frame = try #require(try decoded(ServerFrames.frame(.message(.text(text)), allocator: ServerFrames.allocator)), "length \(length)")
            #expect(frame.fin && frame.opcode == .text && frame.maskKey == nil)
            #expect(frame.data == ByteBuffer(string: "4" + text), "length \(length)")
        }
        let binary = try #require(try decoded(ServerFrames.frame(.message(.binary(Data([0, 1, 255]))), allocator: ServerFrames.allocator)))
        #expect(binary.opcode == .binary && binary.data == ByteBuffer(bytes: [0, 1, 255]))
        let close = try #require(try decoded(ServerFrames.close(.goingAway, allocator: ServerFrames.allocator)))
        #expect(close.opcode == .connectionClose && close.data == ByteBuffer(bytes: [0x03, 0xE9]))
        let pong = try #require(try decoded(ServerFrames.control(.pong, payload: ByteBuffer(bytes: [7]), allocator: ServerFrames.allocator)))
        #expect(pong.opcode == .pong && pong.data == ByteBuffer(bytes: [7]))
    }

    /// A broadcast is framed once: every recipient's queue holds the same bytes.
    @Test func aBroadcastIsFramedOnce() throws {
        let broadcast = EngineBroadcast([.text("2[\"message\"]")])
        let frame = try #require(broadcast.packets.first?.frame)
        #expect(try decoded(frame)?.data == ByteBuffer(string: "42[\"message\"]"))
    }
}
