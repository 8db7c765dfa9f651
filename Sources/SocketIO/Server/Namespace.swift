import Foundation
import Logging
import Synchronization

/// A Socket.IO namespace: who is connected, the rooms they are in, what runs when a
/// socket arrives. Broadcasts encode and frame a packet once and queue it for every recipient.
public final class Namespace: Sendable {
    public let name: String
    let logger: Logger
    private let state = Mutex<State>(State())

    public typealias Authorizer = @Sendable (Socket) async throws -> Void
    public typealias ConnectionHandler = @Sendable (Socket) async -> Void

    struct State {
        var sockets: [String: Socket] = [:]
        var rooms: [String: Set<String>] = [:]
        var authorizer: Authorizer?
        var onConnection: ConnectionHandler?
    }

    init(name: String, logger: Logger) {
        self.name = name
        self.logger = logger
    }

    /// Runs before a socket is admitted; throwing `SocketConnectionRefused` sends the client
    /// a CONNECT_ERROR with its message.
    public func authorize(with authorizer: @escaping Authorizer) {
        state.withLock { $0.authorizer = authorizer }
    }

    /// Runs for every socket once it is connected (its CONNECT already sent).
    public func onConnection(_ handler: @escaping ConnectionHandler) {
        state.withLock { $0.onConnection = handler }
    }

    public var socketCount: Int { state.withLock { $0.sockets.count } }

    public func sockets(in room: String) -> [Socket] {
        state.withLock { s in (s.rooms[room] ?? []).compactMap { s.sockets[$0] } }
    }

    // MARK: broadcasting

    /// `event` to every socket in `room` (except `except`, a socket id). With an `offset`
    /// (connection state recovery) an `offsetEvent` follows it in the same write: clients
    /// remember the last one they heard and reconnect with it.
    public func emit(to room: String, except: String? = nil, _ event: String, _ arguments: [JSONValue] = [], offset: String? = nil) {
        let recipients = sockets(in: room).filter { $0.id != except }
        guard !recipients.isEmpty else { return }
        broadcast(event, arguments, offset: offset, to: recipients)
    }

    /// `event` to every socket of the namespace.
    public func emit(_ event: String, _ arguments: [JSONValue] = []) {
        let recipients = state.withLock { Array($0.sockets.values) }
        broadcast(event, arguments, to: recipients)
    }

    /// The event encoded and framed once, queued for every recipient.
    private func broadcast(_ event: String, _ arguments: [JSONValue], offset: String? = nil, to recipients: [Socket]) {
        var messages = Connection.messages(SocketPacket(.event, namespace: name, payload: .array([.string(event)] + arguments)))
        if let offset { messages += Connection.messages(SocketPacket(.event, namespace: name, payload: [.string(offsetEvent), .string(offset)])) }
        let broadcast = EngineBroadcast(messages)
        for socket in recipients { socket.connection.session.send(broadcast) }
    }

    // MARK: membership

    func authorize(_ socket: Socket) async throws {
        if let authorizer = state.withLock({ $0.authorizer }) { try await authorizer(socket) }
    }

    /// Adds the socket, in `rooms` too (a recovered socket's), then runs the connection handler.
    func connected(_ socket: Socket, rooms: [String] = []) async {
        let handler = state.withLock { s in
            s.sockets[socket.id] = socket
            s.rooms[socket.id, default: []].insert(socket.id)  // every socket is in a room named by its id
            for room in rooms { s.rooms[room, default: []].insert(socket.id) }
            return s.onConnection
        }
        await handler?(socket)
    }

    func join(_ socket: Socket, _ room: String) {
        state.withLock { s in
            guard s.sockets[socket.id] != nil else { return }
            s.rooms[room, default: []].insert(socket.id)
        }
    }

    func leave(_ socket: Socket, _ room: String) {
        state.withLock { s in
            s.rooms[room]?.remove(socket.id)
            if s.rooms[room]?.isEmpty == true { s.rooms[room] = nil }
        }
    }

    func rooms(of socket: Socket) -> Set<String> {
        state.withLock { s in Set(s.rooms.filter { $0.value.contains(socket.id) }.keys) }
    }

    func remove(_ socket: Socket, reason: String) async {
        let removed = state.withLock { s in
            guard s.sockets.removeValue(forKey: socket.id) != nil else { return false }
            for room in s.rooms.keys where s.rooms[room]?.contains(socket.id) == true {
                s.rooms[room]?.remove(socket.id)
                if s.rooms[room]?.isEmpty == true { s.rooms[room] = nil }
            }
            return true
        }
        if removed { await socket.disconnected(reason: reason) }
    }
}
