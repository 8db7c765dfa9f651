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

    func store(_ bytes: [UInt8], type: SniffedType, name: String, chatId: String) async throws -> FileRef {
        let id = try await bucket.upload(bytes: bytes, filename: name, metadata: ["chatId": .string(chatId), "contentType": .string(type.contentType)])
        return FileRef(fileId: id.hex, name: name, contentType: type.contentType, size: bytes.count)
    }

    func open(_ file: FileRef) async throws -> GridFSDownload {
        guard let id = ObjectId(file.fileId) else { throw MongoError.fileNotFound }
        return try await bucket.download(id)
    }

    /// A name safe to show and to put in a header: no path, no quotes or control characters.
    static func cleanName(_ raw: String?) -> String {
        let base = (raw ?? "").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let kept = base.unicodeScalars.filter { $0.value >= 0x20 && $0 != "\"" && $0.value != 0x7F }
        let name = String(String.UnicodeScalarView(kept)).trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? "file" : String(name.prefix(200))
    }
}
