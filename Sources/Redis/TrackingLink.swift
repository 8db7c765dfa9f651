/// The tracking connection's conversation with Redis, as a state machine whose transitions
/// return what to do (the channel handler only carries it out): name itself, learn its id,
/// ask Redis to track the prefixes in broadcast mode with the invalidations sent to itself
/// (RESP2 delivers them as pub/sub messages), subscribe to them, then hear them. Every
/// `heartbeat` it pings; silent for `silenceLimit`, it is given up, because a connection
/// that hears nothing may be missing invalidations.
struct TrackingLink {
    static let channel = "__redis__:invalidate"

    enum Phase: Equatable { case naming, identifying, enablingTracking, subscribing, live, failed }

    enum Action: Equatable {
        case send([String])
        /// Subscribed: every change under the prefixes is heard from now on.
        case up
        case invalidate([String])
        case invalidateAll
        /// Redis refused or said something this conversation never expects: close the connection.
        case close(reason: String)
        case nothing
    }

    let prefixes: [String]
    let name: String
    let heartbeat: Duration
    let silenceLimit: Duration
    private(set) var phase = Phase.naming
    private var lastHeard: ContinuousClock.Instant

    init(prefixes: [String], name: String, heartbeat: Duration = .seconds(1), silenceLimit: Duration = .seconds(3), now: ContinuousClock.Instant) {
        self.prefixes = prefixes
        self.name = name
        self.heartbeat = heartbeat
        self.silenceLimit = silenceLimit
        lastHeard = now
    }

    /// What to send once connected.
    func start() -> Action { .send(["CLIENT", "SETNAME", name]) }

    mutating func receive(_ value: RedisValue, now: ContinuousClock.Instant) -> Action {
        lastHeard = now
        if case .error(let message) = value {
            defer { phase = .failed }
            return .close(reason: "Redis refused while \(phase): \(message)")
        }
        switch phase {
        case .naming where value == .status("OK"):
            phase = .identifying
            return .send(["CLIENT", "ID"])
        case .identifying:
            guard let id = value.integer else { break }
            phase = .enablingTracking
            return .send(["CLIENT", "TRACKING", "ON", "REDIRECT", String(id), "BCAST"] + prefixes.flatMap { ["PREFIX", $0] })
        case .enablingTracking where value == .status("OK"):
            phase = .subscribing
            return .send(["SUBSCRIBE", Self.channel])
        case .subscribing:
            guard case .array(let parts) = value, parts.first?.string == "subscribe" else { break }
            phase = .live
            return .up
        case .live:
            guard case .array(let parts) = value, let kind = parts.first?.string else { break }
            if kind == "pong" { return .nothing }
            guard kind == "message", parts.count == 3, parts[1].string == Self.channel else { break }
            switch parts[2] {
            case .array(let keys): return .invalidate(keys.compactMap(\.string))
            case .null: return .invalidateAll
            default: break
            }
        case .naming, .enablingTracking, .failed:
            break
        }
        defer { phase = .failed }
        return .close(reason: "unexpected reply while \(phase): \(value)")
    }

    /// Every `heartbeat`: a ping while live, or the end of a connection that has gone silent
    /// (or never got through its set-up).
    mutating func tick(now: ContinuousClock.Instant) -> Action {
        guard now - lastHeard < silenceLimit else {
            phase = .failed
            return .close(reason: "nothing heard for \(silenceLimit)")
        }
        return phase == .live ? .send(["PING"]) : .nothing
    }
}
