import BSON
import Mongo
import ServiceKit

/// Files sent in chats, in GridFS (bucket `files`).
struct ChatFiles: Sendable {
    let bucket: GridFSBucket
    let maxBytes: Int

    init(database: MongoDatabase, maxBytes: Int) {
        bucket = database.gridFS(bucket: "files")
        self.maxBytes = maxBytes
    }

    /// Any file: served as its sniffed type when that is a safe one (images, PDF), else as
    /// application/octet-stream; `declared` is what the sender said it is.
    func store(_ bytes: [UInt8], declared: String?, name: String, chatId: String) async throws -> FileRef {
        let served = SniffedType(sniffing: bytes)?.contentType ?? "application/octet-stream"
        let id = try await bucket.upload(bytes: bytes, filename: name, metadata: ["chatId": .string(chatId), "contentType": .string(served)])
        return FileRef(fileId: id.hex, name: name, contentType: served, mimeType: Self.mediaType(declared) ?? served, size: bytes.count)
    }

    /// `type/subtype` as declared, lowercased, parameters dropped; nil if it is not one.
    static func mediaType(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let bare = raw.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let parts = bare.split(separator: "/", omittingEmptySubsequences: false)
        let token: (Substring) -> Bool = { !$0.isEmpty && $0.utf8.count <= 64 && $0.allSatisfy { $0.isLetter || $0.isNumber || "!#$&-^_.+".contains($0) } }
        guard parts.count == 2, token(parts[0]), token(parts[1]) else { return nil }
        return bare
    }

    func open(_ file: FileRef) async throws -> GridFSDownload {
        guard let id = ObjectId(file.fileId) else { throw MongoError.fileNotFound }
        return try await bucket.download(id)
    }

    func delete(_ file: FileRef) async throws {
        guard let id = ObjectId(file.fileId) else { return }
        try await bucket.delete(id)
    }

    /// A name safe to show and to put in a header: no path, no quotes or control characters.
    static func cleanName(_ raw: String?) -> String {
        let base = (raw ?? "").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let kept = base.unicodeScalars.filter { $0.value >= 0x20 && $0 != "\"" && $0.value != 0x7F }
        let name = String(String.UnicodeScalarView(kept)).trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? "file" : String(name.prefix(200))
    }
}
