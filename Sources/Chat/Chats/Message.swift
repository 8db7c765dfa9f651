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
}

/// A file sent in a chat, its bytes in GridFS.
public struct FileRef: Codable, Sendable, Equatable {
    public var fileId: String
    public var name: String
    public var contentType: String
    public var size: Int
}

/// A message as clients see it, in REST answers and Socket.IO events alike.
public struct MessageView: Codable, Sendable, Equatable {
    public var id: String
    public var _id: String
    public var chatId: String
    public var senderId: String
    public var text: String
    public var file: FileRef?
    public var readBy: [String]
    public var createdAt: Date

    public init(_ message: Message) {
        id = message._id.hex
        _id = message._id.hex
        chatId = message.chatId
        senderId = message.senderId
        text = message.text
        file = message.file
        readBy = message.readBy
        createdAt = message.createdAt
    }
}
