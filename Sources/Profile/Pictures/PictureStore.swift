import BSON
import Mongo

/// Profile pictures in GridFS (bucket `pictures`).
public struct PictureStore: Sendable {
    let bucket: GridFSBucket

    public init(database: MongoDatabase) { bucket = database.gridFS(bucket: "pictures") }

    public func store(_ bytes: [UInt8], type: ImageType, userId: String) async throws -> Picture {
        let id = try await bucket.upload(bytes: bytes, filename: "\(userId).\(type)", metadata: ["userId": .string(userId), "contentType": .string(type.contentType)])
        return Picture(fileId: id, contentType: type.contentType, size: bytes.count)
    }

    public func open(_ picture: Picture) async throws -> GridFSDownload { try await bucket.download(picture.fileId) }

    /// Removes a file; one already gone is fine (deletes are retried).
    public func remove(_ picture: Picture) async throws {
        do {
            try await bucket.delete(picture.fileId)
        } catch MongoError.fileNotFound {}
    }
}
