import BSON
import Foundation
import Hummingbird
import HummingbirdTesting
import Redis
import ServiceTestSupport
import Testing
import TestSupport

/// Every chat test runs a whole stack (auth, profile, request, one or two chat replicas):
/// one at a time, so together with the other suites' stacks they stay under the test
/// MongoDB server's 1,000 connections.
@Suite(.serialized) struct ChatTests {}

/// Chat in real time over Socket.IO with python-socketio as the client, against real
/// auth, request and chat services, RabbitMQ, MongoDB and Redis.
extension ChatTests {
@Suite struct RealtimeChatTests {
    @Test(arguments: ["websocket", "polling"])
    func connectedUsersChatAndNobodyElseCan(transport: String) async throws {
        try await Stack.run(chatReplicas: 1) { stack in
            let ada = try await stack.user("Ada")
            let bob = try await stack.user("Bob")
            let eve = try await stack.user("Eve")
            #expect(try await stack.directChat(eve, with: ada).outcome == "403 not_connected", "no accepted invite, no chat")
            try await stack.connect(ada, bob)
            let (opened, chatId) = try await stack.directChat(ada, with: bob)
            #expect(opened == "201", "a new chat")
            let again = try await stack.directChat(bob, with: ada)
            #expect(again.chatId == chatId && again.outcome == "200", "the existing chat comes back")
            let chat = try #require(chatId)

            let url = "http://127.0.0.1:\(stack.chats[0].port!)"
            let seen = try await runChatClients([transport, url, url, ada.token, bob.token, eve.token, chat])
            #expect((seen["adaJoin"] as? [String: Any])?["ok"] as? Bool == true && (seen["bobJoin"] as? [String: Any])?["ok"] as? Bool == true)
            let sent = (seen["adaSent"] as? [String: Any])?["data"] as? [String: Any]
            #expect(sent?["text"] as? String == "hello bob" && sent?["senderId"] as? String == ada.id && sent?["chatId"] as? String == chat)
            #expect(seen["bobGotIt"] as? Bool == true)
            let received = seen["bobReceived"] as? [String: Any]
            #expect(received?["id"] as? String == sent?["id"] as? String && received?["text"] as? String == "hello bob", "Bob gets the stored message")
            #expect((seen["adaReceivedOwn"] as? [String: Any])?["_id"] as? String == sent?["_id"] as? String,
                    "the sender's socket hears its own message too, as with the reference's io.to(chatId)")
            #expect(((seen["emptyText"] as? [String: Any])?["error"] as? [String: Any])?["code"] as? String == "invalid_text")
            #expect(((seen["operatorId"] as? [String: Any])?["error"] as? [String: Any])?["code"] as? String == "invalid_id")
            #expect(((seen["eveJoin"] as? [String: Any])?["error"] as? [String: Any])?["code"] as? String == "not_found")
            #expect(seen["eveError"] as? String == "Chat not found", "and the reference's `error` event")
            #expect(((seen["eveSend"] as? [String: Any])?["error"] as? [String: Any])?["code"] as? String == "not_found")
            #expect(seen["forged"] as? String != "connected" && (seen["forgedError"] as? [String: Any])?["message"] as? String == "Unauthorized - Invalid or expired token",
                    "a forged token is refused with CONNECT_ERROR")

