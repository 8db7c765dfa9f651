import BSON
import Mongo
import Testing
import TestSupport

private struct Broken: Error {}
private struct FailingChunks: AsyncSequence, Sendable {
    struct AsyncIterator: AsyncIteratorProtocol {
        var n = 0
        mutating func next() async throws -> [UInt8]? {
            n += 1
            if n > 3 { throw Broken() }
            return Array(repeating: 1, count: 300_000)
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
}

@Suite struct GridFSTests {
    @Test func fiveMegabytesRoundTripByteIdentical() async throws {
        try await withTestDatabase { db in
            let bucket = db.gridFS(bucket: "pictures")
            let bytes = randomBytes(5 * 1024 * 1024)
            let id = try await bucket.upload(bytes: bytes, filename: "big.bin", metadata: ["contentType": "application/octet-stream"])

            var chunks = 0
            var back = [UInt8]()
            for try await chunk in try await bucket.download(id) {
                chunks += 1
                back += chunk
            }
            #expect(back.count == bytes.count)
            #expect(back == bytes)
            #expect(chunks > 1, "the download streamed in chunks")

            let file = try #require(try await bucket.file(id))
            #expect(file.length == Int64(bytes.count))
            #expect(file.filename == "big.bin")
            #expect(file.metadata?["contentType"] == "application/octet-stream")
        }
    }

    @Test func deleteRemovesFileAndChunks() async throws {
        try await withTestDatabase { db in
            let bucket = db.gridFS()
            let id = try await bucket.upload(bytes: Array(repeating: 7, count: 600_000), filename: "x")
            try await bucket.delete(id)
            #expect(try await bucket.file(id) == nil)
            #expect(try await db.collection("fs.chunks", of: BSONDocument.self).count() == 0)
            await #expect(throws: MongoError.fileNotFound) { _ = try await bucket.downloadAll(id) }
            await #expect(throws: MongoError.fileNotFound) { try await bucket.delete(ObjectId()) }
        }
    }

    @Test func failedUploadLeavesNothingBehind() async throws {
        try await withTestDatabase { db in
            let bucket = db.gridFS()
            await #expect(throws: Broken.self) { try await bucket.upload(FailingChunks(), filename: "broken") }
            let chunks = try await db.collection("fs.chunks", of: BSONDocument.self).count()
            let files = try await db.collection("fs.files", of: BSONDocument.self).count()
            #expect(chunks == 0 && files == 0)
        }
    }
}
