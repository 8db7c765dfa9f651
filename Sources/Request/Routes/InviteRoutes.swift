import BSON
import Events
import Foundation
import Hummingbird
import Mongo
import ServiceKit

/// The request service's routes (the gateway strips `/request`). Every route needs a
/// signed-in caller, and only touches invites the caller sent or received.
struct InviteRoutes: Sendable {
    let invites: any InviteRepository
    let directory: any Directory
    let lists: InviteLists
    let relay: OutboxRelay?

    static let maxMessage = 500

    func add(to router: Router<ServiceRequestContext>) {
        router.post("/invite/send", use: send)
        router.patch("/respond/:requestId", use: respond)
        router.get(RouterPath(InviteLists.Kind.sent.path), use: sent)
        router.get(RouterPath(InviteLists.Kind.received.path), use: received)
        router.delete("/cancel/:requestId", use: cancel)
    }

    @Sendable func send(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let me = try context.requireIdentity().userId
        let body = try await request.decodeBody(as: SendInviteRequest.self, context: context)
        let email = try EmailAddress.normalized(body.toEmail, field: "toEmail")
        let message = try TextInput.optional(body.message ?? "", field: "message", maxLength: Self.maxMessage, code: "invalid_message")
        guard let recipient = try await directory.find(email: email) else { throw APIError.notFound("No user has this email") }
        guard recipient._id != me else { throw APIError.badRequest("You cannot invite yourself", code: "self_invite") }

        let now = Date()
        let id = ObjectId()
        let invite = Invite(
            _id: id, fromUserId: me, toUserId: recipient._id, status: .pending, message: message, createdAt: now, updatedAt: now,
            activeKey: Invite.pairKey(me, recipient._id))
        do {
            try await invites.create(invite)
        } catch MongoError.duplicateKey {
            throw try await conflict(between: me, and: recipient._id)
        }
        await lists.invalidate(for: [me, recipient._id])
        context.logger.info("invite sent", metadata: ["requestId": "\(id.hex)"])
        var response = try Envelope("Invite sent successfully", try await lists.views([invite])[0])
            .response(from: request, context: context)
        response.status = .created
        return response
    }

    @Sendable func respond(_ request: Request, context: ServiceRequestContext) async throws -> Envelope<InviteView> {
        let me = try context.requireIdentity().userId
        let id = try Self.requestId(context)
        let body = try await request.decodeBody(as: RespondRequest.self, context: context)
        let status: InviteStatus
        switch body.status.lowercased() {
        case "accepted", "accept": status = .accepted
        case "rejected", "reject": status = .rejected
        default: throw APIError.badRequest("status must be accepted or rejected", code: "invalid_status")
        }
        guard let answered = try await invites.respond(id: id, by: me, with: status, now: Date(), correlationId: context.requestId) else {
            throw try await refusal(id: id, for: me, recipientOnly: true)
        }
        relay?.notify()
        await lists.invalidate(for: [answered.fromUserId, answered.toUserId])
        context.logger.info("invite answered", metadata: ["requestId": "\(id.hex)", "status": "\(status.rawValue)"])
        return Envelope("Invite \(status.rawValue)", try await lists.views([answered])[0])
    }

    @Sendable func cancel(_ request: Request, context: ServiceRequestContext) async throws -> Envelope<InviteView> {
        let me = try context.requireIdentity().userId
        let id = try Self.requestId(context)
        guard let cancelled = try await invites.cancel(id: id, by: me) else { throw try await refusal(id: id, for: me, recipientOnly: false) }
        await lists.invalidate(for: [cancelled.fromUserId, cancelled.toUserId])
        return Envelope("Invite cancelled", try await lists.views([cancelled])[0])
    }

    /// `?status=pending|accepted|rejected` keeps only those.
    @Sendable func sent(_ request: Request, context: ServiceRequestContext) async throws -> CachedResponse {
        let me = try context.requireIdentity().userId
        return try await lists.answer(.sent, status: try Self.status(request), for: me, prefetched: context.prefetched)
    }

    /// Every invite received, whatever its status, as the reference's source lists them.
    @Sendable func received(_ request: Request, context: ServiceRequestContext) async throws -> CachedResponse {
        let me = try context.requireIdentity().userId
        return try await lists.answer(.received, status: try Self.status(request), for: me, prefetched: context.prefetched)
    }

    /// `?status=`, if given.
    static func status(_ request: Request) throws -> InviteStatus? {
        guard let raw = request.uri.queryParameters["status"] else { return nil }
        guard let status = InviteStatus(rawValue: String(raw)) else {
            throw APIError.badRequest("status must be pending, accepted or rejected", code: "invalid_status")
        }
        return status
    }

    // MARK: why a change was refused

    /// Why the pair cannot have a new invite.
    func conflict(between me: String, and other: String) async throws -> APIError {
        guard let active = try await invites.findActive(between: me, and: other) else {
            return APIError.conflict("An invite between you already exists", code: "invite_exists")
        }
        if active.status == .accepted { return APIError.conflict("You are already connected", code: "already_connected") }
        if active.fromUserId == me { return APIError.conflict("You have already invited this user", code: "already_invited") }
        return APIError.conflict("This user has already invited you: answer their invite", code: "invited_by_them")
    }

    /// Why respond or cancel changed nothing. Someone else's invite is "not found": its
    /// existence is not theirs to learn.
    func refusal(id: ObjectId, for me: String, recipientOnly: Bool) async throws -> APIError {
        guard let invite = try await invites.find(id: id), invite.fromUserId == me || invite.toUserId == me else {
            return APIError.notFound("Invite not found")
        }
        if recipientOnly && invite.toUserId != me { return APIError.forbidden("Only the recipient can answer an invite") }
        if !recipientOnly && invite.fromUserId != me { return APIError.forbidden("Only the sender can cancel an invite") }
        return APIError.conflict("This invite is already \(invite.status.rawValue)", code: "invite_not_pending")
    }

    static func requestId(_ context: ServiceRequestContext) throws -> ObjectId {
        try context.idParameter("requestId", naming: "an invite id")
    }
}

/// The invite lists as the reference answers them: `{message, data, count}` (its cached
/// answers lost `count`; here every answer has it).
struct InviteListResponse: ResponseEncodable {
    let message: String
    let data: [InviteView]
    let count: Int

    init(message: String, data: [InviteView]) {
        self.message = message
        self.data = data
        count = data.count
    }
}