            // History: participants only, the message stored once, read by whoever read it.
            try await stack.chats[0].execute(uri: "/messages/\(chat)", method: .get, headers: eve.bearer) { #expect(outcome($0) == "404 not_found") }
            try await stack.chats[0].execute(uri: "/messages/\(chat)", method: .get, headers: bob.bearer) { response in
                let data = jsonArray(response)
                #expect(response.status == .ok && data.count == 1 && data.first?["text"] as? String == "hello bob")
            }
            try await stack.chats[0].execute(uri: "/messages/\(chat)", method: .get, headers: ada.bearer) { response in
                let readBy = jsonArray(response).first?["readBy"] as? [String] ?? []
                #expect(Set(readBy) == [ada.id, bob.id], "Bob read it by opening the chat")
            }
            try await stack.chats[0].execute(uri: "/my-chats", method: .get, headers: bob.bearer) { response in
                let chats = jsonArray(response)
                #expect(chats.count == 1 && chats.first?["lastMessage"] as? String == sent?["_id"] as? String
                        && (chats.first?["lastMessagePreview"] as? [String: Any])?["text"] as? String == "hello bob")
            }
            try await stack.chats[0].execute(uri: "/my-chats", method: .get, headers: eve.bearer) { response in
                #expect(response.status == .ok && jsonArray(response).isEmpty)
            }
        }
    }

    @Test func aMessageSentOnOneReplicaReachesSocketsOnAnother() async throws {
        try await Stack.run(chatReplicas: 2) { stack in
            let ada = try await stack.user("Ada")
            let bob = try await stack.user("Bob")
            let eve = try await stack.user("Eve")
            try await stack.connect(ada, bob)
            let chat = try #require(try await stack.directChat(ada, with: bob).chatId)
            await stack.expectChatReplicasReady()
            let seen = try await runChatClients([
                "websocket", "http://127.0.0.1:\(stack.chats[0].port!)", "http://127.0.0.1:\(stack.chats[1].port!)",
                ada.token, bob.token, eve.token, chat,
            ])
            #expect(seen["bobGotIt"] as? Bool == true, "Bob, on the other replica, hears Ada through RabbitMQ")
            #expect((seen["bobReceived"] as? [String: Any])?["text"] as? String == "hello bob")
        }
    }

    @Test func aRemovedMemberStopsHearingTheGroupOnEveryReplica() async throws {
        try await Stack.run(chatReplicas: 2) { stack in
            let (ada, bob, cy) = (try await stack.user("Ada"), try await stack.user("Bob"), try await stack.user("Cy"))
            try await stack.connect(ada, bob)
            try await stack.connect(ada, cy)
            let group = try await stack.chats[0].execute(uri: "/create-group", method: .post, headers: ada.json, body: json(["name": "G", "participants": [bob.id, cy.id]])) {
                jsonObject($0)["_id"] as? String
            }
            let chat = try #require(group)
            await stack.expectChatReplicasReady()
            // Ada (admin) on replica 0; Bob and Cy on replica 1; Ada removes Cy on replica 0.
            let seen = try await runChatClients([
                "http://127.0.0.1:\(stack.chats[0].port!)", "http://127.0.0.1:\(stack.chats[1].port!)",
                ada.token, bob.token, cy.token, chat, cy.id,
            ], script: "group_eviction.py")
            #expect(seen["joins"] as? [Bool] == [true, true, true] && seen["removeStatus"] as? Int == 200)
            let heard = seen["heard"] as? [String: [String]]
            #expect(seen["keptGotAfter"] as? Bool == true && heard?["kept"] == ["before", "after"])
            #expect(heard?["removed"] == ["before"], "Cy's socket on the other replica left the room with the removal")
            #expect(((seen["rejoin"] as? [String: Any])?["error"] as? [String: Any])?["code"] as? String == "not_found", "and cannot join again")
        }
    }
}
}

/// Typing indicators across replicas, flood limits and the cap on a user's sockets, with
/// python-socketio against two chat replicas (low limits, so the test is quick).
extension ChatTests {
@Suite struct TypingAndFloodTests {
    @Test func typingReachesTheRoomOnceAndFloodsAreRefusedUnstored() async throws {
        let limits = ["CHAT_SOCKET_EVENTS_PER_SECOND": "2", "CHAT_SOCKET_EVENT_BURST": "10", "CHAT_USER_EVENTS_PER_SECOND": "1000",
                      "CHAT_USER_EVENT_BURST": "1000", "CHAT_SOCKETS_PER_USER": "4", "CHAT_TYPING_INTERVAL_MS": "5000"]
        try await Stack.run(chatReplicas: 2, chatEnvironment: limits) { stack in
            let (ada, bob, eve) = (try await stack.user("Ada"), try await stack.user("Bob"), try await stack.user("Eve"))
            let chat = try await stack.connectedDirectChat(ada, bob)
            let flood = 40
            let seen = try await runChatClients([
                "http://127.0.0.1:\(stack.chats[0].port!)", "http://127.0.0.1:\(stack.chats[1].port!)",
                ada.token, bob.token, eve.token, chat, String(flood),
            ], script: "typing_and_floods.py")
            #expect(seen["joins"] as? [Bool] == [true, true])
            #expect(seen["typingAcks"] as? [Bool] == [true, true, true] && seen["stopAck"] as? Bool == true)
            let heard = (seen["bobHeard"] as? [[Any]] ?? []).map { ($0[0] as? String ?? "", ($0[1] as? [String: Any])?["userId"] as? String, ($0[1] as? [String: Any])?["chatId"] as? String) }
            #expect(heard.map(\.0) == ["typing", "stopTyping"], "Bob, on the other replica, hears one start (three were sent) and the stop: \(heard)")
            #expect(heard.allSatisfy { $0.1 == ada.id && $0.2 == chat })
            #expect((seen["adaHeard"] as? [Any])?.isEmpty == true, "the typist's own socket hears nothing")
            #expect(((seen["eveTyping"] as? [String: Any])?["error"] as? [String: Any])?["code"] as? String == "not_found")

            // 40 at once against a burst of 10 (less the join) and 2 a second.
            let stored = try #require(seen["floodStored"] as? Int), refused = try #require(seen["floodRefusedCount"] as? Int)
            print("flood: \(flood) sendMessage at once against a burst of 10 and 2 a second: \(stored) stored, \(refused) refused (rate_limited)")
            #expect(stored + refused == flood)
            #expect((9...14).contains(stored), "the burst and what came back meanwhile: \(stored)")
            #expect(seen["floodRefused"] as? [String] == ["rate_limited"])
            try await stack.chats[0].execute(uri: "/messages/\(chat)?limit=100", method: .get, headers: ada.bearer) { response in
                #expect(jsonArray(response).count == stored, "a refused message is not stored")
            }

            #expect(seen["adaSockets"] as? Int == 4, "four sockets is Ada's cap")
            #expect(seen["refusalMessage"] as? String == "Too many connections for this user")
            #expect(seen["afterClosingOne"] as? String == "connected", "a closed socket frees its place")
        }
    }
}
}

