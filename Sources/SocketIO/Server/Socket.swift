import Foundation
import HTTPTypes
import Synchronization

/// What a client sent when it connected to a namespace.
public struct SocketHandshake: Sendable {
    /// The CONNECT packet's payload (`{}` when it had none): where clients put their token.
    public let auth: JSONValue
    /// The HTTP request that opened the Engine.IO session (headers such as Cookie, and the query).
    public let engine: EngineHandshake
}

/// One client in one namespace.
public final class Socket: Sendable {
    public let id: String
    public let namespace: Namespace
    public let handshake: SocketHandshake
    /// The private session id a client reconnects with (only with `SessionRecovery`).
    public let pid: String?
    /// The socket came back after a short disconnection: its rooms, data and missed broadcasts with it.
    public let recovered: Bool
    let connection: Connection
    private let state = Mutex<State>(State())

    public typealias EventHandler = @Sendable (_ arguments: [JSONValue], _ ack: Acknowledgement?) async -> Void

    struct State {
        var handlers: [String: EventHandler] = [:]
        var onDisconnect: [@Sendable (String) async -> Void] = []
        var nextAckId = 0
        var pendingAcks: [Int: CheckedContinuation<[JSONValue], any Error>] = [:]
        var userData: [String: String] = [:]
        var connected = true
    }

    init(id: String, namespace: Namespace, handshake: SocketHandshake, connection: Connection, pid: String? = nil,
         recovered: RecoverableSession? = nil) {
        self.id = recovered?.sid ?? id
        self.namespace = namespace
        self.handshake = handshake
        self.connection = connection
        self.pid = recovered?.pid ?? pid
        self.recovered = recovered != nil
        if let recovered { state.withLock { $0.userData = recovered.data } }
    }

    /// What recovery keeps of this socket, while it is still in its rooms.
    func recoverable() -> RecoverableSession? {
        guard let pid else { return nil }
        return RecoverableSession(sid: id, pid: pid, namespace: namespace.name, rooms: rooms.subtracting([id]).sorted(),
                                  data: state.withLock { $0.userData })
    }

    /// The Engine.IO session underneath (shared by this client's other namespaces).
    public var sessionId: String { connection.session.id }

    public var isConnected: Bool { state.withLock { $0.connected } }

    /// Small facts the application keeps with the socket, such as the signed-in user's id.
    public subscript(data key: String) -> String? {
        get { state.withLock { $0.userData[key] } }
        set { state.withLock { $0.userData[key] = newValue } }
    }

    // MARK: events

    /// Runs `handler` for each `event` from the client, one at a time in arrival order.
    public func on(_ event: String, _ handler: @escaping EventHandler) {
        state.withLock { $0.handlers[event] = handler }
    }

    public func onDisconnect(_ handler: @escaping @Sendable (String) async -> Void) {
        state.withLock { $0.onDisconnect.append(handler) }
    }

    public func emit(_ event: String, _ arguments: [JSONValue] = []) {
        guard isConnected else { return }
        connection.send(SocketPacket(.event, namespace: namespace.name, payload: .array([.string(event)] + arguments)))
    }

    /// Emits and waits for the client's acknowledgement. Do not await this inside one of
    /// this socket's own event handlers: the acknowledgement is read after the handler returns.
    public func emitWithAck(_ event: String, _ arguments: [JSONValue] = [], timeout: Duration = .seconds(10)) async throws -> [JSONValue] {
        let id = try state.withLock { s in
            guard s.connected else { throw SocketError.disconnected }
            defer { s.nextAckId += 1 }
            return s.nextAckId
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.failAck(id: id, with: SocketError.ackTimeout)
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            state.withLock { $0.pendingAcks[id] = continuation }
            connection.send(SocketPacket(.event, namespace: namespace.name, ackId: id, payload: .array([.string(event)] + arguments)))
        }
    }

    public func join(_ room: String) { namespace.join(self, room) }
    public func leave(_ room: String) { namespace.leave(self, room) }
    public var rooms: Set<String> { namespace.rooms(of: self) }

    /// Ends this socket's membership of the namespace (the Engine.IO session stays).
    public func disconnect() async {
        connection.send(SocketPacket(.disconnect, namespace: namespace.name))
        if connection.removeSocket(namespace: namespace.name) != nil {
            await namespace.remove(self, reason: "server namespace disconnect")
        }
    }

    // MARK: from the server

    func handle(event: String, arguments: [JSONValue], ackId: Int?) async {
        guard let handler = state.withLock({ $0.handlers[event] }) else { return }
        let ack = ackId.map { Acknowledgement(id: $0, socket: self) }
        await handler(arguments, ack)
    }

    func acknowledged(id: Int, arguments: [JSONValue]) {
        let continuation = state.withLock { $0.pendingAcks.removeValue(forKey: id) }
        continuation?.resume(returning: arguments)
    }

    private func failAck(id: Int, with error: any Error) {
        let continuation = state.withLock { $0.pendingAcks.removeValue(forKey: id) }
        continuation?.resume(throwing: error)
    }

    func disconnected(reason: String) async {
        let (handlers, pending) = state.withLock { s in
            s.connected = false
            // The handlers go with the socket: they usually capture it, and the cycle
            // would keep the socket, its connection and session alive for good.
            defer {
                s.pendingAcks = [:]
                s.handlers = [:]
                s.onDisconnect = []
            }
            return (s.onDisconnect, Array(s.pendingAcks.values))
        }
        for continuation in pending { continuation.resume(throwing: SocketError.disconnected) }
        for handler in handlers { await handler(reason) }
    }
}

/// Answers a client's event once (later calls are ignored).
public final class Acknowledgement: Sendable {
    let id: Int
    let socket: Socket
    private let used = Atomic<Bool>(false)

    init(id: Int, socket: Socket) {
        self.id = id
        self.socket = socket
    }

    public func callAsFunction(_ arguments: [JSONValue]) {
        guard !used.exchange(true, ordering: .relaxed) else { return }
        socket.connection.send(SocketPacket(.ack, namespace: socket.namespace.name, ackId: id, payload: .array(arguments)))
    }
}

public enum SocketError: Error, Sendable {
    case disconnected
    case ackTimeout
}
