import BSON
import Foundation
import Hummingbird
import HummingbirdTesting
import Mongo
import ServiceTestSupport
import Testing
import TestSupport

/// Group administration and files, through the chat service's HTTP API.
extension ChatTests {
@Suite struct GroupAndFileTests {
    static func put(_ stack: Stack, _ path: String, as user: TestUser, _ body: [String: Any]) async throws -> String {
        try await stack.chats[0].execute(uri: path, method: .put, headers: user.json, body: json(body)) { outcome($0) }
    }

    @Test func groupAdminRulesAndLeaving() async throws {
        try await Stack.run(chatReplicas: 1) { stack in
            let (ada, bob, cy, dee) = (try await stack.user("Ada"), try await stack.user("Bob"), try await stack.user("Cy"), try await stack.user("Dee"))
            try await stack.connect(ada, bob)
            try await stack.connect(ada, cy)
            func create(_ body: [String: Any]) async throws -> (String, [String: Any]) {
                try await stack.chats[0].execute(uri: "/create-group", method: .post, headers: ada.json, body: json(body)) {
                    (outcome($0), jsonObject($0))  // the group itself, as the reference answered
                }
            }
            #expect(try await create(["name": "Solo", "participants": [bob.id]]).0 == "400 group_too_small")
            #expect(try await create(["name": "Strangers", "participants": [bob.id, dee.id]]).0 == "403 not_connected", "Dee is not connected to Ada")
            #expect(try await create(["name": " ", "participants": [bob.id, cy.id]]).0 == "400 invalid_name")
            #expect(try await create(["name": "X", "participants": [bob.id, ["$ne": ""]]]).0 == "400 invalid_field")
            let (created, group) = try await create(["name": "Friends", "participants": [bob.id, cy.id, ada.id]])
            #expect(created == "201" && group["admins"] as? [String] == [ada.id] && Set(group["participants"] as? [String] ?? []) == [ada.id, bob.id, cy.id])
            let chatId = try #require(group["id"] as? String)

            #expect(try await Self.put(stack, "/add-to-group", as: bob, ["chatId": chatId, "userIdToAdd": dee.id]) == "403 forbidden", "only admins add")
            #expect(try await Self.put(stack, "/add-to-group", as: ada, ["chatId": chatId, "userIdToAdd": dee.id]) == "403 not_connected")
            #expect(try await Self.put(stack, "/add-to-group", as: ada, ["chatId": chatId, "userIdToAdd": bob.id]) == "400 already_member")
            #expect(try await Self.put(stack, "/add-to-group", as: ada, ["chatId": chatId, "userId": ["$ne": ""]]) == "400 invalid_field", "the alias is checked too")
            #expect(try await Self.put(stack, "/remove-from-group", as: cy, ["chatId": chatId, "userIdToRemove": bob.id]) == "403 forbidden", "only admins remove")
            #expect(try await Self.put(stack, "/remove-from-group", as: dee, ["chatId": chatId, "userIdToRemove": bob.id]) == "404 not_found", "outsiders see nothing")
            #expect(try await Self.put(stack, "/add-to-group", as: ada, ["chatId": "nope", "userIdToAdd": dee.id]) == "400 invalid_id")
            let removed = try await stack.chats[0].execute(uri: "/remove-from-group", method: .put, headers: ada.json,
                                                           body: json(["chatId": chatId, "userIdToRemove": cy.id])) { (outcome($0), jsonObject($0)) }
            #expect(removed.0 == "200" && removed.1["participants"] as? [String] == [ada.id, bob.id], "the group itself comes back")
            try await stack.chats[0].execute(uri: "/messages/\(chatId)", method: .get, headers: cy.bearer) { #expect(outcome($0) == "404 not_found", "a removed member reads nothing") }

            // The last admin leaving hands admin on; the last participant leaving deletes the group.
            let left = try await stack.chats[0].execute(uri: "/leave-group", method: .put, headers: ada.json, body: json(["chatId": chatId])) {
                (outcome($0), jsonObject($0))
            }
            #expect(left.0 == "200" && left.1["message"] as? String == "Successfully left the group"
                    && (left.1["chat"] as? [String: Any])?["participants"] as? [String] == [bob.id], "the reference's {message, chat}")
            let after = try #require(try await stack.chatDB.collection("chats", of: BSONDocument.self).findOne(.eq("_id", ObjectId(chatId)!)))
            #expect(after["admins"] == .array([.string(bob.id)]) && after["participants"] == .array([.string(bob.id)]))
            #expect(try await Self.put(stack, "/leave-group", as: ada, ["chatId": chatId]) == "404 not_found")
            #expect(try await Self.put(stack, "/leave-group", as: bob, ["chatId": chatId]) == "200")
            #expect(try await stack.chatDB.collection("chats", of: BSONDocument.self).count(.eq("_id", ObjectId(chatId)!)) == 0)
        }
    }