/// Editing and deleting: the sender only, every member's socket hears it on every replica,
/// and the history and the chat list show it.
extension ChatTests {
@Suite struct MessageEditTests {
    @Test func theSenderEditsAndDeletesAndEveryReplicaHearsIt() async throws {
        try await Stack.run(chatReplicas: 2) { stack in
            let (ada, bob, eve) = (try await stack.user("Ada"), try await stack.user("Bob"), try await stack.user("Eve"))
            let chat = try await stack.connectedDirectChat(ada, bob)
            let seen = try await runChatClients([
                "http://127.0.0.1:\(stack.chats[0].port!)", "http://127.0.0.1:\(stack.chats[1].port!)",
                ada.token, bob.token, eve.token, chat,
            ], script: "edits.py")
            let ids = try #require(seen["ids"] as? [String])
            #expect(seen["bobEdit"] as? Int == 403 && seen["bobDelete"] as? Int == 403, "a fellow member cannot touch Ada's message")
            #expect(seen["eveEdit"] as? Int == 404, "for an outsider the chat does not exist")
            #expect(seen["emptyEdit"] as? Int == 400 && seen["wrongType"] as? Int == 400 && seen["otherChatsMessage"] as? Int == 404)
            let edit = seen["adaEdit"] as? [Any]
            let edited = edit?.last as? [String: Any]
            #expect(edit?.first as? Int == 200 && edited?["text"] as? String == "second, edited" && edited?["_id"] as? String == ids[1])
            #expect(edited?["editedAt"] as? String != nil && edited?["updatedAt"] as? String == edited?["editedAt"] as? String)
            #expect(seen["adaDelete"] as? Int == 204 && seen["adaDeleteAgain"] as? Int == 404)

            #expect(seen["bobHeardBoth"] as? Bool == true)
            for listener in ["bobHeard", "adaHeard"] {
                let heard = seen[listener] as? [[Any]] ?? []
                #expect(heard.map { $0[0] as? String } == ["messageEdited", "messageDeleted"], "\(listener): \(heard)")
                #expect((heard.first?[1] as? [String: Any])?["text"] as? String == "second, edited")
                let deleted = heard.last?[1] as? [String: Any]
                #expect(deleted?["messageId"] as? String == ids[1] && deleted?["chatId"] as? String == chat)
            }
            #expect(seen["history"] as? [String] == ["first"], "the deleted message is gone from the history")
            #expect(seen["preview"] as? String == "first", "and the chat's preview falls back to the message before it")
            let left = try await stack.chatDB.collection("messages", of: BSONDocument.self).count(.eq("chatId", chat))
            #expect(left == 1)
        }
    }
}
}

