import Foundation
import NIOCore
import Synchronization

/// Where a WebSocket session's packets go: the connection's handler, asked to flush the
/// session's queue on its event loop (it takes everything queued by then, in one write).
protocol EngineSocketLink: Sendable {
    func flushRequested()
    /// The server is shutting down: stop reading, finish what was read, then close.
    func shutDownRequested()
}

/// One Engine.IO connection, whichever transport carries it. Packets for the client wait
/// in a queue until the transport takes them: the pending long-poll, or the WebSocket's
/// handler. Thread-safe; every state change happens under one lock. Timers (heartbeat,
/// deadlines) run on `eventLoop` as scheduled tasks: an idle session holds no task.
public final class EngineSession: Sendable {
    public let id: String
    public let handshake: EngineHandshake
    let configuration: EngineConfiguration
    let eventLoop: any EventLoop
    private let state: Mutex<State>
    /// Called once, when the session ends (the server forgets it and tells its handler).
    private let onClose: @Sendable (EngineSession, EngineCloseReason) -> Void

    enum Transport: Sendable {
        case polling
        case websocket(any EngineSocketLink)
    }
    enum Upgrade: Sendable { case none, claimed, probing, done }

    struct State {
        /// The WebSocket carrying the session; nil while it is long-polling.
        var socket: (any EngineSocketLink)?
        var upgrade = Upgrade.none
        var queue: [OutgoingPacket] = []
        /// A long-poll waiting for packets.
        var waiter: CheckedContinuation<Take, Never>?
        /// The WebSocket has been asked to flush and has not taken the queue yet.
        var flushRequested = false
        var closed = false
        var closeReason: EngineCloseReason?
        /// The next ping, or the deadline of the pong awaited.
        var heartbeat: Scheduled<Void>?
        var awaitingPong = false
        var writtenWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// What a transport gets when it asks for packets.
    enum Take: Sendable {
        case packets([EnginePacket])
        case closed
        /// Another long-poll is already waiting (a protocol error).
        case busy
        /// A WebSocket is taking the session over.
        case upgrading
    }

    init(id: String, handshake: EngineHandshake, transport: Transport, configuration: EngineConfiguration, eventLoop: any EventLoop,
         onClose: @escaping @Sendable (EngineSession, EngineCloseReason) -> Void) {
        self.id = id
        self.handshake = handshake
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.onClose = onClose
        var initial = State()
        if case .websocket(let link) = transport { initial.socket = link }
        state = Mutex(initial)
    }

    public var isClosed: Bool { state.withLock { $0.closed } }
    var isPolling: Bool { state.withLock { $0.socket == nil } }
    var upgrade: Upgrade { state.withLock { $0.upgrade } }

    // MARK: sending

    /// Queues messages for the client, together: a Socket.IO packet and its binary
    /// attachments never interleave with another's.
    public func send(_ messages: [EngineMessage]) {
        enqueue(messages.map { OutgoingPacket(.message($0)) })
    }

    /// Queues messages framed once for all their recipients.
    public func send(_ broadcast: EngineBroadcast) {
        enqueue(broadcast.packets)
    }

    func enqueue(_ packets: [OutgoingPacket]) {
        let link: (any EngineSocketLink)? = state.withLock { s in
            guard !s.closed else { return nil }
            s.queue.append(contentsOf: packets)
            if let socket = s.socket {
                guard !s.flushRequested else { return nil }
                s.flushRequested = true
                return socket
            }
            if let waiter = s.waiter {
                s.waiter = nil
                let batch = s.queue.map(\.packet)
                s.queue = []
                waiter.resume(returning: .packets(batch))
            }
            return nil
        }
        link?.flushRequested()
    }

    /// The queued packets, waiting for some if there are none; `.closed` once the session
    /// is over and its queue is empty. (Long-polling.)
    func take() async -> Take {
        await withCheckedContinuation { continuation in
            state.withLock { s in
                if !s.queue.isEmpty {
                    let packets = s.queue.map(\.packet)
                    s.queue = []
                    continuation.resume(returning: .packets(packets))
                } else if s.closed {
                    continuation.resume(returning: .closed)
                } else if s.waiter != nil {
                    continuation.resume(returning: .busy)
                } else {
                    s.waiter = continuation
                }
            }
        }
    }

    /// What the WebSocket writes on a flush: everything queued, whether the session is over
    /// (a close frame follows, and the link is dropped), and who waits for these writes.
    func takeForSocket() -> (packets: [OutgoingPacket], closed: Bool, waiters: [CheckedContinuation<Void, Never>]) {
        state.withLock { s in
            s.flushRequested = false
            defer {
                s.queue = []
                s.writtenWaiters = []
                if s.closed { s.socket = nil }
            }
            return (s.queue, s.closed, s.writtenWaiters)
        }
    }

