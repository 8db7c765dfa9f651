import NIOCore
import NIOWebSocket

/// The WebSocket protocol of a client's frames, without the socket: frames in, what to do
/// out. Messages come whole (fragments joined, up to `maxPayload` bytes in all), text
/// checked as UTF-8, and a frame without the client's mask is refused (RFC 6455 §5.1).
public struct WebSocketFrameReader {
    public enum Message: Equatable, Sendable {
        case text(String)
        case binary(ByteBuffer)
    }

    public enum Action: Equatable, Sendable {
        case none
        case message(Message)
        /// Answer a ping with these bytes.
        case pong(ByteBuffer)
        /// The client sent a close frame.
        case clientClosed
        /// A protocol violation: close with this code.
        case fail(WebSocketErrorCode)
    }

    public let maxPayload: Int
    private var partial: (opcode: WebSocketOpcode, data: ByteBuffer)?

    public init(maxPayload: Int) {
        self.maxPayload = maxPayload
    }

    public mutating func receive(_ frame: WebSocketFrame) -> Action {
        guard frame.maskKey != nil else { return .fail(.protocolError) }
        guard !frame.rsv1, !frame.rsv2, !frame.rsv3 else { return .fail(.protocolError) }  // no extension was negotiated
        var data = frame.unmaskedData
        switch frame.opcode {
        case .ping:
            guard frame.fin, data.readableBytes <= 125 else { return .fail(.protocolError) }
            return .pong(data)
        case .pong:
            return .none
        case .connectionClose:
            return .clientClosed
        case .text, .binary:
            guard partial == nil else { return .fail(.protocolError) }
            guard data.readableBytes <= maxPayload else { return .fail(.messageTooLarge) }
            if frame.fin { return Self.complete(frame.opcode, data) }
            partial = (frame.opcode, data)
            return .none
        case .continuation:
            guard var whole = partial else { return .fail(.protocolError) }
            guard whole.data.readableBytes + data.readableBytes <= maxPayload else { return .fail(.messageTooLarge) }
            partial = nil  // the buffer below is then the only reference: no copy on write
            whole.data.writeBuffer(&data)
            guard frame.fin else {
                partial = whole
                return .none
            }
            return Self.complete(whole.opcode, whole.data)
        default:
            return .fail(.protocolError)
        }
    }

    private static func complete(_ opcode: WebSocketOpcode, _ data: ByteBuffer) -> Action {
        guard opcode == .text else { return .message(.binary(data)) }
        guard let text = String(validating: data.readableBytesView, as: UTF8.self) else { return .fail(.dataInconsistentWithMessage) }
        return .message(.text(text))
    }
}
