import Foundation
import Synchronization

/// One Engine.IO connection, whichever transport carries it. Packets for the client wait
/// in a queue until the transport takes them: the pending long-poll, or the WebSocket's
/// writer. Thread-safe; every state change happens under one lock.
public final class EngineSession: Sendable {
    public let id: String
    public let handshake: EngineHandshake
    let configuration: EngineConfiguration
    private let state: Mutex<State>
    /// Called once, when the session ends (the server forgets it and tells its handler).
    private let onClose: @Sendable (EngineSession, EngineCloseReason) -> Void

    enum Transport: Sendable { case polling, websocket }
    enum Upgrade: Sendable { case none, claimed, probing, done }

    struct State {
        var transport: Transport
        var upgrade = Upgrade.none
        var queue: [EnginePacket] = []
        var waiter: CheckedContinuation<Take, Never>?
        var closed = false
        var heartbeat: Task<Void, Never>?
        var pongWaiter: CheckedContinuation<Bool, Never>?
        /// Packets queued for a WebSocket writer and not yet written.
        var unwritten = 0
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

    init(id: String, handshake: EngineHandshake, transport: Transport, configuration: EngineConfiguration,
         onClose: @escaping @Sendable (EngineSession, EngineCloseReason) -> Void) {
        self.id = id
        self.handshake = handshake
        self.configuration = configuration
        self.onClose = onClose
        state = Mutex(State(transport: transport))
    }

    public var isClosed: Bool { state.withLock { $0.closed } }
    var transport: Transport { state.withLock { $0.transport } }
    var upgrade: Upgrade { state.withLock { $0.upgrade } }

    // MARK: sending

    /// Queues messages for the client, together: a Socket.IO packet and its binary
    /// attachments never interleave with another's.
    public func send(_ messages: [EngineMessage]) {
        enqueue(messages.map { .message($0) })
    }

    func enqueue(_ packets: [EnginePacket]) {
        state.withLock { s in
            guard !s.closed else { return }
            s.queue.append(contentsOf: packets)
            if s.transport == .websocket { s.unwritten += packets.count }
            if let waiter = s.waiter {
                s.waiter = nil
                let batch = s.queue
                s.queue = []
                waiter.resume(returning: .packets(batch))
            }
        }
    }

    /// The queued packets, waiting for some if there are none; `.closed` once the session
    /// is over and its queue is empty.
    func take() async -> Take {
        await withCheckedContinuation { continuation in
            state.withLock { s in
                if !s.queue.isEmpty {
                    let packets = s.queue
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

    /// The WebSocket writer wrote `count` packets.
    func wrote(_ count: Int) {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { s in
            s.unwritten = max(0, s.unwritten - count)
            guard s.unwritten == 0 else { return [] }
            defer { s.writtenWaiters = [] }
            return s.writtenWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once a WebSocket has written everything queued so far, and a moment more so
    /// the bytes leave in a TCP segment of their own (at once over long-polling, where the
    /// client's next GET takes the queue). Socket.IO waits here between a CONNECT and its
    /// first events: the reference server's writes arrive apart, and clients written
    /// against it (the official test suite among them) read the two one event-loop turn apart.
    func written() async {
        guard transport == .websocket else { return }
        await allWritten()
        try? await Task.sleep(for: .milliseconds(2))
    }

    private func allWritten() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLock { s in
                guard s.transport == .websocket, !s.closed, s.unwritten > 0 else { return true }
                s.writtenWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    // MARK: upgrade

    /// A WebSocket asked to take the session over; only the first may (until it gives up).
    func claimUpgrade() -> Bool {
        state.withLock { s in
            guard !s.closed, s.transport == .polling, s.upgrade == .none else { return false }
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

    /// The client sent `5`: from now on the WebSocket carries everything.
    func completeUpgrade() -> Bool {
        state.withLock { s in
            guard !s.closed, s.upgrade == .probing else { return false }
            s.upgrade = .done
            s.transport = .websocket
            s.unwritten = s.queue.count
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
        let interval = configuration.pingInterval
        let timeout = configuration.pingTimeout
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled, !self.isClosed else { return }
                guard await self.ping(answeredWithin: timeout) else {
                    self.close(.pingTimeout)
                    return
                }
            }
        }
        state.withLock { $0.heartbeat = task }
    }

    /// Sends a ping; true when the client answers in time. The answer is awaited before
    /// the ping is queued, so even an instant pong is seen.
    private func ping(answeredWithin timeout: Duration) async -> Bool {
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.resolvePong(false)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let closed = state.withLock { s in
                if s.closed { return true }
                s.pongWaiter = continuation
                return false
            }
            if closed { continuation.resume(returning: false) } else { enqueue([.ping("")]) }
        }
    }

    private func resolvePong(_ answered: Bool) {
        state.withLock { s in
            s.pongWaiter?.resume(returning: answered)
            s.pongWaiter = nil
        }
    }

    func pongReceived() { resolvePong(true) }

    // MARK: closing

    /// Ends the session. A waiting long-poll is answered with `final` (`1` tells the client
    /// it is closed; `6` when the client asked for it); a WebSocket writer sends what is
    /// still queued, then closes.
    public func close(_ reason: EngineCloseReason = .serverClose, final: [EnginePacket] = [.close]) {
        let ended: Bool = state.withLock { s in
            guard !s.closed else { return false }
            s.closed = true
            s.heartbeat?.cancel()
            s.heartbeat = nil
            s.pongWaiter?.resume(returning: false)
            s.pongWaiter = nil
            for waiter in s.writtenWaiters { waiter.resume() }
            s.writtenWaiters = []
            if let waiter = s.waiter {
                s.waiter = nil
                let packets = s.queue + final
                s.queue = []
                waiter.resume(returning: .packets(packets))
            }
            return true
        }
        if ended { onClose(self, reason) }
    }
}
