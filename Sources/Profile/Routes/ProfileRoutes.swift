import BSON
import Foundation
import Hummingbird
import Logging
import Mongo
import ServiceKit

/// The profile service's routes (the gateway strips `/profile`). Every route needs a
/// signed-in caller; the only profile anyone can change is their own.
struct ProfileRoutes: Sendable {
    let profiles: any ProfileRepository
    let pictures: PictureStore
    /// The read routes' answers by user id (`own` and `byId` answer alike).
    let cache: ResponseCache
    let pictureMaxBytes: Int

    func add(to router: Router<ServiceRequestContext>) {
        router.get(RouterPath(Self.ownPath), use: own)
        router.put("/patchProfile", use: patch)
        router.patch("/patchProfile", use: patch)
        router.get("/list", use: list)
        router.get("/picture/:userId", use: picture)
        // The reference's path behind NGINX was /profile/profile/:userId.
        router.get("/profile/:userId", use: byId)
        router.get("/:userId", use: byId)
    }

    static let ownPath = "/getProfile"

    @Sendable func own(_ request: Request, context: ServiceRequestContext) async throws -> CachedResponse {
        let identity = try context.requireIdentity()
        return try await answer(for: identity.userId, prefetched: context.prefetched)
    }

    /// The caller's cached profile, read with their token's deny-list check (the read a
    /// signed-in client makes most).
    var prefetch: AuthenticationMiddleware<ServiceRequestContext>.Prefetch {
        let cache = cache
        return { request, claims in
            request.method == .get && request.uri.path == Self.ownPath ? cache.fullKey(claims.userId) : nil
        }
    }

    /// Any signed-in user may read any profile: it is what the people picker and chats show.
    @Sendable func byId(_ request: Request, context: ServiceRequestContext) async throws -> CachedResponse {
        _ = try context.requireIdentity()
        return try await answer(for: try Self.userId(context))
    }

    /// JSON, or multipart with text fields and an optional picture (`profilePic`).
    @Sendable func patch(_ request: Request, context: ServiceRequestContext) async throws -> Envelope<ProfileView> {
        let userId = try context.requireIdentity().userId
        let contentType = request.headers[.contentType] ?? ""
        var body: ProfilePatch
        var upload: (bytes: [UInt8], type: ImageType)?
        if let boundary = Multipart.boundary(of: contentType) {
            var request = request
            // Room for the picture and the text fields around it.
            let buffer = try await request.collectBody(upTo: pictureMaxBytes + 64 * 1024)
            let parts = try Multipart.parse(Array(buffer.readableBytesView), boundary: boundary)
            body = try ProfilePatch(parts: parts)
            if let file = parts.first(where: { $0.filename != nil && Self.pictureFields.contains($0.name) }) {
                upload = try checkedPicture(file.body)
            }
        } else if contentType.lowercased().hasPrefix("application/json") {
            // Room for a picture sent as a base64 data URL (4 bytes for every 3).
            var request = request
            let buffer = try await request.collectBody(upTo: pictureMaxBytes / 3 * 4 + 64 * 1024)
            body = try JSONDecoder().decode(ProfilePatch.self, from: Data(buffer.readableBytesView))
        } else {
            throw APIError.unsupportedMediaType("Send application/json or multipart/form-data")
        }
        var changes = try body.changes()
        switch try body.profilePic.map(ProfilePicture.init) {
        case .some(.upload(let bytes)) where upload == nil: upload = try checkedPicture(bytes, allowed: [.jpeg, .png])
        case .some(.link(let url)): changes.pictureLink = .some(url)
        case .some(.none): changes.pictureLink = .some(nil)
        default: break
        }
        guard !changes.isEmpty || upload != nil else { throw APIError.badRequest("Nothing to update", code: "empty_update") }

        // The picture is stored first, so a profile never points at a missing file.
        if let upload { changes.picture = try await pictures.store(upload.bytes, type: upload.type, userId: userId) }
        let before: Profile?
        let after: Profile
        do {
            // An upsert, as the reference did: a save right after signup may come before
            // auth.user.created, which then fills in only what the user left empty.
            (before, after) = try await profiles.upsert(userId: userId, changes, now: Date())
        } catch {
            if let stored = changes.picture { try? await pictures.remove(stored) }
            throw error
        }
        await cache.invalidate([userId])
        if let old = before?.picture, changes.picture != nil || changes.pictureLink != nil {
            do { try await pictures.remove(old) } catch {
                context.logger.warning("old picture not removed: \(error)", metadata: ["fileId": "\(old.fileId.hex)"])
            }
        }
        return Envelope("Profile updated successfully", ProfileView(after))
    }

