import BSON
import Foundation

/// One message of a chat, stored before anyone is told of it.
public struct Message: Codable, Sendable, Equatable {
    public var _id: ObjectId
    public var chatId: String
    public var senderId: String
    public var text: String
    public var file: FileRef?
    public var readBy: [String]
    public var createdAt: Date
    /// When the sender last changed the text; nil if never.
    public var editedAt: Date?

    public init(_id: ObjectId, chatId: String, senderId: String, text: String, file: FileRef?, readBy: [String], createdAt: Date, editedAt: Date? = nil) {
        self._id = _id
        self.chatId = chatId
        self.senderId = senderId
        self.text = text
        self.file = file
        self.readBy = readBy
        self.createdAt = createdAt
        self.editedAt = editedAt
    }
}

/// A file sent in a chat, its bytes in GridFS.
public struct FileRef: Codable, Sendable, Equatable {
    public var fileId: String
    public var name: String
    /// What the file is served as: its sniffed type when that is a safe one, else
    /// application/octet-stream (always as an attachment).
    public var contentType: String
    /// The type the sender declared (what the reference stored and showed).
    public var mimeType: String?
    public var size: Int
}

/// A message as clients see it, in REST answers and Socket.IO events alike: the
/// reference's fields (`_id`, `updatedAt`, `file.name/mimeType/size`), plus `id` and
/// `file.url` — the bytes are fetched there, never carried in JSON.
public struct MessageView: Codable, Sendable, Equatable {
    public var id: String
    public var _id: String
    public var chatId: String
    public var senderId: String
    public var text: String
    public var file: FileView?
    public var readBy: [String]
    public var createdAt: Date
    /// Only on an edited message (`updatedAt` is then the same time).
    public var editedAt: Date?
    public var updatedAt: Date

    /// `readMarkers`: the chat's; whoever's marker reached the message has read it (besides
    /// those stored in the message itself: its sender, and readers from before the markers).
    public init(_ message: Message, readMarkers: [String: Date]? = nil) {
        id = message._id.hex
        _id = message._id.hex
        chatId = message.chatId
        senderId = message.senderId
        text = message.text
        file = message.file.map(FileView.init)
        var readBy = message.readBy
        for (user, marker) in (readMarkers ?? [:]).sorted(by: { $0.key < $1.key }) where marker >= message.createdAt && !readBy.contains(user) {
            readBy.append(user)
        }
        self.readBy = readBy
        createdAt = message.createdAt
        editedAt = message.editedAt
        updatedAt = message.editedAt ?? message.createdAt
    }
}

public struct FileView: Codable, Sendable, Equatable {
    public var fileId: String
    public var name: String
    public var mimeType: String
    public var contentType: String
    public var size: Int
    /// Through the gateway; participants only.
    public var url: String

    public init(_ file: FileRef) {
        fileId = file.fileId
        name = file.name
        mimeType = file.mimeType ?? file.contentType
        contentType = file.contentType
        size = file.size
        url = "/chat/files/\(file.fileId)"
    }
}
