import BSON
import Foundation
import Mongo
import Testing

struct User: Codable, Sendable, Equatable {
    var _id: ObjectId
    var email: String
    var name: String
    var age: Int
    var tags: [String]
    var createdAt: Date
}

private func user(_ email: String, age: Int = 30, tags: [String] = [], createdAt: Date = Date(timeIntervalSince1970: 1_700_000_000)) -> User {
    User(_id: ObjectId(), email: email, name: "N \(email)", age: age, tags: tags, createdAt: createdAt)
}

@Suite struct MongoCollectionTests {
    @Test func insertFindUpdateDeleteCount() async throws {
        try await withTestDatabase { db in
            let users = db.collection("users", of: User.self)
            let ada = user("ada@example.com", age: 36)
            try await users.insert(ada)
            try await users.insert(many: [user("bob@example.com", age: 20), user("cy@example.com", age: 50)])

            #expect(try await users.findOne(.eq("_id", ada._id)) == ada)
            #expect(try await users.count() == 3)
            #expect(try await users.count(.gte("age", 30)) == 2)

            let result = try await users.updateOne(.eq("email", "bob@example.com"), .set("name", "Bob").inc("age", 1).push("tags", "new"))
            #expect(result.matched == 1 && result.modified == 1)
            let bob = try #require(try await users.findOne(.eq("email", "bob@example.com")))
            #expect(bob.name == "Bob" && bob.age == 21 && bob.tags == ["new"])

            _ = try await users.updateOne(.eq("email", "bob@example.com"), .pull("tags", "new"))
            #expect(try await users.findOne(.eq("email", "bob@example.com"))?.tags == [])

            #expect(try await users.updateMany(.lt("age", 100), .inc("age", 10)).modified == 3)
            #expect(try await users.deleteOne(.eq("email", "cy@example.com")) == 1)
            #expect(try await users.deleteMany(.all) == 2)
            #expect(try await users.count() == 0)
        }
    }

    @Test func upsertCreatesOnceThenUpdates() async throws {
        try await withTestDatabase { db in
            let users = db.collection("users", of: User.self)
            let template = user("up@example.com")
            let insertOnly = try BSONEncoder().encode(template)
            let first = try await users.updateOne(.eq("email", "up@example.com"), Update().setOnInsert(insertOnly), upsert: true)
            #expect(first.upsertedId != nil)
            let second = try await users.updateOne(.eq("email", "up@example.com"), .set("age", 99), upsert: true)
            #expect(second.upsertedId == nil && second.matched == 1)
            #expect(try await users.count() == 1)
            #expect(try await users.findOne(.eq("email", "up@example.com"))?.age == 99)
        }
    }

    @Test func findSortsLimitsSkipsAndProjects() async throws {
        try await withTestDatabase { db in
            let users = db.collection("users", of: User.self)
            try await users.insert(many: (0..<10).map { user("u\($0)@example.com", age: $0) })
            let page = try await users.findAll(.all, options: FindOptions(sort: [("age", .descending)], limit: 3, skip: 2))
            #expect(page.map(\.age) == [7, 6, 5])

            struct EmailOnly: Codable, Sendable { var email: String; var age: Int? }
            let emails = try await db.collection("users", of: EmailOnly.self)
                .findAll(.lt("age", 2), options: FindOptions(sort: [("age", .ascending)], projection: ["email"]))
            #expect(emails.map(\.email) == ["u0@example.com", "u1@example.com"])
            #expect(emails.allSatisfy { $0.age == nil }, "the projection left age out")
        }
    }

    @Test func cursorStreamsManyBatches() async throws {
        try await withTestDatabase { db in
            let users = db.collection("users", of: User.self)
            try await users.insert(many: (0..<250).map { user("c\($0)@example.com", age: $0) })
            var seen = 0
            var lastAge = -1
            for try await u in try await users.find(.all, options: FindOptions(sort: [("age", .ascending)], batchSize: 16)) {
                #expect(u.age == lastAge + 1)
                lastAge = u.age
                seen += 1
            }
            #expect(seen == 250)

            // A cursor abandoned half-way gives its client back to the pool (4 threads × 4 clients):
            // opening many more than that would hang if it did not.
            for _ in 0..<40 {
                var it = try await users.find(.all, options: FindOptions(batchSize: 2)).makeAsyncIterator()
                _ = try await it.next()
            }
            #expect(try await users.count() == 250)
        }
    }

