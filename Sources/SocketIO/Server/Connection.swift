import Foundation
import Synchronization

/// One Engine.IO session as Socket.IO sees it: the sockets it has in each namespace and a
/// binary packet still waiting for its attachments.
final class Connection: Sendable {
    let session: EngineSession
    private let state = Mutex<State>(State())

    struct State {
        var sockets: [String: Socket] = [:]
        var everConnected = false
        var partial: (packet: SocketPacket, expected: Int, buffers: [Data])?
    }

    init(session: EngineSession) {
        self.session = session
    }

    var hasConnected: Bool { state.withLock { $0.everConnected } }

    func socket(namespace: String) -> Socket? { state.withLock { $0.sockets[namespace] } }

    func add(_ socket: Socket) {
        state.withLock {
            $0.sockets[socket.namespace.name] = socket
            $0.everConnected = true
        }
    }

    func removeSocket(namespace: String) -> Socket? { state.withLock { $0.sockets.removeValue(forKey: namespace) } }

    func removeAllSockets() -> [Socket] {
        state.withLock { s in
            defer { s.sockets = [:] }
            return Array(s.sockets.values)
        }
    }

    enum AssemblyError: Error { case unexpectedBinary, tooManyAttachments }

    /// The whole packet once its text and every attachment have arrived; nil meanwhile.
    func assemble(_ message: EngineMessage) throws -> SocketPacket? {
        try state.withLock { s in
            switch message {
            case .text(let text):
                guard s.partial == nil else { throw AssemblyError.unexpectedBinary }
                let (packet, attachments) = try SocketPacket.decode(text)
                guard attachments > 0 else { return packet }
                guard attachments <= 100 else { throw AssemblyError.tooManyAttachments }
                s.partial = (packet, attachments, [])
                return nil
            case .binary(let data):
                guard var partial = s.partial else { throw AssemblyError.unexpectedBinary }
                partial.buffers.append(data)
                guard partial.buffers.count == partial.expected else {
                    s.partial = partial
                    return nil
                }
                s.partial = nil
                var packet = partial.packet
                try packet.attach(partial.buffers)
                return packet
            }
        }
    }

    func send(_ packet: SocketPacket) {
        session.send(Self.messages(packet))
    }

    static func messages(_ packet: SocketPacket) -> [EngineMessage] {
        let (text, attachments) = packet.encode()
        return [.text(text)] + attachments.map { .binary($0) }
    }
}
