import BSON
import Foundation
import Logging
import Mongo

/// Chats, their messages, and who is connected to whom.
public protocol ChatStore: Sendable {
    func connect(_ a: String, _ b: String, now: Date, session: MongoSession?) async throws
    func areConnected(_ a: String, _ b: String) async throws -> Bool

    /// The direct chat of two users, made if there is none (one chat however many race);
    /// `created` when this call made it.
    func directChat(between a: String, and b: String, now: Date) async throws -> (chat: Chat, created: Bool)
    func createGroup(name: String, creator: String, members: [String], now: Date) async throws -> Chat
    func chat(id: ObjectId) async throws -> Chat?
    /// The user's chats, most recently active first.
    func chats(of userId: String) async throws -> [Chat]
    /// Nil unless `admin` is an admin of the group.
    func addToGroup(chatId: ObjectId, admin: String, userIds: [String], now: Date) async throws -> Chat?
    func removeFromGroup(chatId: ObjectId, admin: String, userId: String, now: Date) async throws -> Chat?
    func leave(chatId: ObjectId, userId: String, now: Date) async throws -> LeaveOutcome

    func add(_ message: Message) async throws
    /// Newest first, written before the message `before` when given.
    func messages(chatId: String, before: ObjectId?, limit: Int) async throws -> [Message]
    /// In the history's order, those of `chatIds` after (`after`, `id`): what a recovered socket missed.
    func messages(in chatIds: [String], after: Date, id: ObjectId, limit: Int) async throws -> [Message]
    /// Moves the member's read marker up to the chat's newest message: the marker, when it moved.
    func markRead(chatId: String, userId: String) async throws -> Date?
    /// Per chat, the messages from others after `userId`'s read marker (counted up to 10,000 in all).
    func unreadCounts(of userId: String, in chats: [Chat]) async throws -> [String: Int]
    /// The message a file was sent with.
    func message(fileId: String) async throws -> Message?
    func message(id: ObjectId, chatId: String) async throws -> Message?
    /// The sender's message with its new text (the chat's preview too, if it is the newest);
    /// nil when the chat has no such message of theirs.
    func editMessage(id: ObjectId, chatId: String, senderId: String, text: String, now: Date) async throws -> Message?
    /// Removes the sender's message (the chat's preview falls back to the newest one left);
    /// the message removed, nil when the chat has no such message of theirs.
    func deleteMessage(id: ObjectId, chatId: String, senderId: String) async throws -> Message?

    /// Who hears of a user's presence: their connections and fellow members of their chats.
    func audience(of userId: String) async throws -> Set<String>

    /// Takes a deleted account out of every chat and connection; the chats it was in.
    func forget(userId: String, session: MongoSession?) async throws -> [String]
}

public enum LeaveOutcome: Sendable, Equatable {
    case notMember
    case left(Chat)
    /// The last participant left: the group is gone.
    case deleted
}

public struct MongoChatStore: ChatStore {
    let chats: MongoCollection<Chat>
    let messages: MongoCollection<Message>
    let connections: MongoCollection<Connection>
    /// The same collections, for reads of a few fields.
    let chatIds: MongoCollection<BSONDocument>
    let messageChatIds: MongoCollection<BSONDocument>

    /// The chats' newest messages, written after them: list it among the services.
    public let recentActivity: RecentActivity

    public init(database: MongoDatabase, logger: Logger) {
        chats = database.collection("chats")
        recentActivity = RecentActivity(chats: chats, logger: logger)
        chatIds = database.collection("chats")
        messages = database.collection("messages")
        messageChatIds = database.collection("messages")
        connections = database.collection("connections")
    }

    public func prepare() async throws {
        try await chats.createIndexes([Index("directKey", unique: true), Index([("participants", .ascending), ("updatedAt", .descending)])])
        try await messages.createIndexes([Index([("chatId", .ascending), ("createdAt", .descending), ("_id", .descending)]), Index("file.fileId")])
        try await connections.createIndexes([Index("user1"), Index("user2")])
    }

