import NIOHTTP1

/// One client connection's life as a value: which request is in progress, which parts wait
/// behind it, why the connection's reads are stopped, and when its deadline passes. Each
/// transition returns what to do; `ClientHandler` only does it. Time comes in as an
/// argument, so all of it is tested without sockets or clocks.
///
/// Why a client cannot queue without bound: a part is queued only while another request is
/// in progress, and the first queued part stops the connection's reads (`ReadGate.pipelined`)
/// until the queue is empty again; no other reason's end reopens them meanwhile. So the
/// queue holds at most what the HTTP decoder had already taken from the socket when reads
/// stopped, which is one read's worth (the receive allocator's largest buffer).
struct ClientConnectionState<Request: AnyObject> {
    enum Phase {
        /// Waiting for a request head, under the header deadline.
        case idle
        /// A request is on its way through an upstream.
        case proxying(Request)
        /// The gateway answered itself (or gave up on an upstream): the rest of the request's
        /// body is read and dropped.
        case answered
        /// A WebSocket tunnel: HTTP is over on this connection.
        case upgraded
        /// Nothing more is read or answered.
        case closed
    }

    /// Why the connection's reads are stopped; it reads while there is none. (Computed:
    /// a generic type holds no static stored property.)
    struct ReadGate: OptionSet, Sendable {
        let rawValue: UInt8
        /// A pipelined request waits until the one in progress is answered.
        static var pipelined: ReadGate { ReadGate(rawValue: 1 << 0) }
        /// The upstream cannot take the request's body as fast as it arrives.
        static var upstreamFull: ReadGate { ReadGate(rawValue: 1 << 1) }
        /// Body bytes arrive before an upstream connection can take them.
        static var upstreamPending: ReadGate { ReadGate(rawValue: 1 << 2) }
        /// What a request's upstream holds: over when that request is answered.
        static var exchange: ReadGate { [.upstreamFull, .upstreamPending] }
    }

    enum Deadline: Equatable, Sendable {
        /// The next request head (slow or idle clients lose their connection, not our memory).
        case requestHead
        /// The upstream's response head.
        case response
    }

    enum Received {
        /// Handle the part now.
        case process
        /// Queued behind the request in progress.
        case queued
        /// After an upgrade or a close: no HTTP part means anything any more.
        case dropped
    }

    enum Queued {
        case process(HTTPServerRequestPart)
        /// The next part is a request head and a request is in progress.
        case wait
        /// Nothing waits any more; `resumeReading`: a read the gate held is due now.
        case empty(resumeReading: Bool)
    }

    enum TimerFired: Equatable {
        case nothing
        /// The deadline moved later meanwhile: the timer is due again then.
        case rearm(at: Double)
        case passed(Deadline)
    }

    private(set) var phase = Phase.idle
    private(set) var gate: ReadGate = []
    /// The channel asked to read while the gate was shut: that read happens when it opens.
    private var heldRead = false
    /// Whether the connection stays open after the request in progress.
    private(set) var keepAlive = true
    /// The gateway is shutting down: no request after the one in progress.
    private(set) var draining = false
    /// The upstream's reads are paused for a client that cannot take more.
    private(set) var upstreamPaused = false
    private var queued: [HTTPServerRequestPart] = []
    private var queueStart = 0
    private(set) var deadline: (kind: Deadline, at: Double)?
    /// When the connection's one timer is due. A later deadline reuses it (it fires early and
    /// is armed again for the rest), so a busy keep-alive connection costs about one timer
    /// event per timeout period, not a schedule and a cancel per request.
    private var timerDue: Double?

    var request: Request? {
        if case .proxying(let request) = phase { return request }
        return nil
    }

    var isIdle: Bool {
        if case .idle = phase { return true }
        return false
    }

    var queuedCount: Int { queued.count - queueStart }

    // MARK: reads

    /// A request part came from the decoder.
    mutating func received(_ part: HTTPServerRequestPart) -> Received {
        switch phase {
        case .upgraded, .closed: return .dropped
        case .idle, .proxying, .answered: break
        }
        if queuedCount > 0 || (part.isHead && !isIdle) {
            queued.append(part)
            gate.insert(.pipelined)
            return .queued
        }
        return .process
    }

    /// The channel asks to read: true if it may now, else the read waits for the gate.
    mutating func readRequested() -> Bool {
        if gate.isEmpty { return true }
        heldRead = true
        return false
    }

    /// Stops reads for `reason` (from the channel's next read on).
    mutating func shut(_ reason: ReadGate) {
        gate.formUnion(reason)
    }

