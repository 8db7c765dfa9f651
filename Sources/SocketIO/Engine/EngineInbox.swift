import NIOCore
import Synchronization

/// A WebSocket session's packets on their way to the engine: handed over one at a time,
/// in arrival order, by a task that runs only while some wait — an idle socket holds no
/// task. Past `limit` waiting, the connection stops reading until they are half done.
final class EngineInbox: Sendable {
    enum Item: Sendable {
        /// The session is new: the handler hears of it before its first packet.
        case opened
        case packet(EnginePacket)
    }

    private let engine: EngineServer
    private let session: EngineSession
    /// The connection's event loop: the engine's handling runs there, and so do the
    /// application's handlers between their awaits — no hop to the task pool and back per
    /// packet (what they await elsewhere comes back to the loop).
    private let executor: EventLoopTaskExecutor
    private let limit: Int
    /// Called (off the event loop) when reading may go on after a pause.
    private let resumeReading: @Sendable () -> Void
    private let state = Mutex<State>(State())

    private struct State {
        /// Rarely more than one: an array allocates nothing while empty.
        var items: [Item] = []
        var running = false
        var paused = false
        /// Run once nothing waits and nothing is being handled.
        var whenIdle: [@Sendable () -> Void] = []
    }

    init(engine: EngineServer, session: EngineSession, eventLoop: any EventLoop, limit: Int = 64,
         resumeReading: @escaping @Sendable () -> Void) {
        self.engine = engine
        self.session = session
        executor = EventLoopTaskExecutor(eventLoop)
        self.limit = limit
        self.resumeReading = resumeReading
    }

    /// Queues `item`; true when the connection should stop reading for now.
    func push(_ item: Item) -> Bool {
        let (start, pause) = state.withLock { s in
            s.items.append(item)
            let pause = !s.paused && s.items.count >= limit
            if pause { s.paused = true }
            defer { s.running = true }
            return (!s.running, pause)
        }
        if start { Task(executorPreference: executor) { await self.drain() } }
        return pause
    }

    private func drain() async {
        while let item = next() {
            switch item {
            case .opened:
                await engine.handler.engineOpened(session)
            case .packet(let packet):
                guard await engine.receive(packet, on: session), !session.isClosed else {
                    stop()
                    return
                }
            }
        }
    }

    /// Runs `body` once every packet queued so far has been handled (at once if none is).
    func whenIdle(_ body: @escaping @Sendable () -> Void) {
        let now = state.withLock { s in
            guard s.running else { return true }
            s.whenIdle.append(body)
            return false
        }
        if now { body() }
    }

    private func next() -> Item? {
        let (item, resume, idle): (Item?, Bool, [@Sendable () -> Void]) = state.withLock { s in
            guard !s.items.isEmpty else {
                s.running = false
                defer { s.whenIdle = [] }
                return (nil, false, s.whenIdle)
            }
            let item = s.items.removeFirst()
            guard s.paused, s.items.count <= limit / 2 else { return (item, false, []) }
            s.paused = false
            return (item, true, [])
        }
        if resume { resumeReading() }
        for body in idle { body() }
        return item
    }

    /// The session is over: what is left is dropped.
    private func stop() {
        let idle = state.withLock { s in
            s.items.removeAll()
            s.running = false
            defer { s.whenIdle = [] }
            return s.whenIdle
        }
        for body in idle { body() }
    }
}

/// Runs tasks that prefer it on one event loop (jobs are queued with `execute`).
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
