import BSON
import Foundation
import Hummingbird
import ServiceKit

/// `POST /create-direct`. `userId` is accepted for `receiverId`.
struct CreateDirectRequest: Decodable {
    let receiverId: String

    enum CodingKeys: String, CodingKey { case receiverId, userId }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        receiverId = try c.decode(.receiverId, alias: .userId)
    }
}

/// `POST /create-group`: a name and the other members (`users` is accepted for `participants`).
struct CreateGroupRequest: Decodable {
    let name: String
    let participants: [String]

    enum CodingKeys: String, CodingKey { case name, chatName, participants, users }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(.name, alias: .chatName)
        participants = try c.decodeIfPresent([String].self, forKey: .participants) ?? c.decode([String].self, forKey: .users)
    }
}

/// `PUT /add-to-group`: `userIdToAdd` as the reference sends it (`userId` is accepted
/// for it), or several `userIds`.
struct GroupMembersRequest: Decodable {
    let chatId: String
    let userIds: [String]

    enum CodingKeys: String, CodingKey { case chatId, userIdToAdd, userId, userIds }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        chatId = try c.decode(String.self, forKey: .chatId)
        let one: String? = try c.decodeIfPresent(.userIdToAdd, alias: .userId)
        if let many = try c.decodeIfPresent([String].self, forKey: .userIds) {
            userIds = many + (one.map { [$0] } ?? [])
        } else if let one {
            userIds = [one]
        } else {
            throw DecodingError.keyNotFound(CodingKeys.userIdToAdd, .init(codingPath: c.codingPath, debugDescription: "userIdToAdd is required"))
        }
    }
}

/// `PUT /remove-from-group`: `userIdToRemove` as the reference sends it (`userId` is accepted for it).
struct GroupMemberRequest: Decodable {
    let chatId: String
    let userId: String

    enum CodingKeys: String, CodingKey { case chatId, userIdToRemove, userId }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        chatId = try c.decode(String.self, forKey: .chatId)
        userId = try c.decode(.userIdToRemove, alias: .userId)
    }
}

/// `PUT /leave-group`.
struct LeaveGroupRequest: Decodable {
    let chatId: String
}

/// Ids in bodies are checked like ids in paths: 24 hex digits, or a 400 naming the field.
enum ChatIds {
    static func chat(_ raw: String, field: String = "chatId") throws -> ObjectId {
        guard let id = ObjectId(raw) else { throw APIError.badRequest("\(field) must be a chat id (24 hex digits)", code: "invalid_id") }
        return id
    }

    static func user(_ raw: String, field: String) throws -> String {
        guard ObjectId(raw) != nil else { throw APIError.badRequest("\(field) must be a user id (24 hex digits)", code: "invalid_id") }
        return raw.lowercased()
    }
}

/// `PUT /leave-group`: the reference's `{message, chat}`.
struct LeftGroup: ResponseEncodable {
    let message: String
    let chat: ChatView
}

extension ChatView: ResponseEncodable {}

/// `PATCH /messages/:chatId/:messageId`: the new text.
struct EditMessageRequest: Decodable {
    let text: String
}

/// `POST /messages/:chatId/read`'s answer.
struct ReadMarkerView: Encodable {
    let chatId: String
    let userId: String
    let readAt: Date?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(chatId, forKey: .chatId)
        try c.encode(userId, forKey: .userId)
        try c.encode(readAt, forKey: .readAt)  // null, not missing, when nothing moved
    }

    enum CodingKeys: String, CodingKey { case chatId, userId, readAt }
}

/// `GET /presence`: one contact or fellow member.
struct UserPresence: Encodable {
    let userId: String
    let online: Bool
}