/// Unread counts from per-member read markers; marking read over the socket or REST, and
/// the room hearing it on every replica; `readBy` computed, the messages never rewritten.
extension ChatTests {
@Suite struct ReadMarkerTests {
    @Test func chatListsCountUnreadAndReadingMovesTheMarker() async throws {
        try await Stack.run(chatReplicas: 2) { stack in
            let (ada, bob) = (try await stack.user("Ada"), try await stack.user("Bob"))
            let chat = try await stack.connectedDirectChat(ada, bob)
            let seen = try await runChatClients([
                "http://127.0.0.1:\(stack.chats[0].port!)", "http://127.0.0.1:\(stack.chats[1].port!)", ada.token, bob.token, chat,
            ], script: "reading.py")
            let before = seen["unreadBefore"] as? [String: [Int]]
            #expect(before?["bob"] == [3] && before?["ada"] == [0], "three from Ada unread by Bob; none of her own: \(String(describing: before))")
            let mark = seen["socketMark"] as? [String: Any]
            #expect(mark?["ok"] as? Bool == true && mark?["readAt"] as? String != nil)
            #expect(seen["adaHeardIt"] as? Bool == true, "Ada, on the other replica, hears that Bob read")
            let heard = (seen["adaHeard"] as? [[String: Any]])?.first
            #expect(heard?["userId"] as? String == bob.id && heard?["chatId"] as? String == chat && heard?["readAt"] as? String == mark?["readAt"] as? String)
            #expect(seen["unreadAfterMark"] as? [Int] == [0] && seen["unreadAfterFour"] as? [Int] == [1])
            #expect((seen["restMark"] as? [String: Any])?["readAt"] as? String != nil)
            #expect((seen["restMarkAgain"] as? [String: Any])?["readAt"] is NSNull, "nothing new: the marker stays, readAt null")
            #expect(seen["unreadAtEnd"] as? [Int] == [0])
            let readBy = seen["readBy"] as? [[String]] ?? []
            #expect(readBy.count == 4 && readBy.allSatisfy { Set($0) == [ada.id, bob.id] }, "readBy, computed from the markers: \(readBy)")
            let stored = try await stack.chatDB.collection("messages", of: BSONDocument.self).findAll(.eq("chatId", chat))
            #expect(stored.count == 4 && stored.allSatisfy { $0["readBy"] == .array([.string(ada.id)]) }, "no message was rewritten by reading")
        }
    }
}
}

/// Presence across replicas: contacts hear a user come online and go offline, tabs count
/// as one, and a replica that stops beating takes its users offline.
extension ChatTests {
@Suite struct PresenceTests {
    static let fast = ["CHAT_PRESENCE_HEARTBEAT_MS": "500", "CHAT_PRESENCE_DEAD_AFTER_MS": "3000"]

    @Test func contactsHearAUserComeAndGoOnEveryReplica() async throws {
        try await Stack.run(chatReplicas: 2, chatEnvironment: Self.fast) { stack in
            let (ada, bob, eve) = (try await stack.user("Ada"), try await stack.user("Bob"), try await stack.user("Eve"))
            try await stack.connect(ada, bob)
            await stack.expectChatReplicasReady()
            let rounds = 10
            let seen = try await runChatClients([
                "http://127.0.0.1:\(stack.chats[0].port!)", "http://127.0.0.1:\(stack.chats[1].port!)",
                ada.token, bob.token, eve.token, bob.id, String(rounds),
            ], script: "presence.py")
            let latencies = (seen["latencies"] as? [Any] ?? []).compactMap { $0 as? Double }.sorted()
            #expect(latencies.count == 2 * rounds, "Ada heard every arrival and departure: \(String(describing: seen["latencies"]))")
            let p95 = latencies.isEmpty ? .infinity : latencies[Int((Double(latencies.count) * 0.95).rounded(.up)) - 1]
            print("presence latency across replicas, \(latencies.count) changes: p50 \(latencies.isEmpty ? 0 : latencies[latencies.count / 2]) s, p95 \(p95) s, max \(latencies.last ?? 0) s")
            #expect(p95 < 2, "p95 within 2 s: \(latencies)")
            #expect(seen["readBefore"] as? Bool == false && seen["readWithOneTab"] as? Bool == true && seen["readAfter"] as? Bool == false)
            #expect(seen["tab1Online"] as? Bool == true && seen["lastTabOffline"] as? Bool == true)
            #expect((seen["whileOneTabLeft"] as? [Any])?.isEmpty == true, "a second tab, and closing one of two, say nothing: \(String(describing: seen["whileOneTabLeft"]))")
            #expect((seen["eveHeard"] as? [Any])?.isEmpty == true, "Eve is neither Bob's contact nor in a chat with him")
        }
    }