    @Test func findOneAndUpdateIsAtomicAcrossRacers() async throws {
        try await withTestDatabase { db in
            let users = db.collection("users", of: User.self)
            try await users.insert(user("race@example.com", tags: ["pending"]))
            // Twenty racers try to move the one "pending" document on; exactly one wins.
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await users.findOneAndUpdate(
                            .eq("email", "race@example.com") && .eq("tags", "pending"),
                            .set("tags", ["accepted"])) != nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            #expect(try await users.findOne(.eq("email", "race@example.com"))?.tags == ["accepted"])
        }
    }

    @Test func duplicateKeyIsATypedError() async throws {
        try await withTestDatabase { db in
            let users = db.collection("users", of: User.self)
            try await users.createIndexes([Index("email", unique: true)])
            try await users.insert(user("dup@example.com"))
            await #expect {
                try await users.insert(user("dup@example.com"))
            } throws: { error in
                guard case MongoError.duplicateKey = error else { return false }
                return true
            }
            #expect(try await users.count() == 1)

            // The same through an update and an upsert.
            try await users.insert(user("other@example.com"))
            await #expect {
                _ = try await users.updateOne(.eq("email", "other@example.com"), .set("email", "dup@example.com"))
            } throws: { error in
                if case MongoError.duplicateKey = error { true } else { false }
            }
        }
    }

    @Test func compoundAndTTLIndexesAreCreated() async throws {
        try await withTestDatabase { db in
            let users = db.collection("users", of: User.self)
            try await users.createIndexes([
                Index([("email", .ascending), ("age", .descending)], unique: true),
                Index("createdAt", expireAfterSeconds: 3600),
            ])
            let indexes = Dictionary(uniqueKeysWithValues: try await users.indexes().compactMap { index in
                index["name"]?.stringValue.map { ($0, index) }
            })
            let compound = try #require(indexes["email_1_age_-1"])
            #expect(compound["key"] == ["email": .int32(1), "age": .int32(-1)])
            #expect(compound["unique"] == true)
            let ttl = try #require(indexes["createdAt_1"])
            #expect(ttl["expireAfterSeconds"]?.integerValue == 3600)
            // The compound unique index allows the same email with another age only. (Created now:
            // documents from 2023 are past the TTL, and the server's TTL sweep may remove them mid-test.)
            try await users.insert(user("c@example.com", age: 1, createdAt: Date()))
            try await users.insert(user("c@example.com", age: 2, createdAt: Date()))
            await #expect(throws: MongoError.self) { try await users.insert(user("c@example.com", age: 1, createdAt: Date())) }
        }
    }

    @Test func userInputCannotBecomeAnOperator() async throws {
        try await withTestDatabase { db in
            let users = db.collection("users", of: User.self)
            try await users.insert(user("victim@example.com"))
            // Input shaped like an operator is compared literally and matches nothing.
            let hostile: BSONValue = ["$ne": ""]
            #expect(try await users.count(.eq("email", hostile)) == 0)
            // Inside `$in` the server refuses such a value outright: an error, never a match.
            let viaIn = try? await users.count(.in("email", [hostile]))
            #expect(viaIn == nil || viaIn == 0)
            #expect(try await users.count(.hasPrefix("email", ".*")) == 0, "regex characters are escaped")
            #expect(try await users.count(.hasPrefix("email", "VICTIM")) == 1)

            // Values carrying `$` keys are refused before they reach the server.
            await #expect(throws: MongoError.self) {
                _ = try await users.updateOne(.eq("email", "victim@example.com"), .set("name", hostile))
            }
            struct Free: Codable, Sendable { var _id: ObjectId; var extra: [String: String] }
            await #expect(throws: MongoError.self) {
                try await db.collection("free", of: Free.self).insert(Free(_id: ObjectId(), extra: ["$where": "1"]))
            }
            #expect(try await users.findOne(.eq("email", "victim@example.com"))?.name == "N victim@example.com")
        }
    }

    @Test func wrongShapeOnReadIsAnInvalidDocumentError() async throws {
        try await withTestDatabase { db in
            try await db.collection("users", of: User.self).insert(user("shape@example.com"))
            struct Wrong: Codable, Sendable { var email: Int }
            await #expect(throws: MongoError.self) { _ = try await db.collection("users", of: Wrong.self).findAll() }
        }
    }

    @Test func invalidURIIsRefusedWithoutEchoingIt() {
        #expect {
            _ = try MongoClient(uri: "mongodb://user:hunter2@host:notaport/", threads: 1)
        } throws: { error in
            !"\(error)".contains("hunter2")
        }
    }

    @Test func unreachableServerIsUnavailable() async throws {
        let client = try MongoClient(uri: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300", threads: 1)
        await #expect {
            try await client.ping()
        } throws: { error in
            if case MongoError.unavailable = error { true } else { false }
        }
        try await client.close()
    }
}
