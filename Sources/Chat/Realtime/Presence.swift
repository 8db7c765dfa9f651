import Foundation
import Logging
import Redis
import ServiceKit
import ServiceLifecycle
import Synchronization

/// A replica's own sockets per user, pure: the first socket of a user here makes them
/// present on this replica, the last one closing makes them absent (tabs count as one).
struct LocalPresence: Sendable, Equatable {
    enum Change: Sendable, Equatable {
        case arrived(String)
        case departed(String)
    }

    private(set) var sockets: [String: Int] = [:]

    mutating func opened(user: String) -> Change? {
        sockets[user, default: 0] += 1
        return sockets[user] == 1 ? .arrived(user) : nil
    }

    mutating func closed(user: String) -> Change? {
        guard let count = sockets[user] else { return nil }
        guard count > 1 else {
            sockets[user] = nil
            return .departed(user)
        }
        sockets[user] = count - 1
        return nil
    }
}

/// Who is online, across replicas, kept in Redis: per user a hash of the replicas where
/// they have sockets (`presence:v1:user:<id>`), per replica the set of its users
/// (`presence:v1:replica:<id>`) and a heartbeat (`presence:v1:replicas`, a sorted set by
/// time). A user comes online when their first replica is added and goes offline when
/// their last is removed (each a Lua script, so two replicas cannot both see it); then
/// their contacts and fellow chat members hear `presence {userId, online}` on every
/// replica. A replica whose heartbeat stops for `deadAfter` is swept by the others: its
/// users leave as if their sockets had closed. A `Service`: changes are carried out in
/// order by `run()`, off the sockets' path.
final class Presence: Service, Sendable {
    static let prefix = "presence:v1:"
    static let replicasKey = prefix + "replicas"
    static func userKey(_ user: String) -> String { prefix + "user:" + user }
    static func replicaKey(_ replica: String) -> String { prefix + "replica:" + replica }

    /// Adds the replica to the user's hash; 1 when it was the first.
    static let arriveScript = """
        local before = redis.call('HLEN', KEYS[1])
        redis.call('HSET', KEYS[1], ARGV[1], 1)
        redis.call('SADD', KEYS[2], ARGV[2])
        if before == 0 then return 1 else return 0 end
        """
    /// Removes the replica from the user's hash; 1 when this removed the last.
    static let departScript = """
        local removed = redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('SREM', KEYS[2], ARGV[2])
        if removed == 1 and redis.call('HLEN', KEYS[1]) == 0 then return 1 else return 0 end
        """

    let replicaId: String
    private let redis: RedisClient
    private let audience: @Sendable (String) async throws -> Set<String>
    private let announce: @Sendable (_ userId: String, _ online: Bool, _ audience: [String]) -> Void
    let heartbeat: Duration
    let deadAfter: Duration
    private let logger: Logger
    private let warn: ThrottledWarning
    private let local = Mutex(LocalPresence())
    /// Changes in order per user, several users at once: a replica's restart brings all its
    /// users back within seconds, each change a few round trips.
    private let lanes: [(queued: AsyncStream<LocalPresence.Change>, changes: AsyncStream<LocalPresence.Change>.Continuation)]
    static let laneCount = 8

    /// `audience`: who hears about a user (their contacts and fellow chat members);
    /// `announce`: tells them, on every replica.
    init(replicaId: String, redis: RedisClient, heartbeat: Duration, deadAfter: Duration, logger: Logger,
         audience: @escaping @Sendable (String) async throws -> Set<String>,
         announce: @escaping @Sendable (_ userId: String, _ online: Bool, _ audience: [String]) -> Void) {
        self.replicaId = replicaId
        self.redis = redis
        self.audience = audience
        self.announce = announce
        self.heartbeat = heartbeat
        self.deadAfter = deadAfter
        self.logger = logger
        warn = ThrottledWarning(logger: logger)
        lanes = (0..<Self.laneCount).map { _ in AsyncStream<LocalPresence.Change>.makeStream() }.map { ($0.stream, $0.continuation) }
    }

    /// A user's changes always take the same lane, so they stay in order.
    private func lane(_ user: String) -> AsyncStream<LocalPresence.Change>.Continuation {
        lanes[Int(user.utf8.reduce(UInt32(0)) { $0 &* 31 &+ UInt32($1) } % UInt32(Self.laneCount))].changes
    }

    func socketOpened(user: String) {
        if let change = local.withLock({ $0.opened(user: user) }) { lane(user).yield(change) }
    }

    func socketClosed(user: String) {
        if let change = local.withLock({ $0.closed(user: user) }) { lane(user).yield(change) }
    }

    /// Which of `users` have a socket on some replica.
    func online(_ users: [String]) async throws -> [String: Bool] {
        guard !users.isEmpty else { return [:] }
        let replies = try await redis.pipeline(users.map { ["EXISTS", Self.userKey($0)] })
        return Dictionary(uniqueKeysWithValues: zip(users, replies.map { ($0.integer ?? 0) > 0 }))
    }

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for (queued, _) in lanes {
                group.addTask { [self] in
                    for await change in queued { await apply(change, replica: replicaId) }
                }
            }
            group.addTask { [self] in
                while !Task.isShuttingDownGracefully, !Task.isCancelled {
                    await beat()
                    try? await cancelWhenGracefulShutdown { [heartbeat] in try await Task.sleep(for: heartbeat) }
                }
            }
            try? await gracefulShutdown()
            // The sockets are gone by now (the engine stops first): what is left leaves too.
            for user in local.withLock({ Array($0.sockets.keys) }) { lane(user).yield(.departed(user)) }
            for (_, changes) in lanes { changes.finish() }
            await group.waitForAll()
        }
        _ = try? await redis.command("ZREM", Self.replicasKey, replicaId)
    }

    /// Carries out one change; announces a user coming online or going offline everywhere.
    private func apply(_ change: LocalPresence.Change, replica: String) async {
        let (user, arriving) = switch change {
        case .arrived(let user): (user, true)
        case .departed(let user): (user, false)
        }
        do {
            let reply = try await redis.command("EVAL", arriving ? Self.arriveScript : Self.departScript, 2,
                                                Self.userKey(user), Self.replicaKey(replica), replica, user)
            guard reply.integer == 1 else { return }
            announce(user, arriving, Array(try await audience(user)))
        } catch {
            warn("presence of a user not updated: \(error)")
        }
    }

    /// This replica's heartbeat, and the sweep of replicas whose heartbeat stopped.
    private func beat() async {
        let now = Int(Date().timeIntervalSince1970 * 1000)
        do {
            _ = try await redis.command("ZADD", Self.replicasKey, now, replicaId)
            let cutoff = now - Int(deadAfter.seconds * 1000)
            let dead = try await redis.command("ZRANGEBYSCORE", Self.replicasKey, "-inf", "(\(cutoff)")
            for case .bulk(let bytes) in dead.array ?? [] {
                let replica = String(decoding: bytes, as: UTF8.self)
                guard replica != replicaId else { continue }
                let users = try await redis.command("SMEMBERS", Self.replicaKey(replica))
                for user in (users.array ?? []).compactMap(\.string) { await apply(.departed(user), replica: replica) }
                _ = try await redis.pipeline([["DEL", Self.replicaKey(replica)], ["ZREM", Self.replicasKey, replica]])
                logger.warning("a chat replica stopped beating: its users left", metadata: ["replica": "\(replica)", "users": "\(users.array?.count ?? 0)"])
            }
        } catch {
            warn("presence heartbeat failed: \(error)")
        }
    }
}
