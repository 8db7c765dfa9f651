import BSON
import Foundation
import Hummingbird
import Mongo
import ServiceKit

/// The chat service's REST routes (the gateway strips `/chat`). Every route needs a
/// signed-in caller; a chat the caller is not in does not exist for them (404).
struct ChatRoutes: Sendable {
    let store: any ChatStore
    let membership: Membership
    let files: ChatFiles
    let live: LiveMessages
    let presence: Presence

    static let maxGroupName = 100
    static let maxGroupSize = 256

    func add(to router: Router<ServiceRequestContext>) {
        router.post("/create-direct", use: createDirect)
        router.post("/create-group", use: createGroup)
        router.put("/add-to-group", use: addToGroup)
        router.put("/remove-from-group", use: removeFromGroup)
        router.put("/leave-group", use: leaveGroup)
        router.get("/my-chats", use: myChats)
        router.get("/presence", use: currentPresence)
        router.get("/messages/:chatId", use: messages)
        router.post("/messages/:chatId/read", use: markRead)
        router.patch("/messages/:chatId/:messageId", use: editMessage)
        router.delete("/messages/:chatId/:messageId", use: deleteMessage)
        router.post("/send-file", use: sendFile)
        router.get("/files/:fileId", use: file)
    }

    /// Needs a Connection (an accepted invite); answers the existing chat (200) if there is
    /// one, else the new one (201) — the chat itself, as the reference answered.
    @Sendable func createDirect(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let me = try context.requireIdentity().userId
        let body = try await request.decodeBody(as: CreateDirectRequest.self, context: context)
        let other = try ChatIds.user(body.receiverId, field: "receiverId")
        guard other != me else { throw APIError.badRequest("You cannot open a chat with yourself", code: "self_chat") }
        guard try await store.areConnected(me, other) else {
            throw APIError(.forbidden, code: "not_connected", message: "You can only chat with users who accepted your invite (or whose invite you accepted)")
        }
        let (chat, created) = try await store.directChat(between: me, and: other, now: Date())
        await membership.changed(chatId: chat._id.hex, users: chat.participants)
        return try Self.bare(ChatView(chat), status: created ? .created : .ok, request: request, context: context)
    }

    /// A named group of the caller (its admin) and at least two connections of theirs.
    @Sendable func createGroup(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let me = try context.requireIdentity().userId
        let body = try await request.decodeBody(as: CreateGroupRequest.self, context: context)
        let name = try TextInput.required(body.name, field: "name", length: 1...Self.maxGroupName)
        var others: [String] = []
        for raw in body.participants {
            let id = try ChatIds.user(raw, field: "participants")
            if id != me, !others.contains(id) { others.append(id) }
        }
        guard others.count >= 2 else { throw APIError.badRequest("A group needs at least 2 other participants", code: "group_too_small") }
        guard others.count < Self.maxGroupSize else { throw APIError.badRequest("A group has at most \(Self.maxGroupSize) participants", code: "group_too_large") }
        try await requireConnected(me, to: others)
        let chat = try await store.createGroup(name: name, creator: me, members: others, now: Date())
        await membership.changed(chatId: chat._id.hex, users: chat.participants)
        return try Self.bare(ChatView(chat), status: .created, request: request, context: context)
    }

    /// Admins only; everyone added must be connected to the admin adding them. Answers the
    /// group (bare, as the reference did).
    @Sendable func addToGroup(_ request: Request, context: ServiceRequestContext) async throws -> ChatView {
        let me = try context.requireIdentity().userId
        let body = try await request.decodeBody(as: GroupMembersRequest.self, context: context)
        let chatId = try ChatIds.chat(body.chatId)
        var users: [String] = []
        for raw in body.userIds {
            let id = try ChatIds.user(raw, field: "userIdToAdd")
            if !users.contains(id) { users.append(id) }
        }
        guard !users.isEmpty, users.count <= Self.maxGroupSize else {
            throw APIError.badRequest("userIdToAdd (or userIds) must name 1 to \(Self.maxGroupSize) users", code: "invalid_field")
        }
        let group = try await requireAdmin(me, of: chatId)
        guard users.contains(where: { !group.participants.contains($0) }) else {
            throw APIError.badRequest("User is already in the group", code: "already_member")
        }
        try await requireConnected(me, to: users.filter { $0 != me })
        guard let chat = try await store.addToGroup(chatId: chatId, admin: me, userIds: users, now: Date()) else { throw Self.notAdmin }
        await membership.changed(chatId: chat._id.hex, users: users)
        return ChatView(chat)
    }

    @Sendable func removeFromGroup(_ request: Request, context: ServiceRequestContext) async throws -> ChatView {
        let me = try context.requireIdentity().userId
        let body = try await request.decodeBody(as: GroupMemberRequest.self, context: context)
        let chatId = try ChatIds.chat(body.chatId)
        let user = try ChatIds.user(body.userId, field: "userIdToRemove")
        guard user != me else { throw APIError.badRequest("Use the /leave-group route to leave the chat", code: "use_leave") }
        try await requireAdmin(me, of: chatId)
        guard let chat = try await store.removeFromGroup(chatId: chatId, admin: me, userId: user, now: Date()) else { throw Self.notAdmin }
        await membership.changed(chatId: chat._id.hex, users: [user])
        live.evict(user, from: chat._id.hex)
        return ChatView(chat)
    }

