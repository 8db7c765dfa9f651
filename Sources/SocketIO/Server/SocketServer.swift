import Foundation
import Logging
import Synchronization

/// A Socket.IO 5 server over an `EngineServer`: namespaces, sockets, rooms, events and
/// acknowledgements, binary attachments. Nothing here knows what the events mean.
public final class SocketServer: EngineHandler {
    public let connectTimeout: Duration
    /// Connection state recovery; nil turns it off (no `pid` in CONNECT).
    let recovery: (any SessionRecovery)?
    let logger: Logger
    private let namespaces = Mutex<[String: Namespace]>([:])
    private let connections = Mutex<[String: Connection]>([:])

    public init(connectTimeout: Duration = .seconds(45), recovery: (any SessionRecovery)? = nil, logger: Logger) {
        self.connectTimeout = connectTimeout
        self.recovery = recovery
        self.logger = logger
        _ = of("/")
    }

    /// The namespace called `name`, made on first use; clients may connect only to those made.
    public func of(_ name: String) -> Namespace {
        namespaces.withLock { all in
            if let existing = all[name] { return existing }
            let namespace = Namespace(name: name, logger: logger)
            all[name] = namespace
            return namespace
        }
    }

    func namespace(_ name: String) -> Namespace? { namespaces.withLock { $0[name] } }

    // MARK: EngineHandler

    public func engineOpened(_ session: EngineSession) async {
        let connection = Connection(session: session)
        connections.withLock { $0[session.id] = connection }
        // A client that never joins a namespace is dropped (a timer of the session's loop,
        // not a task per connection).
        session.schedule(after: connectTimeout) { [weak connection] in
            guard let connection, !connection.hasConnected else { return }
            connection.session.close(.serverClose)
        }
    }

    public func engine(_ session: EngineSession, received message: EngineMessage) async {
        guard let connection = connections.withLock({ $0[session.id] }) else { return }
        do {
            guard let packet = try connection.assemble(message) else { return }  // waits for attachments
            await dispatch(packet, on: connection)
        } catch {
            logger.debug("invalid Socket.IO packet: \(error)", metadata: ["sid": "\(session.id)"])
            session.close(.parseError)
        }
    }

    public func engineClosed(_ session: EngineSession, reason: EngineCloseReason) async {
        guard let connection = connections.withLock({ $0.removeValue(forKey: session.id) }) else { return }
        for socket in connection.removeAllSockets() {
            // Read while it is in its rooms (its own id's room comes back by itself), kept once
            // it has left them: a quick reconnection with the same id cannot meet the old socket.
            let kept = recovery != nil && reason.isRecoverable ? socket.recoverable() : nil
            await socket.namespace.remove(socket, reason: reason.rawValue)
            if let recovery, let kept { await recovery.save(kept) }
        }
    }

    // MARK: packets

    private func dispatch(_ packet: SocketPacket, on connection: Connection) async {
        switch packet.kind {
        case .connect: await connect(packet, on: connection)
        case .disconnect:
            if let socket = connection.removeSocket(namespace: packet.namespace) {
                await socket.namespace.remove(socket, reason: "client namespace disconnect")
            }
        case .event, .binaryEvent:
            guard let socket = connection.socket(namespace: packet.namespace), var items = packet.payload?.arrayValue,
                  let name = items.removeFirst().stringValue else { return }
            await socket.handle(event: name, arguments: items, ackId: packet.ackId)
        case .ack, .binaryAck:
            guard let socket = connection.socket(namespace: packet.namespace), let id = packet.ackId else { return }
            socket.acknowledged(id: id, arguments: packet.payload?.arrayValue ?? [])
        case .connectError:
            break  // refused when decoded
        }
    }

    private func connect(_ packet: SocketPacket, on connection: Connection) async {
        guard let namespace = namespace(packet.namespace) else {
            connection.send(SocketPacket(.connectError, namespace: packet.namespace, payload: ["message": "Invalid namespace"]))
            return
        }
        guard connection.socket(namespace: namespace.name) == nil else { return }  // connected already
        let auth = packet.payload ?? .object([])
        let handshake = SocketHandshake(auth: auth, engine: connection.session.handshake)
        var restored: (session: RecoverableSession, missed: [MissedBroadcast])?
        if let recovery, let pid = auth["pid"]?.stringValue, let offset = auth["offset"]?.stringValue,
           let found = await recovery.restore(pid: pid, offset: offset), found.session.namespace == namespace.name {
            restored = found
        }
        let socket = Socket(id: EngineServer.newId(), namespace: namespace, handshake: handshake, connection: connection,
                            pid: recovery == nil ? nil : EngineServer.newId(), recovered: restored?.session)
        do {
            try await namespace.authorize(socket)
        } catch {
            let message = (error as? SocketConnectionRefused)?.message ?? "Not authorized"
            connection.send(SocketPacket(.connectError, namespace: namespace.name, payload: ["message": .string(message)]))
            return
        }
        connection.add(socket)
        var accepted: JSONValue = ["sid": .string(socket.id)]
        if let pid = socket.pid { accepted = ["sid": .string(socket.id), "pid": .string(pid)] }
        connection.send(SocketPacket(.connect, namespace: namespace.name, payload: accepted))
        // What it missed comes right after CONNECT, before anything live (its rooms are joined after).
        for missed in restored?.missed ?? [] {
            connection.send(SocketPacket(.event, namespace: namespace.name, payload: .array(missed.arguments)))
            connection.send(SocketPacket(.event, namespace: namespace.name, payload: [.string(offsetEvent), .string(missed.offset)]))
        }
        await connection.session.written()
        await namespace.connected(socket, rooms: restored?.session.rooms ?? [])
        // The session may have ended while the CONNECT was written, its sockets removed before
        // this one was added: it goes now, so its disconnect handlers run as for any other.
        if connection.session.isClosed { await namespace.remove(socket, reason: "transport close") }
    }
}

/// Thrown by a namespace's authorizer: the client gets a CONNECT_ERROR with `message`.
public struct SocketConnectionRefused: Error, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
