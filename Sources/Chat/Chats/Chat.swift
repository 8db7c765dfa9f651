import BSON
import Foundation

/// A conversation: two connected users (`direct`) or a named group with admins.
public struct Chat: Codable, Sendable, Equatable {
    public var _id: ObjectId
    public var chatType: ChatType
    public var name: String?
    public var participants: [String]
    public var admins: [String]
    /// The sorted pair of a direct chat: unique, so two racing creates make one chat.
    public var directKey: String?
    public var lastMessage: LastMessage?
    public var createdAt: Date
    public var updatedAt: Date
    /// Each member's read marker: they have read every message created up to it. One
    /// field per member, however many messages (a message's `readBy` is computed from them).
    public var readMarkers: [String: Date]? = nil

    public enum ChatType: String, Codable, Sendable { case direct, group }
}

public struct LastMessage: Codable, Sendable, Equatable {
    public var messageId: String
    public var senderId: String
    public var text: String
    public var createdAt: Date

    public init(messageId: String, senderId: String, text: String, createdAt: Date) {
        self.messageId = messageId
        self.senderId = senderId
        self.text = text
        self.createdAt = createdAt
    }

    public init(_ message: Message) {
        self.init(messageId: message._id.hex, senderId: message.senderId, text: message.text, createdAt: message.createdAt)
    }
}

/// Two users whose invite was accepted: the precondition of a direct chat.
public struct Connection: Codable, Sendable, Equatable {
    /// `Connection.key(user1, user2)`.
    public var _id: String
    public var user1: String
    public var user2: String
    public var createdAt: Date

    public static func key(_ a: String, _ b: String) -> String { a < b ? "\(a)|\(b)" : "\(b)|\(a)" }
}

/// A chat as clients see it: the reference's fields (`_id`; `lastMessage` the last
/// message's id, as its model held it), plus `id` and `lastMessagePreview` (who said what,
/// when) so a chat list needs no second request.
public struct ChatView: Codable, Sendable, Equatable {
    public var id: String
    public var _id: String
    public var chatType: Chat.ChatType
    public var name: String?
    public var participants: [String]
    public var admins: [String]
    public var lastMessage: String?
    public var lastMessagePreview: LastMessage?
    public var createdAt: Date
    public var updatedAt: Date
    /// Messages from others after the caller's read marker (`GET /my-chats` only).
    public var unreadCount: Int?

    public init(_ chat: Chat, unreadCount: Int? = nil) {
        id = chat._id.hex
        _id = chat._id.hex
        chatType = chat.chatType
        name = chat.name
        participants = chat.participants
        admins = chat.admins
        lastMessage = chat.lastMessage?.messageId
        lastMessagePreview = chat.lastMessage
        createdAt = chat.createdAt
        updatedAt = chat.updatedAt
        self.unreadCount = unreadCount
    }

    /// Absent values are `null`, not missing keys (the reference's documents had every field).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(_id, forKey: ._id)
        try c.encode(chatType, forKey: .chatType)
        try c.encode(name, forKey: .name)
        try c.encode(participants, forKey: .participants)
        try c.encode(admins, forKey: .admins)
        try c.encode(lastMessage, forKey: .lastMessage)
        try c.encode(lastMessagePreview, forKey: .lastMessagePreview)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encodeIfPresent(unreadCount, forKey: .unreadCount)
    }
}