    /// A replica that dies cannot say its users left: its heartbeat stops, and the others
    /// take them offline once it is `CHAT_PRESENCE_DEAD_AFTER_MS` old.
    @Test func aReplicaThatStopsBeatingTakesItsUsersOffline() async throws {
        try await Stack.run(chatReplicas: 1, chatEnvironment: Self.fast) { stack in
            let (ada, bob) = (try await stack.user("Ada"), try await stack.user("Bob"))
            try await stack.connect(ada, bob)
            // Bob online only on a replica that beat last 2.5 s ago and then died.
            let redis = RedisClient(port: TestServers.redisPort)
            let dead = "dead-\(UUID().uuidString)"
            let lastBeat = Date().addingTimeInterval(-2.5)
            _ = try await redis.pipeline([
                ["ZADD", "presence:v1:replicas", Int(lastBeat.timeIntervalSince1970 * 1000), dead],
                ["HSET", "presence:v1:user:\(bob.id)", dead, "1"], ["SADD", "presence:v1:replica:\(dead)", bob.id],
            ])
            let seen = try await runChatClients(["http://127.0.0.1:\(stack.chats[0].port!)", ada.token, bob.id, "10"], script: "presence_sweep.py")
            let offlineAt = try #require(seen["offlineAt"] as? Double, "Ada heard Bob go offline")
            let after = offlineAt - lastBeat.timeIntervalSince1970
            print("a dead replica's user went offline \(after) s after its last heartbeat (dead after 3 s, beats every 0.5 s)")
            #expect(after >= 3 && after < 5, "once the replica is 3 s silent, within a beat or two: \(after)")
            let left = try await redis.pipeline([["EXISTS", "presence:v1:user:\(bob.id)"], ["EXISTS", "presence:v1:replica:\(dead)"], ["ZSCORE", "presence:v1:replicas", dead]])
            #expect(left.map(\.integer) == [0, 0, nil], "nothing of the dead replica is left: \(left)")
            try await redis.close()
        }
    }
}
}

/// Connection state recovery with the official Socket.IO 4 client: offline while messages
/// arrive through another replica, back on a third; and past the window, a new session.
extension ChatTests {
@Suite struct RecoveryTests {
    @Test(arguments: [(window: 45, offline: 30_000), (window: 2, offline: 4_000)])
    func aClientComesBackOnAnotherReplicaWithWhatItMissed(window: Int, offline: Int) async throws {
        let count = 50
        try await Stack.run(chatReplicas: 3, chatEnvironment: ["CHAT_RECOVERY_WINDOW_SECONDS": String(window)]) { stack in
            let (ada, bob) = (try await stack.user("Ada"), try await stack.user("Bob"))
            let chat = try await stack.connectedDirectChat(ada, bob)
            let urls = stack.chats.map { "http://127.0.0.1:\($0.port!)" }
            let run = try await PythonRun(interpreter: "/usr/bin/node", "Tests/ChatTests/Clients/recovery.cjs", [
                TestServers.socketIOClient, urls[0], urls[1], urls[2], ada.token, bob.token, chat, String(offline), String(count),
            ])
            let seen = try #require(run.report, "\(run.output)")
            #expect(seen["error"] == nil, "\(String(describing: seen["error"]))")
            #expect(seen["stored"] as? Int == count, "Bob's messages were all stored")
            let heard = seen["heard"] as? [String] ?? []
            let missed = (1...count).map { "missed \($0)" }
            let ids = seen["ids"] as? [String] ?? []
            let recovered = seen["recovered"] as? [Bool] ?? []
            if offline < window * 1000 {
                #expect(recovered == [false, true], "socket.recovered on the reconnection: \(recovered)")
                #expect(ids.count == 2 && ids[0] == ids[1], "the same socket id: \(ids)")
                #expect(heard == ["before"] + missed, "all \(count), in order, none twice: \(heard)")
            } else {
                #expect(recovered == [false, false] && ids.count == 2 && ids[0] != ids[1], "past the window: a new session \(ids) \(recovered)")
                #expect(heard == ["before"], "nothing replayed into a new session: \(heard)")
                try await stack.chats[2].execute(uri: "/messages/\(chat)?limit=100", method: .get, headers: ada.bearer) { response in
                    #expect(jsonArray(response).compactMap { $0["text"] as? String } == ["before"] + missed, "the history over REST has them all")
                }
            }
        }
    }
}
}