    // MARK: connections

    public func connect(_ a: String, _ b: String, now: Date, session: MongoSession?) async throws {
        let (user1, user2) = a < b ? (a, b) : (b, a)
        let update = Update().setOnInsert("user1", user1).setOnInsert("user2", user2).setOnInsert("createdAt", now)
        _ = try await connections.updateOne(.eq("_id", Connection.key(a, b)), update, upsert: true, session: session)
    }

    public func areConnected(_ a: String, _ b: String) async throws -> Bool {
        try await connections.count(.eq("_id", Connection.key(a, b))) > 0
    }

    // MARK: chats

    public func directChat(between a: String, and b: String, now: Date) async throws -> (chat: Chat, created: Bool) {
        let key = Connection.key(a, b)
        let fresh = Chat(_id: ObjectId(), chatType: .direct, name: nil, participants: [a, b].sorted(), admins: [], directKey: key,
                         lastMessage: nil, createdAt: now, updatedAt: now)
        let fields = try BSONEncoder().encode(fresh)
        do {
            if let chat = try await chats.findOneAndUpdate(.eq("directKey", key), Update().setOnInsert(fields), upsert: true) {
                return (chat, chat._id == fresh._id)
            }
        } catch MongoError.duplicateKey {
            // Two upserts raced and the other inserted first: read its chat.
        }
        guard let chat = try await chats.findOne(.eq("directKey", key)) else { throw MongoError.unavailable(message: "the direct chat was not found after its upsert") }
        return (chat, false)
    }

    public func createGroup(name: String, creator: String, members: [String], now: Date) async throws -> Chat {
        let id = ObjectId()
        var participants = [creator]
        for member in members where !participants.contains(member) { participants.append(member) }
        // Groups get a key of their own so the unique index on direct pairs leaves them be.
        let chat = Chat(_id: id, chatType: .group, name: name, participants: participants, admins: [creator], directKey: "group:\(id.hex)",
                        lastMessage: nil, createdAt: now, updatedAt: now)
        try await chats.insert(chat)
        return chat
    }

    /// The chat document as stored (its participants and type; `lastMessage` may trail by
    /// `RecentActivity`'s interval — the chat list is what shows it).
    public func chat(id: ObjectId) async throws -> Chat? { try await chats.findOne(.eq("_id", id)) }

    public func chats(of userId: String) async throws -> [Chat] {
        let found = try await chats.findAll(.eq("participants", userId), options: FindOptions(sort: [("updatedAt", .descending)], limit: 500))
        // A chat with a message not written to it yet moves up to where it will be.
        return try await withNewestMessages(found).enumerated()
            .sorted { ($0.element.updatedAt, -$0.offset) > ($1.element.updatedAt, -$1.offset) }.map(\.element)
    }

    /// The chats with their newest messages: what `RecentActivity` (here or on another
    /// replica) has not written to them yet is among the last seconds' messages, one read.
    private func withNewestMessages(_ found: [Chat]) async throws -> [Chat] {
        guard !found.isEmpty else { return found }
        let since = Date().addingTimeInterval(-RecentActivity.readWindow)
        let recent = try await messages.findAll(
            .in("chatId", found.map(\._id.hex)) && .gt("createdAt", since),
            options: FindOptions(sort: [("createdAt", .descending), ("_id", .descending)], limit: 1000))
        var newest: [String: LastMessage] = [:]
        for message in recent where newest[message.chatId] == nil { newest[message.chatId] = LastMessage(message) }
        return found.map { recentActivity.overlay($0, seen: newest[$0._id.hex]) }
    }

    public func addToGroup(chatId: ObjectId, admin: String, userIds: [String], now: Date) async throws -> Chat? {
        var result: Chat?
        for userId in userIds {
            result = try await chats.findOneAndUpdate(
                Self.groupAdministeredBy(admin, chatId), Update.addToSet("participants", userId).set("updatedAt", now))
            if result == nil { return nil }
        }
        return result.map { recentActivity.overlay($0) }
    }