    /// The last participant to leave deletes the group; the last admin hands admin on.
    @Sendable func leaveGroup(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let me = try context.requireIdentity().userId
        let body = try await request.decodeBody(as: LeaveGroupRequest.self, context: context)
        let chatId = try ChatIds.chat(body.chatId)
        let outcome = try await store.leave(chatId: chatId, userId: me, now: Date())
        await membership.changed(chatId: chatId.hex, users: [me])
        live.evict(me, from: chatId.hex)
        switch outcome {
        case .notMember: throw APIError.notFound("Group not found")
        case .deleted: return try ServiceKit.Message("Group deleted because there are no participants left").response(from: request, context: context)
        case .left(let chat): return try LeftGroup(message: "Successfully left the group", chat: ChatView(chat)).response(from: request, context: context)
        }
    }

    /// A bare array, as the reference answered.
    @Sendable func myChats(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let me = try context.requireIdentity().userId
        let chats = try await store.chats(of: me)
        let unread = try await store.unreadCounts(of: me, in: chats)
        return try Self.bare(chats.map { ChatView($0, unreadCount: unread[$0._id.hex] ?? 0) }, status: .ok, request: request, context: context)
    }

    /// Who of the caller's contacts and fellow chat members is online: a bare array of
    /// `{userId, online}`, by id.
    @Sendable func currentPresence(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let me = try context.requireIdentity().userId
        let users = try await store.audience(of: me).sorted()
        let online = try await presence.online(users)
        return try Self.bare(users.map { UserPresence(userId: $0, online: online[$0] ?? false) }, status: .ok, request: request, context: context)
    }

    /// One page of history as a bare array in the order it was written (the reference's
    /// order), the newest page first: `?before=<message id>` for older ones, `?limit=`
    /// 1–100 (default 50). The next page is in the `Link` (rel="next") and `X-Next-Cursor`
    /// headers; `X-Has-More` says whether there is one. Reading marks the messages read.
    @Sendable func messages(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let me = try context.requireIdentity().userId
        let chatId = try context.idParameter("chatId", naming: "a chat id")
        try await requireParticipant(me, of: chatId.hex)
        let query = request.uri.queryParameters
        var before: ObjectId?
        if let raw = query["before"] {
            guard let id = ObjectId(String(raw)) else { throw APIError.badRequest("before must be a message id (24 hex digits)", code: "invalid_cursor") }
            before = id
        }
        let limit = try request.queryInteger("limit", default: 50, in: 1...100)
        // Marked first, so the page shows the caller among its readers.
        try await reading.markRead(chatId: chatId.hex, userId: me)
        let markers = try await store.chat(id: chatId)?.readMarkers
        let found = try await store.messages(chatId: chatId.hex, before: before, limit: limit + 1)
        let page = Array(found.prefix(limit))
        var response = try Self.bare(page.reversed().map { MessageView($0, readMarkers: markers) }, status: .ok, request: request, context: context)
        let hasMore = found.count > limit
        response.headers[.xHasMore] = hasMore ? "true" : "false"
        if hasMore, let oldest = page.last?._id.hex {
            response.headers[.xNextCursor] = oldest
            // A reference relative to this request's URI: right whatever prefix the gateway strips.
            response.headers[.link] = "<?before=\(oldest)&limit=\(limit)>; rel=\"next\""
        }
        return response
    }

    /// The caller has read the chat up to its newest message → `{chatId, userId, readAt}`
    /// (`readAt` null when there is nothing newer to read); `messagesRead` to the room.
    @Sendable func markRead(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let me = try context.requireIdentity().userId
        let chatId = try context.idParameter("chatId", naming: "a chat id")
        try await requireParticipant(me, of: chatId.hex)
        let marker = try await reading.markRead(chatId: chatId.hex, userId: me)
        return try Self.bare(ReadMarkerView(chatId: chatId.hex, userId: me, readAt: marker), status: .ok, request: request, context: context)
    }

    var reading: ReadMarkers { ReadMarkers(store: store, live: live) }

    /// A value as the whole JSON body (the chat service's reference answered bare records).
    static func bare(_ value: some Encodable, status: HTTPResponse.Status, request: Request, context: ServiceRequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(value, from: request, context: context)
        response.status = status
        return response
    }

    // MARK: checks

    static let notAdmin = APIError.forbidden("Only an admin of the group can do this")

    func requireParticipant(_ userId: String, of chatId: String) async throws {
        guard try await membership.isParticipant(userId, of: chatId) else { throw APIError.notFound("Chat not found") }
    }

    /// Not in the chat: 404 (it does not exist for them); in it but not an admin: 403.
    @discardableResult
    func requireAdmin(_ userId: String, of chatId: ObjectId) async throws -> Chat {
        guard let chat = try await store.chat(id: chatId), chat.chatType == .group, chat.participants.contains(userId) else {
            throw APIError.notFound("Group chat not found")
        }
        guard chat.admins.contains(userId) else { throw Self.notAdmin }
        return chat
    }

    func requireConnected(_ userId: String, to others: [String]) async throws {
        for other in others where !(try await store.areConnected(userId, other)) {
            throw APIError(.forbidden, code: "not_connected", message: "Every participant must be connected to you: \(other) is not")
        }
    }
}
