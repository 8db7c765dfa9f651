import BSON
@testable import Chat
import Foundation
import Logging
import Mongo
import ServiceLifecycle
import Testing
import TestSupport

/// A chat's last message follows its messages lazily: against the test database, without
/// the HTTP stack.
@Suite struct RecentActivityTests {
    private func withStore(_ body: (MongoChatStore, MongoDatabase) async throws -> Void) async throws {
        let mongo = try MongoClient(uri: TestServers.mongoURI, threads: 2)
        let database = mongo.database(TestServers.uniqueName("activity"))
        let store = MongoChatStore(database: database, logger: Logger(label: "chat"))
        do {
            try await store.prepare()
            try await body(store, database)
        } catch {
            try? await database.drop()
            try? await mongo.close()
            throw error
        }
        try await database.drop()
        try await mongo.close()
    }

    private func message(in chat: Chat, at millis: Int, id: ObjectId = ObjectId()) -> Message {
        Message(_id: id, chatId: chat._id.hex, senderId: "ada", text: "at \(millis)", file: nil, readBy: ["ada"],
                createdAt: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    @Test func aSendWritesOnlyTheMessageAndTheChatFollows() async throws {
        try await withStore { store, database in
            let rawChats: MongoCollection<BSONDocument> = database.collection("chats")
            let created = Date(timeIntervalSince1970: 1_000)
            let chat = try await store.createGroup(name: "g", creator: "ada", members: ["bob"], now: created)
            let other = try await store.createGroup(name: "h", creator: "ada", members: ["bob"], now: created.addingTimeInterval(1))
            let sent = message(in: chat, at: 5_000_000)
            try await store.add(sent)

            let stored = try await rawChats.findOne(.eq("_id", chat._id))
            #expect(stored?["lastMessage"] == nil, "the send wrote the message alone")
            // This process's list shows it at once, and puts the chat first.
            let listed = try await store.chats(of: "bob")
            #expect(listed.map(\._id) == [chat._id, other._id] && listed.first?.lastMessage?.messageId == sent._id.hex)

            await store.recentActivity.flush()
            let written = try await rawChats.findOne(.eq("_id", chat._id))
            #expect(written?["lastMessage"]?.documentValue?["messageId"]?.stringValue == sent._id.hex)
            #expect(written?["updatedAt"] == sent.createdAt.bsonValue, "the chat's recent-activity order moved with it")
            #expect(try await store.chats(of: "bob").map(\._id) == [chat._id, other._id])
        }
    }

    /// Another replica, whose memory holds nothing of the send, lists it at once too.
    @Test func anotherReplicaReadsTheNewestMessageAtOnce() async throws {
        try await withStore { store, database in
            let replica = MongoChatStore(database: database, logger: Logger(label: "chat-2"))
            let created = Date().addingTimeInterval(-60)
            let chat = try await store.createGroup(name: "g", creator: "ada", members: ["bob"], now: created)
            let other = try await store.createGroup(name: "h", creator: "ada", members: ["bob"], now: created.addingTimeInterval(1))
            let first = message(in: chat, at: Int(Date().timeIntervalSince1970 * 1000) - 5)
            let second = message(in: chat, at: Int(Date().timeIntervalSince1970 * 1000))
            try await store.add(first)
            try await store.add(second)
            let listed = try await replica.chats(of: "bob")
            #expect(listed.map(\._id) == [chat._id, other._id] && listed.first?.lastMessage == LastMessage(second))
            #expect(listed.first?.updatedAt == second.createdAt)
        }
    }

    /// Running, it writes within its interval, and what is left when it is told to stop.
    @Test func itWritesWhileRunningAndOnGracefulShutdown() async throws {
        try await withStore { store, database in
            let rawChats: MongoCollection<BSONDocument> = database.collection("chats")
            let chats: MongoCollection<Chat> = database.collection("chats")
            let chat = try await store.createGroup(name: "g", creator: "ada", members: ["bob"], now: Date(timeIntervalSince1970: 1_000))
            let lastId: @Sendable () async throws -> String? = { try await rawChats.findOne(.eq("_id", chat._id))?["lastMessage"]?.documentValue?["messageId"]?.stringValue }
            // A long interval: only the shutdown can have written the second message.
            for interval in [Duration.milliseconds(50), .seconds(3600)] {
                let activity = RecentActivity(chats: chats, interval: interval, logger: Logger(label: "chat"))
                let group = ServiceGroup(services: [activity], gracefulShutdownSignals: [], logger: Logger(label: "test"))
                let sent = message(in: chat, at: interval == .seconds(3600) ? 3_000_000 : 2_000_000)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    activity.record(chatId: chat._id, LastMessage(messageId: sent._id.hex, senderId: "ada", text: sent.text, createdAt: sent.createdAt))
                    if interval == .milliseconds(50) {
                        #expect(await eventually(timeout: .seconds(20)) { try await lastId() == sent._id.hex }, "written while running")
                    }
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }
                #expect(try await lastId() == sent._id.hex)
            }
        }
    }

    /// Two chat processes and flushes in any order: the chat ends with the newest message,
    /// by time and then id, never an older one written late.
    @Test func concurrentSendersLeaveTheNewestMessage() async throws {
        try await withStore { store, database in
            let rawChats: MongoCollection<BSONDocument> = database.collection("chats")
            let chat = try await store.createGroup(name: "g", creator: "ada", members: ["bob"], now: Date(timeIntervalSince1970: 1_000))
            let chats: MongoCollection<Chat> = database.collection("chats")
            let replicas = [RecentActivity(chats: chats, logger: Logger(label: "a")), RecentActivity(chats: chats, logger: Logger(label: "b"))]
            let sameMillisecond = [ObjectId(), ObjectId()].sorted { $0.hex < $1.hex }
            var messages = (0..<40).map { message(in: chat, at: 2_000_000 + $0) }
            messages += sameMillisecond.map { message(in: chat, at: 2_000_100, id: $0) }
            let newest = messages.last!

            for (i, sent) in messages.shuffled().enumerated() {
                replicas[i % 2].record(chatId: chat._id, LastMessage(messageId: sent._id.hex, senderId: sent.senderId, text: sent.text, createdAt: sent.createdAt))
                if i % 7 == 0 { await replicas[(i / 7) % 2].flush() }
            }
            await withTaskGroup(of: Void.self) { group in
                for replica in replicas { group.addTask { await replica.flush() } }
            }
            let written = try await rawChats.findOne(.eq("_id", chat._id))
            #expect(written?["lastMessage"]?.documentValue?["messageId"]?.stringValue == newest._id.hex)
            #expect(written?["updatedAt"] == newest.createdAt.bsonValue)

            // An older message flushed last changes nothing.
            replicas[0].record(chatId: chat._id, LastMessage(messageId: messages[0]._id.hex, senderId: "ada", text: "old", createdAt: messages[0].createdAt))
            await replicas[0].flush()
            #expect(try await rawChats.findOne(.eq("_id", chat._id))?["lastMessage"]?.documentValue?["messageId"]?.stringValue == newest._id.hex)
        }
    }
}