    public func removeFromGroup(chatId: ObjectId, admin: String, userId: String, now: Date) async throws -> Chat? {
        try await chats.findOneAndUpdate(
            Self.groupAdministeredBy(admin, chatId), Update.pull("participants", userId).pull("admins", userId).set("updatedAt", now))
            .map { recentActivity.overlay($0) }
    }

    public func leave(chatId: ObjectId, userId: String, now: Date) async throws -> LeaveOutcome {
        let member: Filter = .eq("_id", chatId) && .eq("chatType", Chat.ChatType.group.rawValue) && .eq("participants", userId)
        guard var chat = try await chats.findOneAndUpdate(member, Update.pull("participants", userId).pull("admins", userId).set("updatedAt", now)) else {
            return .notMember
        }
        if chat.participants.isEmpty {
            try await chats.deleteOne(.eq("_id", chatId) && .eq("participants", [String]()))
            try await messages.deleteMany(.eq("chatId", chatId.hex))
            return .deleted
        }
        if chat.admins.isEmpty, let heir = chat.participants.first {
            // The last admin left: the longest-standing participant takes over.
            chat = try await chats.findOneAndUpdate(.eq("_id", chatId) && .eq("admins", [String]()), Update.addToSet("admins", heir)) ?? chat
        }
        return .left(recentActivity.overlay(chat))
    }

    static func groupAdministeredBy(_ admin: String, _ chatId: ObjectId) -> Filter {
        .eq("_id", chatId) && .eq("chatType", Chat.ChatType.group.rawValue) && .eq("admins", admin)
    }

    // MARK: messages

    /// One write: the message. The chat's preview and order follow (`RecentActivity`).
    public func add(_ message: Message) async throws {
        try await messages.insert(message)
        guard let chatId = ObjectId(message.chatId) else { return }
        recentActivity.record(chatId: chatId, LastMessage(message))
    }

    /// In the order they were written: by `createdAt`, then id. (Ids alone do not order
    /// them: replicas make ids apart, and two made in one second sort by chance.)
    public func messages(chatId: String, before: ObjectId?, limit: Int) async throws -> [Message] {
        var filter: Filter = .eq("chatId", chatId)
        if let before {
            if let anchor = try await messages.findOne(.eq("_id", before) && .eq("chatId", chatId)) {
                filter = filter && (.lt("createdAt", anchor.createdAt) || (.eq("createdAt", anchor.createdAt) && .lt("_id", before)))
            } else {
                filter = filter && .lt("_id", before)  // a cursor whose message is gone: its id is the best guess
            }
        }
        return try await messages.findAll(filter, options: FindOptions(sort: [("createdAt", .descending), ("_id", .descending)], limit: limit))
    }

    public func messages(in chatIds: [String], after: Date, id: ObjectId, limit: Int) async throws -> [Message] {
        let later: Filter = .gt("createdAt", after) || (.eq("createdAt", after) && .gt("_id", id))
        return try await messages.findAll(.in("chatId", chatIds) && later, options: FindOptions(sort: [("createdAt", .ascending), ("_id", .ascending)], limit: limit))
    }

    public func markRead(chatId: String, userId: String) async throws -> Date? {
        // A user id names a field: only ids (24 hex digits) ever do.
        guard let chat = ObjectId(chatId), ObjectId(userId) != nil,
              let newest = try await messages(chatId: chatId, before: nil, limit: 1).first else { return nil }
        // The newest message's own time, not this replica's clock: exact whatever the clocks say.
        let field = "readMarkers.\(userId)"
        let moved = try await chats.updateOne(.eq("_id", chat) && .eq("participants", userId) && (.exists(field, false) || .lt(field, newest.createdAt)),
                                              Update().max(field, newest.createdAt))
        return moved.modified > 0 ? newest.createdAt : nil
    }

    public static let unreadCountLimit = 10_000

