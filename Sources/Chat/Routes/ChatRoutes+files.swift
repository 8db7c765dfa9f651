import BSON
import Foundation
import Hummingbird
import Mongo
import ServiceKit

/// Files in chats: sent as multipart (`chatId`, an optional `text`, one file part), read
/// by the chat's participants only.
extension ChatRoutes {
    @Sendable func sendFile(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let me = try context.requireIdentity().userId
        guard let boundary = Multipart.boundary(of: request.headers[.contentType] ?? "") else {
            throw APIError.unsupportedMediaType("Send multipart/form-data with chatId and a file")
        }
        var request = request
        let buffer = try await request.collectBody(upTo: files.maxBytes + 64 * 1024)
        let parts = try Multipart.parse(Array(buffer.readableBytesView), boundary: boundary)
        guard let rawChatId = parts.first(where: { $0.name == "chatId" && $0.filename == nil })?.text else {
            throw APIError.badRequest("chatId is required", code: "missing_field")
        }
        let chatId = try ChatIds.chat(rawChatId.trimmingCharacters(in: .whitespaces))
        let text = try TextInput.optional(parts.first(where: { $0.name == "text" && $0.filename == nil })?.text ?? "", field: "text",
                                          maxLength: LiveMessages.maxText, code: "invalid_text")
        guard let upload = parts.first(where: { $0.filename != nil }) else { throw APIError.badRequest("A file part is required", code: "missing_file") }
        guard upload.body.count <= files.maxBytes else {
            throw APIError.payloadTooLarge("The file is larger than \(files.maxBytes / (1024 * 1024)) MB")
        }
        guard !upload.body.isEmpty else { throw APIError.badRequest("The file is empty", code: "empty_file") }
        try await requireParticipant(me, of: chatId.hex)

        // Any type, as the reference took it; what it is served as is decided by its bytes.
        let file = try await files.store(upload.body, declared: upload.contentType, name: ChatFiles.cleanName(upload.filename), chatId: chatId.hex)
        let message = Message(_id: ObjectId(), chatId: chatId.hex, senderId: me, text: text, file: file, readBy: [me], createdAt: Date())
        try await store.add(message)
        let view = MessageView(message)
        live.announce(view)
        return try Self.bare(view, status: .created, request: request, context: context)
    }

    @Sendable func file(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let me = try context.requireIdentity().userId
        let fileId = try context.idParameter("fileId", naming: "a file id")
        guard let message = try await store.message(fileId: fileId.hex), let file = message.file,
              try await membership.isParticipant(me, of: message.chatId) else {
            throw APIError.notFound("File not found")
        }
        let download: GridFSDownload
        do {
            download = try await files.open(file)
        } catch MongoError.fileNotFound {
            throw APIError.notFound("File not found")
        }
        // Always an attachment, never sniffed by the browser: nothing sent in a chat runs in its origin.
        let headers: HTTPFields = [
            .contentType: file.contentType, .contentLength: String(file.size), .xContentTypeOptions: "nosniff",
            .cacheControl: "private, max-age=86400", .contentDisposition: "attachment; filename=\"\(file.name)\"",
            .contentSecurityPolicy: "default-src 'none'; sandbox",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: download.map { ByteBuffer(bytes: $0) }))
    }
}