    /// `?search=` (start of a first or last name), `?page=` (from 1), `?limit=` (1–50, default 20).
    /// The caller is left out: this feeds the people picker.
    @Sendable func list(_ request: Request, context: ServiceRequestContext) async throws -> ProfileListResponse {
        let identity = try context.requireIdentity()
        let query = request.uri.queryParameters
        let page = try request.queryInteger("page", default: 1, in: 1...10_000)
        let limit = try request.queryInteger("limit", default: 20, in: 1...50)
        let raw = query["search"].map(String.init)
        // Code points of the value sent, as the OpenAPI document's maxLength counts (a letter
        // with combining marks is one Character and many code points).
        guard (raw?.unicodeScalars.count ?? 0) <= 50 else { throw APIError.badRequest("search must be at most 50 characters", code: "invalid_search") }
        let search = raw.map { $0.trimmingCharacters(in: .whitespaces) }
        let (found, total) = try await profiles.list(search: search, excluding: identity.userId, skip: (page - 1) * limit, limit: limit)
        return ProfileListResponse(
            message: "Profiles fetched successfully", data: found.map(ProfileView.init), page: page, limit: limit, total: total,
            hasMore: page * limit < total)
    }

    /// The picture's bytes, streamed from GridFS, with an ETag (its file id) for revalidation.
    @Sendable func picture(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        _ = try context.requireIdentity()
        let userId = try Self.userId(context)
        guard let picture = try await profiles.find(userId: userId)?.picture else { throw APIError.notFound("No picture") }
        let etag = "\"\(picture.fileId.hex)\""
        var headers: HTTPFields = [.eTag: etag, .cacheControl: "private, max-age=86400", .xContentTypeOptions: "nosniff"]
        if request.headers[.ifNoneMatch]?.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) == true {
            return Response(status: .notModified, headers: headers)
        }
        let download: GridFSDownload
        do {
            download = try await pictures.open(picture)
        } catch MongoError.fileNotFound {
            throw APIError.notFound("No picture")
        }
        headers[.contentType] = picture.contentType
        headers[.contentLength] = String(picture.size)
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: download.map { ByteBuffer(bytes: $0) }))
    }

    // MARK: helpers

    static let pictureFields: Set<String> = ["profilePic", "picture", "image", "avatar"]

    func checkedPicture(_ bytes: [UInt8], allowed: Set<ImageType> = Set(ImageType.allCases)) throws -> (bytes: [UInt8], type: ImageType) {
        guard bytes.count <= pictureMaxBytes else {
            throw APIError.payloadTooLarge("The picture is larger than \(pictureMaxBytes / (1024 * 1024)) MB")
        }
        guard let type = ImageType(sniffing: bytes), allowed.contains(type) else {
            let names = ImageType.allCases.filter(allowed.contains).map(\.name).joined(separator: ", ")
            throw APIError.unsupportedMediaType("The picture must be an image: \(names)")
        }
        return (bytes, type)
    }

    /// A profile read's answer, from the cache when it can.
    func answer(for userId: String, prefetched: PrefetchedRead? = nil) async throws -> CachedResponse {
        let found = try await cache.response(for: userId, prefetched: prefetched) {
            try await profiles.find(userId: userId).map { Envelope("Profile fetched successfully", ProfileView($0)) }
        }
        guard let found else { throw APIError.notFound("Profile not found") }
        return found
    }

    static func userId(_ context: ServiceRequestContext) throws -> String {
        try context.idParameter("userId", naming: "a user id").hex
    }
}

struct ProfileListResponse: ResponseEncodable {
    let message: String
    let data: [ProfileView]
    let page: Int
    let limit: Int
    let total: Int
    let hasMore: Bool
}
