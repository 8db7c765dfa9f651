import Mongo
import TestSupport

/// A database of its own for one test, dropped afterwards.
func withTestDatabase(_ body: (MongoDatabase) async throws -> Void) async throws {
    let client = try MongoClient(uri: TestServers.mongoURI, threads: 4)
    let db = client.database(TestServers.uniqueName("test"))
    do {
        try await body(db)
    } catch {
        try? await db.drop()
        try await client.close()
        throw error
    }
    try await db.drop()
    try await client.close()
}