    /// `reason` is over: true if a held read is due now (no other reason remains).
    mutating func open(_ reason: ReadGate) -> Bool {
        gate.subtract(reason)
        guard gate.isEmpty, heldRead else { return false }
        heldRead = false
        return true
    }

    /// The next part that waited, as long as it can be handled now.
    mutating func nextQueued() -> Queued {
        switch phase {
        case .upgraded, .closed: return .wait
        case .idle, .proxying, .answered: break
        }
        guard queueStart < queued.count else {
            queued = []
            queueStart = 0
            return .empty(resumeReading: open(.pipelined))
        }
        let part = queued[queueStart]
        if part.isHead && !isIdle { return .wait }
        queueStart += 1
        return .process(part)
    }

    // MARK: one request

    /// A head was read and will be proxied; `keepAlive` is what the client asked for.
    mutating func proxying(_ request: Request, keepAlive: Bool) {
        deadline = nil
        phase = .proxying(request)
        self.keepAlive = self.keepAlive && keepAlive && !draining
        upstreamPaused = false
    }

    /// The gateway answers the request itself (a head it did not forward, or an upstream's
    /// failure), or the response ended before the request: what is left of the body is read
    /// and dropped. `keepAlive: false` closes after it. True: a read the gate held is due now
    /// (no upstream holds reads back any more).
    mutating func answering(keepAlive: Bool) -> Bool {
        deadline = nil
        phase = .answered
        self.keepAlive = self.keepAlive && keepAlive && !draining
        upstreamPaused = false
        return open(.exchange)
    }

    /// The connection closes after the request in progress (the response ends at the
    /// upstream's close, or a drain began).
    mutating func closeAfterRequest() {
        keepAlive = false
    }

    /// The request in progress has its answer and its whole body. `schedule`: where the
    /// timer must be armed for the next head (nil: the one armed serves); `close`: the
    /// connection ends here instead.
    mutating func requestDone(now: Double, headerTimeout: Double) -> (close: Bool, schedule: Double?) {
        // Replaying what waited reopens reads, if anything held them.
        gate.subtract(.exchange)
        upstreamPaused = false
        guard keepAlive, !isClosed else {
            phase = .closed
            return (true, nil)
        }
        phase = .idle
        return (false, setDeadline(.requestHead, at: now + headerTimeout))
    }

    /// The request became a WebSocket tunnel. True: a read the gate held is due now (the
    /// tunnel paces its reads itself from here).
    mutating func upgraded() -> Bool {
        phase = .upgraded
        deadline = nil
        queued = []
        queueStart = 0
        gate = []
        defer { heldRead = false }
        return heldRead
    }

    /// The connection closes (or has closed).
    mutating func closed() {
        phase = .closed
        deadline = nil
        queued = []
        queueStart = 0
    }

    private var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    /// The gateway drains. True: the connection is idle and closes now; otherwise the
    /// request in progress is answered with `Connection: close` and nothing after it is
    /// taken (pipelined requests go to another gateway when the client sends them again).
    mutating func quiesce() -> Bool {
        draining = true
        keepAlive = false
        guard isIdle else { return false }
        phase = .closed
        return true
    }

    // MARK: the upstream's pace

    /// The client's writability changed: whether the upstream's reads must pause or resume.
    mutating func clientWritable(_ writable: Bool) -> Bool? {
        guard request != nil, upstreamPaused == writable else { return nil }
        upstreamPaused = !writable
        return writable
    }

    // MARK: deadlines

    /// Sets the one deadline; returns where to arm the timer if the one armed is due later
    /// than it (or none is).
    mutating func setDeadline(_ kind: Deadline, at: Double) -> Double? {
        deadline = (kind, at)
        if let timerDue, timerDue <= at { return nil }
        timerDue = at
        return at
    }

    mutating func clearDeadline() {
        deadline = nil
    }

    /// The timer armed for `timerDue` fired.
    mutating func timerFired(now: Double) -> TimerFired {
        timerDue = nil
        guard let deadline else { return .nothing }
        guard now >= deadline.at else {
            timerDue = deadline.at
            return .rearm(at: deadline.at)
        }
        self.deadline = nil
        switch (deadline.kind, phase) {
        case (.requestHead, .idle):
            phase = .closed
            return .passed(.requestHead)
        case (.response, .proxying):
            return .passed(.response)
        default:
            return .nothing
        }
    }
}

extension HTTPServerRequestPart {
    var isHead: Bool {
        if case .head = self { return true }
        return false
    }
}
