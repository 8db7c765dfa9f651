import BSON
import Mongo
import Synchronization
import Testing
import TestSupport

/// An open cursor holds a pooled client across awaits. Many read at once — more than the
/// pool holds — must all finish: cursors beyond their share wait off any thread, and the
/// threads always find a client for one-shot calls (it once stopped a chat service whose
/// sockets all connected at once).
@Suite struct PoolStarvationTests {
    @Test func manyCursorsAndReadsAtOnceAllFinish() async throws {
        let client = try MongoClient(uri: TestServers.mongoURI, threads: 2)  // a pool of 8
        let db = client.database(TestServers.uniqueName("pool"))
        let items = db.collection("items", of: BSONDocument.self)
        for i in 0..<5 { try await items.insert(["_id": .int64(Int64(i))]) }
        let finished = Finished()
        let work = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<60 {
                    group.addTask {
                        if i.isMultiple(of: 2) {
                            // A cursor read a document at a time: a thread hop per batch, the client held between.
                            var seen = 0
                            for try await _ in try await items.find(options: FindOptions(batchSize: 1)) { seen += 1 }
                            #expect(seen == 5)
                        } else {
                            #expect(try await items.findAll().count == 5)
                            #expect(try await items.findOne(.eq("_id", Int64(3))) != nil)
                        }
                        finished.count.add(1, ordering: .relaxed)
                    }
                }
                try await group.waitForAll()
            }
        }
        let done = await eventually(timeout: .seconds(60)) { finished.count.load(ordering: .relaxed) == 60 }
        #expect(done, "\(finished.count.load(ordering: .relaxed)) of 60 finished: the pool starved")
        // A starved client cannot even drop its database: it is left as it is, and the test fails instead of hanging.
        guard done else { return work.cancel() }
        try await work.value
        try await db.drop()
        try await client.close()
    }
}

private final class Finished: Sendable {
    let count = Atomic<Int>(0)
}
