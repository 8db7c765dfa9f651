import BSON
import Foundation
import Mongo
import Testing

private struct Account: Codable, Sendable, Equatable {
    var _id: String
    var balance: Int
}

private struct Note: Codable, Sendable, Equatable {
    var _id: ObjectId
    var text: String
}

private struct Rollback: Error {}

@Suite struct TransactionTests {
    @Test func committedWritesAppearTogether() async throws {
        try await withTestDatabase { db in
            let accounts = db.collection("accounts", of: Account.self)
            let notes = db.collection("notes", of: Note.self)
            try await accounts.insert(Account(_id: "a", balance: 10))
            // Collections must exist before a transaction writes to them on some servers.
            try await notes.insert(Note(_id: ObjectId(), text: "seed"))

            try await db.client.withTransaction { session in
                _ = try await accounts.updateOne(.eq("_id", "a"), .inc("balance", -3), session: session)
                try await notes.insert(Note(_id: ObjectId(), text: "paid 3"), session: session)
                // Inside, the transaction sees its own writes.
                #expect(try await accounts.findOne(.eq("_id", "a"), session: session)?.balance == 7)
            }
            #expect(try await accounts.findOne(.eq("_id", "a"))?.balance == 7)
            #expect(try await notes.count(.eq("text", "paid 3")) == 1)
        }
    }

    @Test func aThrownErrorLeavesNothingBehind() async throws {
        try await withTestDatabase { db in
            let accounts = db.collection("accounts", of: Account.self)
            let notes = db.collection("notes", of: Note.self)
            try await accounts.insert(Account(_id: "a", balance: 10))
            try await notes.insert(Note(_id: ObjectId(), text: "seed"))

            await #expect(throws: Rollback.self) {
                try await db.client.withTransaction { session in
                    _ = try await accounts.updateOne(.eq("_id", "a"), .inc("balance", -3), session: session)
                    try await notes.insert(Note(_id: ObjectId(), text: "never"), session: session)
                    throw Rollback()
                }
            }
            #expect(try await accounts.findOne(.eq("_id", "a"))?.balance == 10)
            #expect(try await notes.count(.eq("text", "never")) == 0)
        }
    }

    @Test func aDuplicateKeyAbortsTheWholeTransaction() async throws {
        try await withTestDatabase { db in
            let accounts = db.collection("accounts", of: Account.self)
            let notes = db.collection("notes", of: Note.self)
            try await accounts.insert(Account(_id: "taken", balance: 1))
            try await notes.insert(Note(_id: ObjectId(), text: "seed"))

            await #expect {
                try await db.client.withTransaction { session in
                    try await notes.insert(Note(_id: ObjectId(), text: "orphan"), session: session)
                    try await accounts.insert(Account(_id: "taken", balance: 2), session: session)
                }
            } throws: { error in
                if case MongoError.duplicateKey = error { true } else { false }
            }
            #expect(try await notes.count(.eq("text", "orphan")) == 0)
            #expect(try await accounts.findOne(.eq("_id", "taken"))?.balance == 1)
        }
    }

    /// Transactions writing one document conflict (WriteConflict, 112); each is retried
    /// until it commits, so every increment lands and none surfaces as an error.
    @Test func conflictingTransactionsAreRetriedUntilEachCommits() async throws {
        try await withTestDatabase { db in
            let accounts = db.collection("accounts", of: Account.self)
            let notes = db.collection("notes", of: Note.self)
            try await accounts.insert(Account(_id: "shared", balance: 0))
            try await notes.insert(Note(_id: ObjectId(), text: "seed"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<6 {
                    group.addTask {
                        try await db.client.withTransaction { session in
                            _ = try await accounts.updateOne(.eq("_id", "shared"), .inc("balance", 1), session: session)
                            try await notes.insert(Note(_id: ObjectId(), text: "inc \(n)"), session: session)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await accounts.findOne(.eq("_id", "shared"))?.balance == 6)
            #expect(try await notes.count(.ne("text", "seed")) == 6)
        }
    }
}
