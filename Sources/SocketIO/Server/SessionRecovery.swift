/// Connection state recovery, as Socket.IO 4.6+ does it: a socket that went away without
/// saying so (its transport closed, it missed pings, the server shut down) is kept for a
/// while; a client that reconnects with the private session id (`pid`, sent in CONNECT) and
/// the offset of the last broadcast it heard gets the same socket id, rooms and data back,
/// and the broadcasts it missed, in order — and the official client's `socket.recovered`
/// is true. Where sessions are kept and how missed broadcasts are found is the
/// application's: a replica that did not see the socket must be able to recover it.
///
/// Unlike Socket.IO's server, the offset does not ride as an extra last argument of the
/// broadcast (a client whose handler takes exactly the event's arguments, as
/// python-socketio's do, would fail on it): it follows in an event of its own,
/// `offsetEvent`, which the official client reads the same way (the last string argument
/// of any event it hears) and other clients ignore, having no handler for it.
public protocol SessionRecovery: Sendable {
    /// Keeps a socket that went away.
    func save(_ session: RecoverableSession) async
    /// Takes the kept session of `pid` (once), with the broadcasts it missed after `offset`,
    /// in order; nil when there is none (never kept, taken already, or expired).
    func restore(pid: String, offset: String) async -> (session: RecoverableSession, missed: [MissedBroadcast])?
}

/// The event that carries a broadcast's offset, right after it.
public let offsetEvent = "sio:offset"

/// A broadcast a recovered socket missed: the event's arguments (its name first) and its offset.
public struct MissedBroadcast: Sendable, Equatable {
    public var arguments: [JSONValue]
    public var offset: String

    public init(arguments: [JSONValue], offset: String) {
        self.arguments = arguments
        self.offset = offset
    }
}

/// What a recovered socket gets back.
public struct RecoverableSession: Sendable, Equatable, Codable {
    public var sid: String
    public var pid: String
    public var namespace: String
    /// Its rooms, but the one named by its id.
    public var rooms: [String]
    public var data: [String: String]

    public init(sid: String, pid: String, namespace: String, rooms: [String], data: [String: String]) {
        self.sid = sid
        self.pid = pid
        self.namespace = namespace
        self.rooms = rooms
        self.data = data
    }
}

extension EngineCloseReason {
    /// The reasons a client reconnects after, as Socket.IO's server counts them.
    var isRecoverable: Bool {
        switch self {
        case .transportClose, .transportError, .pingTimeout, .serverShutdown: true
        case .clientClose, .parseError, .serverClose: false
        }
    }
}
