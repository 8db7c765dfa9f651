import Synchronization

/// `rate` tokens a second, at most `burst` saved up; an event takes one. Time is passed in
/// (seconds on a monotonic clock), so the rules are tested without waiting.
struct TokenBucket: Sendable, Equatable {
    let rate: Double
    let burst: Double
    private(set) var tokens: Double
    private(set) var updated: Double

    init(rate: Double, burst: Double, now: Double) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        updated = now
    }

    /// Takes a token if there is one.
    mutating func take(now: Double) -> Bool {
        tokens = min(burst, tokens + max(0, now - updated) * rate)
        updated = max(updated, now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// How much a socket and a user may send (`CHAT_*` settings, see the README).
public struct FloodLimits: Sendable, Equatable {
    public var socketEventsPerSecond: Double
    public var socketEventBurst: Double
    /// All of a user's sockets on a replica together.
    public var userEventsPerSecond: Double
    public var userEventBurst: Double
    /// Sockets one user may have open on a replica at once.
    public var socketsPerUser: Int

    public init(socketEventsPerSecond: Double = 20, socketEventBurst: Double = 40, userEventsPerSecond: Double = 40,
                userEventBurst: Double = 80, socketsPerUser: Int = 20) {
        self.socketEventsPerSecond = socketEventsPerSecond
        self.socketEventBurst = socketEventBurst
        self.userEventsPerSecond = userEventsPerSecond
        self.userEventBurst = userEventBurst
        self.socketsPerUser = socketsPerUser
    }
}

/// The flood rules, pure: a bucket per socket and one per user (their sockets share it),
/// and a count of each user's sockets. What a replica knows: each replica limits its own.
struct FloodState: Sendable {
    let limits: FloodLimits
    private(set) var sockets: [String: TokenBucket] = [:]
    private(set) var users: [String: (bucket: TokenBucket, sockets: Int)] = [:]

    init(limits: FloodLimits) { self.limits = limits }

    /// Counts a new socket of `user` (at its CONNECT, so two at once cannot both take the
    /// last place), unless they have `socketsPerUser` already.
    mutating func admit(socket: String, user: String, now: Double) -> Bool {
        guard (users[user]?.sockets ?? 0) < limits.socketsPerUser else { return false }
        sockets[socket] = TokenBucket(rate: limits.socketEventsPerSecond, burst: limits.socketEventBurst, now: now)
        if users[user] == nil {
            users[user] = (TokenBucket(rate: limits.userEventsPerSecond, burst: limits.userEventBurst, now: now), 0)
        }
        users[user]!.sockets += 1
        return true
    }

    mutating func disconnected(socket: String, user: String) {
        guard sockets.removeValue(forKey: socket) != nil, let entry = users[user] else { return }
        // The user's bucket goes with their last socket: a reconnect starts full, as a new socket does.
        users[user] = entry.sockets <= 1 ? nil : (entry.bucket, entry.sockets - 1)
    }

    /// An event from `socket` of `user`: allowed when both the socket's and the user's bucket have a token.
    mutating func allows(socket: String, user: String, now: Double) -> Bool {
        guard sockets[socket]?.take(now: now) == true else { return false }
        return users[user]?.bucket.take(now: now) == true
    }
}

/// The flood rules and the typing throttle behind locks, on the monotonic clock.
final class SocketLimits: Sendable {
    private let state: Mutex<FloodState>
    private let typing: Mutex<TypingThrottle>
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    init(limits: FloodLimits, typingInterval: Duration) {
        state = Mutex(FloodState(limits: limits))
        typing = Mutex(TypingThrottle(interval: typingInterval.seconds))
        start = clock.now
    }

    private var now: Double { (clock.now - start).seconds }

    func admit(socket: String, user: String) -> Bool { let now = self.now; return state.withLock { $0.admit(socket: socket, user: user, now: now) } }
    func disconnected(socket: String, user: String) { state.withLock { $0.disconnected(socket: socket, user: user) } }
    func allows(socket: String, user: String) -> Bool { let now = self.now; return state.withLock { $0.allows(socket: socket, user: user, now: now) } }
    func relaysTypingStart(user: String, chat: String) -> Bool { let now = self.now; return typing.withLock { $0.relaysStart(user: user, chat: chat, now: now) } }
    func relaysTypingStop(user: String, chat: String) -> Bool { typing.withLock { $0.relaysStop(user: user, chat: chat) } }
}

/// Typing indicators relayed at most once per `interval` per user and chat; a stop is relayed
/// only after a start was (and lets the next start through at once). Pure, time passed in.
struct TypingThrottle: Sendable {
    let interval: Double
    /// When each (user, chat)'s last start was relayed.
    private(set) var relayed: [String: Double] = [:]
    /// Past this many entries, the stale ones go (a user who stops typing without saying so).
    static let pruneAbove = 10_000

    init(interval: Double) { self.interval = interval }

    private static func key(_ user: String, _ chat: String) -> String { "\(user)|\(chat)" }

    mutating func relaysStart(user: String, chat: String, now: Double) -> Bool {
        let key = Self.key(user, chat)
        if let last = relayed[key], now - last < interval { return false }
        if relayed.count >= Self.pruneAbove { relayed = relayed.filter { now - $0.value < interval } }
        relayed[key] = now
        return true
    }

    mutating func relaysStop(user: String, chat: String) -> Bool {
        relayed.removeValue(forKey: Self.key(user, chat)) != nil
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
