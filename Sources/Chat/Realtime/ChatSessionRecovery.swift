import BSON
import Foundation
import Logging
import Redis
import ServiceKit
import SocketIO

/// Where a message stands in a chat's history, as clients carry it for recovery:
/// `<createdAt in ms>-<id>` — the history's own order (time, then id), so any replica can
/// find what came after it without a lookup.
struct MessageOffset: Sendable, Equatable {
    let millis: Int64
    let id: ObjectId

    init(millis: Int64, id: ObjectId) {
        self.millis = millis
        self.id = id
    }

    /// The time as MongoDB keeps it (whole milliseconds).
    init(_ message: MessageView) {
        self.init(millis: Int64(message.createdAt.timeIntervalSince1970 * 1000), id: ObjectId(message._id) ?? ObjectId())
    }

    init?(_ text: String) {
        let parts = text.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, parts[0].count <= 15, let millis = Int64(parts[0]), let id = ObjectId(String(parts[1])) else { return nil }
        self.init(millis: millis, id: id)
    }

    var text: String { "\(millis)-\(id.hex)" }
    var date: Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}

/// Connection state recovery for chat sockets, on whichever replica the client comes back
/// to: the session is kept in Redis for the window (`chat:v1:socket-session:<pid>`, taken
/// once), and the messages it missed are read from MongoDB — every message is stored — in
/// the chats it is still a participant of.
struct ChatSessionRecovery: SessionRecovery {
    static let keyPrefix = "chat:v1:socket-session:"
    /// More missed than this and the client starts afresh (and reads the history over REST).
    static let maxMissed = 1000

    let redis: RedisClient
    let store: any ChatStore
    let membership: Membership
    let windowSeconds: Int
    let logger: Logger

    func save(_ session: RecoverableSession) async {
        do {
            let json = try JSONEncoder().encode(session)
            _ = try await redis.set(Self.keyPrefix + session.pid, Array(json), expireSeconds: windowSeconds)
        } catch {
            logger.warning("a socket's session was not kept for recovery: \(error)")
        }
    }

    func restore(pid: String, offset: String) async -> (session: RecoverableSession, missed: [MissedBroadcast])? {
        guard pid.utf8.count <= 64, let after = MessageOffset(offset) else { return nil }
        do {
            guard let json = try await redis.command("GETDEL", Self.keyPrefix + pid).bytes,
                  var session = try? JSONDecoder().decode(RecoverableSession.self, from: Data(json)),
                  let userId = session.data["userId"] else { return nil }
            // Only the chats it may still hear: a member removed meanwhile gets none of theirs.
            var rooms: [String] = []
            var chatIds: [String] = []
            for room in session.rooms {
                guard room.hasPrefix("chat:") else { rooms.append(room); continue }
                let chatId = String(room.dropFirst("chat:".count))
                if try await membership.isParticipant(userId, of: chatId) {
                    rooms.append(room)
                    chatIds.append(chatId)
                }
            }
            session.rooms = rooms
            let missed = chatIds.isEmpty ? [] : try await store.messages(in: chatIds, after: after.date, id: after.id, limit: Self.maxMissed + 1)
            guard missed.count <= Self.maxMissed else { return nil }
            return (session, missed.map { message in
                let view = MessageView(message)
                return MissedBroadcast(arguments: [.string("receiveMessage"), view.json], offset: MessageOffset(view).text)
            })
        } catch {
            logger.warning("a socket's session was not recovered: \(error)")
            return nil
        }
    }
}