    /// Returns once a WebSocket has written everything queued so far, and a moment more so
    /// the bytes leave in a TCP segment of their own (at once over long-polling, where the
    /// client's next GET takes the queue). Socket.IO waits here between a CONNECT and its
    /// first events: the reference server's writes arrive apart, and clients written
    /// against it (the official test suite among them) read the two one event-loop turn apart.
    func written() async {
        guard !isPolling else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLock { s in
                guard s.socket != nil, !s.closed, !s.queue.isEmpty else { return true }
                s.writtenWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
        try? await Task.sleep(for: .milliseconds(2))
    }

    /// Runs `body` on the session's event loop after `delay` (cancel the result to drop it).
    @discardableResult
    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> Scheduled<Void> {
        eventLoop.scheduleTask(in: TimeAmount(delay), body)
    }

    // MARK: upgrade

    /// A WebSocket asked to take the session over; only the first may (until it gives up).
    func claimUpgrade() -> Bool {
        state.withLock { s in
            guard !s.closed, s.socket == nil, s.upgrade == .none else { return false }
            s.upgrade = .claimed
            return true
        }
    }

    /// The probe came over the claiming WebSocket: a waiting long-poll is told, and ends
    /// with a noop unless the upgrade completes first.
    func beginUpgrade() -> Bool {
        state.withLock { s in
            guard !s.closed, s.upgrade == .claimed else { return false }
            s.upgrade = .probing
            if let waiter = s.waiter {
                s.waiter = nil
                waiter.resume(returning: .upgrading)
            }
            return true
        }
    }

    /// Waits (up to `limit`) for a probing upgrade to finish; true if the WebSocket took over.
    func upgradeSettled(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let upgrade = state.withLock { $0.upgrade }
            if upgrade == .done { return true }
            if upgrade != .probing { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return state.withLock { $0.upgrade == .done }
    }

    /// The client sent `5`: from now on the WebSocket carries everything (what is queued
    /// goes with its first flush, which the caller does).
    func completeUpgrade(to link: any EngineSocketLink) -> Bool {
        state.withLock { s in
            guard !s.closed, s.upgrade == .probing else { return false }
            s.upgrade = .done
            s.socket = link
            if let waiter = s.waiter {
                s.waiter = nil
                waiter.resume(returning: .upgrading)
            }
            return true
        }
    }

    /// The probing WebSocket went away before the upgrade finished: polling goes on.
    func abandonUpgrade() {
        state.withLock { s in
            if s.upgrade == .probing || s.upgrade == .claimed { s.upgrade = .none }
        }
    }

    // MARK: heartbeat

    /// Pings every `pingInterval` after the last pong; no pong within `pingTimeout` ends the session.
    func startHeartbeat() {
        scheduleHeartbeat(after: configuration.pingInterval) { $0.ping() }
    }

    private func scheduleHeartbeat(after delay: Duration, _ body: @escaping @Sendable (EngineSession) -> Void) {
        let next = schedule(after: delay) { [weak self] in if let self { body(self) } }
        let keep = state.withLock { s in
            guard !s.closed else { return false }
            s.heartbeat?.cancel()
            s.heartbeat = next
            return true
        }
        if !keep { next.cancel() }
    }

    /// Sends a ping; the pong is awaited before the ping is queued, so even an instant one is seen.
    private func ping() {
        let open = state.withLock { s in
            guard !s.closed else { return false }
            s.awaitingPong = true
            return true
        }
        guard open else { return }
        scheduleHeartbeat(after: configuration.pingTimeout) { $0.pongMissed() }
        enqueue([OutgoingPacket(.ping(""))])
    }

    private func pongMissed() {
        if state.withLock({ $0.awaitingPong }) { close(.pingTimeout) }
    }

    func pongReceived() {
        let awaited = state.withLock { s in
            defer { s.awaitingPong = false }
            return s.awaitingPong
        }
        if awaited { startHeartbeat() }
    }

    // MARK: closing

    /// Ends the session. A waiting long-poll is answered with `final` (`1` tells the client
    /// it is closed; `6` when the client asked for it); a WebSocket sends what is still
    /// queued, then a close frame.
    public func close(_ reason: EngineCloseReason = .serverClose, final: [EnginePacket] = [.close]) {
        let (ended, link): (Bool, (any EngineSocketLink)?) = state.withLock { s in
            guard !s.closed else { return (false, nil) }
            s.closed = true
            s.closeReason = reason
            s.heartbeat?.cancel()
            s.heartbeat = nil
            for waiter in s.writtenWaiters { waiter.resume() }
            s.writtenWaiters = []
            if let waiter = s.waiter {
                s.waiter = nil
                let packets = s.queue.map(\.packet) + final
                s.queue = []
                waiter.resume(returning: .packets(packets))
            }
            guard let socket = s.socket, !s.flushRequested else { return (true, nil) }
            s.flushRequested = true
            return (true, socket)
        }
        link?.flushRequested()
        if ended { onClose(self, reason) }
    }

    /// The server is shutting down: a long-polling session ends now; a WebSocket's handler
    /// first finishes the packets it has read, so their answers are not lost.
    func shutDown() {
        if let link = state.withLock({ $0.closed ? nil : $0.socket }) {
            link.shutDownRequested()
        } else {
            close(.serverShutdown)
        }
    }

    /// Why the session ended (nil while open): a WebSocket closes with 1001 at shutdown.
    var closeReason: EngineCloseReason? { state.withLock { $0.closeReason } }
}

/// A packet on its way to a client, with its WebSocket frame when a broadcast made that
/// once for every recipient.
struct OutgoingPacket: Sendable {
    let packet: EnginePacket
    let frame: ByteBuffer?

    init(_ packet: EnginePacket, frame: ByteBuffer? = nil) {
        self.packet = packet
        self.frame = frame
    }
}

/// Messages for many sessions, framed for WebSocket once: each recipient's connection
/// writes the same bytes (server frames are not masked), as Socket.IO's own server does.
public struct EngineBroadcast: Sendable {
    let packets: [OutgoingPacket]

    public init(_ messages: [EngineMessage]) {
        packets = messages.map { message in
            let packet = EnginePacket.message(message)
            return OutgoingPacket(packet, frame: ServerFrames.frame(packet, allocator: ServerFrames.allocator))
        }
    }
}
