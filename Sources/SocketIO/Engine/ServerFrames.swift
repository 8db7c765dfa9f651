import NIOCore
import NIOWebSocket

/// WebSocket frames as a server writes them (RFC 6455 §5.2: final, unmasked, no extension),
/// each in one buffer: header and payload written together, so a frame costs one allocation
/// and one write, and a broadcast's frame can be shared by every connection.
enum ServerFrames {
    static let allocator = ByteBufferAllocator()

    static func frame(_ packet: EnginePacket, allocator: ByteBufferAllocator) -> ByteBuffer {
        if case .message(.binary(let data)) = packet {
            var buffer = allocator.buffer(capacity: headerLength(data.count) + data.count)
            writeHeader(.binary, length: data.count, into: &buffer)
            buffer.writeBytes(data)
            return buffer
        }
        return text(packet.text ?? "", allocator: allocator)
    }

    static func text(_ text: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let length = text.utf8.count
        var buffer = allocator.buffer(capacity: headerLength(length) + length)
        writeHeader(.text, length: length, into: &buffer)
        buffer.writeString(text)
        return buffer
    }

    static func control(_ opcode: WebSocketOpcode, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = payload
        var buffer = allocator.buffer(capacity: 2 + payload.readableBytes)
        writeHeader(opcode, length: payload.readableBytes, into: &buffer)
        buffer.writeBuffer(&payload)
        return buffer
    }

    static func close(_ code: WebSocketErrorCode, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = allocator.buffer(capacity: 2)
        payload.write(webSocketErrorCode: code)
        return control(.connectionClose, payload: payload, allocator: allocator)
    }

    static func headerLength(_ length: Int) -> Int {
        length < 126 ? 2 : length <= 0xFFFF ? 4 : 10
    }

    static func writeHeader(_ opcode: WebSocketOpcode, length: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(0x80 | UInt8(webSocketOpcode: opcode))
        if length < 126 {
            buffer.writeInteger(UInt8(length))
        } else if length <= 0xFFFF {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
    }
}