    @Test func aDeletedAccountLeavesEveryChatAndConnection() async throws {
        try await Stack.run(chatReplicas: 1) { stack in
            let (ada, bob, cy) = (try await stack.user("Ada"), try await stack.user("Bob"), try await stack.user("Cy"))
            try await stack.connect(ada, bob)
            try await stack.connect(ada, cy)
            let direct = try #require(try await stack.directChat(ada, with: bob).chatId)
            let group = try await stack.chats[0].execute(uri: "/create-group", method: .post, headers: ada.json, body: json(["name": "G", "participants": [bob.id, cy.id]])) {
                jsonObject($0)["_id"] as? String
            }
            try await stack.auth.execute(uri: "/me", method: .delete, headers: bob.bearer) { #expect($0.status == .ok) }
            let chats = stack.chatDB.collection("chats", of: BSONDocument.self)
            let connections = stack.chatDB.collection("connections", of: BSONDocument.self)
            let gone = await eventually {
                let inChats = try await chats.count(.eq("participants", bob.id))
                let connected = try await connections.count(Filter.or([.eq("user1", bob.id), .eq("user2", bob.id)]))
                return inChats == 0 && connected == 0
            }
            #expect(gone, "auth.user.deleted takes Bob out of both chats and his connection")
            let groupId = try #require(group.flatMap(ObjectId.init))
            let groupAfter = try #require(try await chats.findOne(.eq("_id", groupId)))
            #expect(groupAfter["participants"] == .array([.string(ada.id), .string(cy.id)]))
            #expect(try await stack.directChat(ada, with: bob).outcome == "403 not_connected")
            try await stack.chats[0].execute(uri: "/messages/\(direct)", method: .get, headers: ada.bearer) { #expect($0.status == .ok, "Ada keeps her history") }
        }
    }

    @Test func filesAreCheckedStoredAndServedToParticipantsOnly() async throws {
        try await Stack.run(chatReplicas: 1) { stack in
            let (ada, bob, eve) = (try await stack.user("Ada"), try await stack.user("Bob"), try await stack.user("Eve"))
            try await stack.connect(ada, bob)
            let chat = try #require(try await stack.directChat(ada, with: bob).chatId)
            func send(_ bytes: [UInt8], as user: TestUser, chatId: String = chat, filename: String = "a.png", type: String = "image/png") async throws -> (String, [String: Any]) {
                let form = MultipartBody().field("chatId", chatId).field("text", "look").file("file", filename: filename, type: type, bytes)
                return try await stack.chats[0].execute(uri: "/send-file", method: .post, headers: form.headers(user.bearer), body: form.body) {
                    (outcome($0), jsonObject($0))  // the message itself, as the reference answered
                }
            }
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<1000).map { UInt8($0 % 251) }
            #expect(try await send([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 1, count: 5 * 1024 * 1024), as: ada).0 == "413 payload_too_large")
            #expect(try await send([], as: ada).0 == "400 empty_file")
            #expect(try await send(png, as: eve).0 == "404 not_found", "not her chat")
            let (sent, message) = try await send(png, as: ada, filename: "../../etc/x.png")
            #expect(sent == "201")
            let file = try #require(message["file"] as? [String: Any])
            #expect(file["name"] as? String == "x.png" && file["mimeType"] as? String == "image/png" && file["size"] as? Int == png.count)
            let fileId = try #require(file["fileId"] as? String)
            #expect(file["url"] as? String == "/chat/files/\(fileId)", "the bytes are fetched there, never in JSON")
            try await stack.chats[0].execute(uri: "/files/\(fileId)", method: .get, headers: bob.bearer) { response in
                #expect(response.status == .ok && Array(response.body.readableBytesView) == png && response.headers[.contentType] == "image/png")
                #expect(response.headers[.contentDisposition]?.hasPrefix("attachment") == true && response.headers[.xContentTypeOptions] == "nosniff")
            }
            // Any file, as the reference took it; what is not a known safe type is served as bytes.
            let page = Array("<html><script>alert(1)</script></html>".utf8)
            let (sentPage, pageMessage) = try await send(page, as: ada, filename: "page.html", type: "text/html")
            let pageFile = try #require(pageMessage["file"] as? [String: Any])
            #expect(sentPage == "201" && pageFile["mimeType"] as? String == "text/html", "the declared type is kept for display")
            try await stack.chats[0].execute(uri: "/files/\(pageFile["fileId"] as? String ?? "")", method: .get, headers: bob.bearer) { response in
                #expect(response.headers[.contentType] == "application/octet-stream" && response.headers[.contentDisposition]?.hasPrefix("attachment") == true,
                        "never served inline, never as HTML")
            }
            let exe: [UInt8] = Array("MZ".utf8) + [UInt8](repeating: 0x90, count: 200)
            let (sentExe, exeMessage) = try await send(exe, as: ada, filename: "setup.png", type: "image/png")
            #expect(sentExe == "201")
            try await stack.chats[0].execute(uri: "/files/\((exeMessage["file"] as? [String: Any])?["fileId"] as? String ?? "")", method: .get, headers: bob.bearer) { response in
                #expect(response.headers[.contentType] == "application/octet-stream", "the bytes decide, not the name or the declared type")
            }
            try await stack.chats[0].execute(uri: "/files/\(fileId)", method: .get, headers: eve.bearer) { #expect(outcome($0) == "404 not_found") }
            try await stack.chats[0].execute(uri: "/files/\(ObjectId().hex)", method: .get, headers: bob.bearer) { #expect(outcome($0) == "404 not_found") }
            try await stack.chats[0].execute(uri: "/files/\(fileId)", method: .get) { #expect($0.status == .unauthorized) }
        }
    }
}
}