    public func unreadCounts(of userId: String, in chats: [Chat]) async throws -> [String: Int] {
        let unread = chats.map { chat -> Filter in
            // `readBy` still holds the readers of messages from before the markers.
            let fromOthers: Filter = .eq("chatId", chat._id.hex) && .ne("senderId", userId) && .ne("readBy", userId)
            guard let marker = chat.readMarkers?[userId] else { return fromOthers }
            return fromOthers && .gt("createdAt", marker)
        }
        guard let first = unread.first else { return [:] }
        let found = try await messageChatIds.findAll(unread.dropFirst().reduce(first) { $0 || $1 },
                                                     options: FindOptions(limit: Self.unreadCountLimit, projection: ["chatId"]))
        var counts: [String: Int] = [:]
        for message in found { if let chatId = message["chatId"]?.stringValue { counts[chatId, default: 0] += 1 } }
        return counts
    }

    public func message(fileId: String) async throws -> Message? {
        try await messages.findOne(.eq("file.fileId", fileId))
    }

    public func message(id: ObjectId, chatId: String) async throws -> Message? {
        try await messages.findOne(.eq("_id", id) && .eq("chatId", chatId))
    }

    public func editMessage(id: ObjectId, chatId: String, senderId: String, text: String, now: Date) async throws -> Message? {
        let mine: Filter = .eq("_id", id) && .eq("chatId", chatId) && .eq("senderId", senderId)
        guard let edited = try await messages.findOneAndUpdate(mine, Update.set("text", text).set("editedAt", now)) else { return nil }
        guard let chat = ObjectId(chatId) else { return edited }
        recentActivity.edited(chatId: chat, LastMessage(edited))
        _ = try await chats.updateOne(.eq("_id", chat) && .eq("lastMessage.messageId", id.hex), Update.set("lastMessage.text", text))
        return edited
    }

    public func deleteMessage(id: ObjectId, chatId: String, senderId: String) async throws -> Message? {
        let mine: Filter = .eq("_id", id) && .eq("chatId", chatId) && .eq("senderId", senderId)
        guard let deleted = try await messages.findOneAndDelete(mine) else { return nil }
        guard let chat = ObjectId(chatId) else { return deleted }
        recentActivity.deleted(chatId: chat, messageId: id.hex)
        // Only where it was the preview: the newest message left takes its place.
        let update = try await messages(chatId: chatId, before: nil, limit: 1).first.map { Update.set("lastMessage", try BSONEncoder().encode(LastMessage($0))) }
            ?? Update.unset("lastMessage")
        _ = try await chats.updateOne(.eq("_id", chat) && .eq("lastMessage.messageId", id.hex), update)
        return deleted
    }

    public func audience(of userId: String) async throws -> Set<String> {
        // Two reads, each on its own index, rather than one $or.
        async let first = connections.findAll(.eq("user1", userId), options: FindOptions(limit: 10_000))
        async let second = connections.findAll(.eq("user2", userId), options: FindOptions(limit: 10_000))
        let shared = try await chatIds.findAll(.eq("participants", userId), options: FindOptions(limit: 1000, projection: ["participants"]))
        var users = Set(try await (first + second).flatMap { [$0.user1, $0.user2] })
        for chat in shared {
            guard case .array(let members)? = chat["participants"] else { continue }
            users.formUnion(members.compactMap(\.stringValue))
        }
        users.remove(userId)
        return users
    }

    // MARK: accounts

    public func forget(userId: String, session: MongoSession?) async throws -> [String] {
        let affected = try await chatIds.findAll(.eq("participants", userId), options: FindOptions(projection: ["_id"]))
        _ = try await chats.updateMany(.eq("participants", userId), Update.pull("participants", userId).pull("admins", userId), session: session)
        try await chats.deleteMany(.eq("participants", [String]()), session: session)
        try await connections.deleteMany(.eq("user1", userId) || .eq("user2", userId), session: session)
        return affected.compactMap { $0["_id"]?.objectIdValue?.hex }
    }
}
