import BSON
import Foundation
import Hummingbird
import HummingbirdTesting
import Mongo
import ServiceTestSupport
import Testing
import TestSupport

extension Stack {
    /// `a` invites `b` and `b` accepts; returns once chat has the connection (by event).
    func connect(_ a: TestUser, _ b: TestUser) async throws {
        let id = try await request.execute(uri: "/invite/send", method: .post, headers: a.json, body: json(["toEmail": b.email])) { response in
            ((jsonObject(response)["data"] as? [String: Any])?["id"] as? String) ?? ""
        }
        let answered = try await request.execute(uri: "/respond/\(id)", method: .patch, headers: b.json, body: json(["status": "accepted"])) { $0.status }
        guard answered == .ok else { throw StackFailure("accepting the invite answered \(answered)") }
        let pair = a.id < b.id ? "\(a.id)|\(b.id)" : "\(b.id)|\(a.id)"
        let connections = chatDB.collection("connections", of: BSONDocument.self)
        guard await eventually(timeout: .seconds(20), { try await connections.count(.eq("_id", pair)) == 1 }) else {
            throw StackFailure("request.accepted did not reach chat")
        }
    }

    /// Every chat replica ready: its delivery queue bound before anything is sent (`/ready` says so).
    func expectChatReplicasReady() async {
        for replica in chats {
            let ready = await eventually(timeout: .seconds(20)) { try await replica.execute(uri: "/ready", method: .get) { $0.status == .ok } }
            #expect(ready)
        }
    }

    /// `a` and `b` connected, their direct chat opened, every replica ready: the chat's id.
    func connectedDirectChat(_ a: TestUser, _ b: TestUser) async throws -> String {
        try await connect(a, b)
        let chat = try #require(try await directChat(a, with: b).chatId)
        await expectChatReplicasReady()
        return chat
    }

    /// `POST /create-direct` as `a` with `b`: the chat id, or the error outcome.
    func directChat(_ a: TestUser, with b: TestUser, replica: Int = 0) async throws -> (outcome: String, chatId: String?) {
        try await chats[replica].execute(uri: "/create-direct", method: .post, headers: a.json, body: json(["receiverId": b.id])) { response in
            (outcome(response), jsonObject(response)["_id"] as? String)
        }
    }
}

/// Runs python-socketio chat clients (a script in Tests/ChatTests/Clients); their JSON report.
func runChatClients(_ arguments: [String], script name: String = "chat_clients.py") async throws -> [String: Any] {
    let run = try await PythonRun("Tests/ChatTests/Clients/\(name)", arguments)
    try #require(run.status == 0, "\(run.output)")
    return run.report ?? [:]
}
