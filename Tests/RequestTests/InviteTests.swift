import AMQP
import BSON
import Events
import Foundation
import Hummingbird
import HummingbirdTesting
import Mongo
import ServiceTestSupport
import TestSupport
import Testing

/// The request service through its HTTP API: invites between users that exist only
/// because auth's events said so.
@Suite struct InviteTests {
    static func send(_ stack: Stack, from: TestUser, to email: String, message: String? = nil) async throws -> (String, String) {
        var body: [String: Any] = ["toEmail": email]
        if let message { body["message"] = message }
        return try await stack.request.execute(uri: "/invite/send", method: .post, headers: from.json, body: json(body)) { response in
            (outcome(response), (jsonObject(response)["data"] as? [String: Any])?["id"] as? String ?? "")
        }
    }

    static func list(_ stack: Stack, _ which: String, as user: TestUser) async throws -> [[String: Any]] {
        try await stack.request.execute(uri: "/invites/\(which)", method: .get, headers: user.bearer) { response in
            #expect(response.status == .ok)
            let body = jsonObject(response)
            let data = body["data"] as? [[String: Any]] ?? []
            #expect(body["count"] as? Int == data.count, "the reference's count")
            return data
        }
    }

    static func respond(_ stack: Stack, _ id: String, _ status: Any, as user: TestUser) async throws -> String {
        try await stack.request.execute(uri: "/respond/\(id)", method: .patch, headers: user.json, body: json(["status": status])) { outcome($0) }
    }

    static func cancel(_ stack: Stack, _ id: String, as user: TestUser) async throws -> String {
        try await stack.request.execute(uri: "/cancel/\(id)", method: .delete, headers: user.bearer) { outcome($0) }
    }

    @Test func theInviteLifeCycle() async throws {
        try await Stack.run { stack in
            let answers = try await AnswerWatcher.start()
            let ada = try await stack.user("Ada")
            let bob = try await stack.user("Bob")
            let cy = try await stack.user("Cy")

            // send → received list → accept → request.accepted
            let (sent, id) = try await Self.send(stack, from: ada, to: " \(bob.email.uppercased()) ", message: "Let's talk")
            #expect(sent == "201")
            let received = try await Self.list(stack, "received", as: bob)
            #expect(received.count == 1 && received[0]["id"] as? String == id && received[0]["message"] as? String == "Let's talk")
            #expect((received[0]["fromUser"] as? [String: Any])?["emailId"] as? String == ada.email)
            #expect(try await Self.list(stack, "sent", as: ada).first?["status"] as? String == "pending")
            // Each filter is an answer cached apart: an answer changes them all.
            #expect(try await Self.list(stack, "received?status=pending", as: bob).count == 1)
            #expect(try await Self.list(stack, "received?status=accepted", as: bob).isEmpty)
            #expect(try await Self.respond(stack, id, "accepted", as: bob) == "200")
            #expect(try await Self.list(stack, "received?status=accepted", as: bob).count == 1, "the filtered cached list was dropped")
            #expect(try await Self.list(stack, "sent?status=accepted", as: ada).count == 1)
            #expect(try await Self.list(stack, "received", as: bob).map { $0["status"] as? String } == ["accepted"],
                    "received lists every invite with its status, as the reference's source does")
            try await stack.request.execute(uri: "/invites/received?status=pending", method: .get, headers: bob.bearer) { response in
                #expect((jsonObject(response)["data"] as? [Any])?.isEmpty == true && jsonObject(response)["count"] as? Int == 0, "?status= filters")
            }
            try await stack.request.execute(uri: "/invites/received?status=maybe", method: .get, headers: bob.bearer) { #expect(outcome($0) == "400 invalid_status") }
            #expect(try await Self.list(stack, "sent", as: ada).first?["status"] as? String == "accepted", "the sender's cached list was dropped")
            let accepted = try await answers.wait(for: id)
            #expect(accepted.type == RequestAccepted.type && accepted.from == ada.id && accepted.to == bob.id)

            // Connected users cannot invite each other again, in either direction.
            #expect(try await Self.send(stack, from: bob, to: ada.email).0 == "409 already_connected")

            // send → reject → request.rejected; after a rejection a new invite may follow.
            let (_, second) = try await Self.send(stack, from: cy, to: ada.email)
            #expect(try await Self.respond(stack, second, "reject", as: ada) == "200")
            let rejected = try await answers.wait(for: second)
            #expect(rejected.type == RequestRejected.type)
            #expect(try await Self.respond(stack, second, "accepted", as: ada) == "409 invite_not_pending")

            // send → cancel: gone from both lists, no event.
            let (_, third) = try await Self.send(stack, from: cy, to: bob.email)
            #expect(try await Self.cancel(stack, third, as: cy) == "200")
            #expect(try await Self.list(stack, "received", as: bob).allSatisfy { $0["id"] as? String != third }, "a cancelled invite is gone")
            #expect(try await Self.list(stack, "sent", as: cy).allSatisfy { $0["id"] as? String != third })
            let events = try await stack.requestDB.collection("outbox", of: BSONDocument.self).count()
            #expect(events == 2, "one event per answer, none for a cancel")
            await answers.stop()
        }
    }

    @Test func everyRuleIsRefusedWithItsStatusAndChangesNothing() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            let bob = try await stack.user("Bob")
            let eve = try await stack.user("Eve")
            #expect(try await Self.send(stack, from: ada, to: ada.email).0 == "400 self_invite")
            #expect(try await Self.send(stack, from: ada, to: "nobody-\(UUID())@example.com").0 == "404 not_found")
            let (_, id) = try await Self.send(stack, from: ada, to: bob.email)
            #expect(try await Self.send(stack, from: ada, to: bob.email).0 == "409 already_invited")
            #expect(try await Self.send(stack, from: bob, to: ada.email).0 == "409 invited_by_them")

            #expect(try await Self.respond(stack, id, "accepted", as: ada) == "403 forbidden", "only the recipient answers")
            #expect(try await Self.cancel(stack, id, as: bob) == "403 forbidden", "only the sender cancels")
            #expect(try await Self.respond(stack, id, "accepted", as: eve) == "404 not_found", "someone else's invite does not exist for Eve")
            #expect(try await Self.cancel(stack, id, as: eve) == "404 not_found")
            #expect(try await Self.respond(stack, ObjectId().hex, "accepted", as: bob) == "404 not_found")
            #expect(try await Self.respond(stack, "not-an-id", "accepted", as: bob) == "400 invalid_id")
            #expect(try await Self.respond(stack, id, "maybe", as: bob) == "400 invalid_status")
            #expect(try await Self.respond(stack, id, ["$ne": "x"], as: bob) == "400 invalid_field")
            #expect(try await Self.list(stack, "received", as: eve).isEmpty)

            let invites = try await stack.requestDB.collection("invites", of: BSONDocument.self).findAll()
            #expect(invites.count == 1 && invites[0]["status"] == "pending")
            #expect(try await stack.requestDB.collection("outbox", of: BSONDocument.self).count() == 0)
        }
    }

    @Test func twoConcurrentAcceptsMakeOneAnswerAndOneEvent() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            let bob = try await stack.user("Bob")
            for _ in 0..<3 {
                let (_, id) = try await Self.send(stack, from: ada, to: bob.email)
                async let first = Self.respond(stack, id, "accepted", as: bob)
                async let second = Self.respond(stack, id, "rejected", as: bob)
                let outcomes = try await [first, second].sorted()
                #expect(outcomes == ["200", "409 invite_not_pending"])
                let events = try await stack.requestDB.collection("outbox", of: BSONDocument.self).findAll()
                #expect(events.filter { $0["body"]?.stringValue?.contains(id) == true }.count == 1)
                // Free the pair for the next round.
                try await stack.requestDB.collection("invites", of: BSONDocument.self).deleteMany(.all)
            }
        }
    }

    @Test func badInputOnEveryEndpoint() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            let bob = try await stack.user("Bob")
            let cases: [(Any, String)] = [
                ([String: Any](), "400 missing_field"),
                (["toEmail": 42], "400 invalid_field"),
                (["toEmail": ["$ne": ""]], "400 invalid_field"),
                (["toEmail": "not-an-email"], "400 invalid_email"),
                (["toEmail": bob.email, "message": ["$gt": ""]], "400 invalid_field"),
                (["toEmail": bob.email, "message": String(repeating: "m", count: 501)], "400 invalid_message"),
                (["just", "an", "array"], "400 invalid_body"),
            ]
            for (body, expected) in cases {
                try await stack.request.execute(uri: "/invite/send", method: .post, headers: ada.json, body: json(body)) {
                    #expect(outcome($0) == expected, "\(body)")
                }
            }
            let twoMB = ByteBuffer(string: #"{"toEmail":""# + String(repeating: "a", count: 2 * 1024 * 1024) + #""}"#)
            try await stack.request.execute(uri: "/invite/send", method: .post, headers: ada.json, body: twoMB) { #expect(outcome($0) == "413 payload_too_large") }
            try await stack.request.execute(uri: "/respond/\(ObjectId().hex)", method: .patch, headers: ada.json, body: json(["state": "accepted"])) {
                #expect(outcome($0) == "400 missing_field")
            }
            let routes: [(String, HTTPRequest.Method)] = [("/invite/send", .post), ("/respond/\(ObjectId().hex)", .patch), ("/invites/sent", .get),
                                                           ("/invites/received", .get), ("/cancel/\(ObjectId().hex)", .delete)]
            for (uri, method) in routes {
                try await stack.request.execute(uri: uri, method: method, headers: [.contentType: "application/json"], body: json(["toEmail": bob.email])) {
                    #expect(outcome($0) == "401 unauthorized", "\(uri)")
                }
            }
            #expect(try await stack.requestDB.collection("invites", of: BSONDocument.self).count() == 0)
        }
    }

    /// Account deletion reaches the request service as `auth.user.deleted`: the user leaves
    /// the directory and their invites go.
    @Test func aDeletedAccountLeavesNoInvites() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            let bob = try await stack.user("Bob")
            _ = try await Self.send(stack, from: ada, to: bob.email)
            #expect(try await Self.list(stack, "received", as: bob).count == 1)
            try await stack.auth.execute(uri: "/me", method: .delete, headers: ada.bearer) { #expect($0.status == .ok) }
            let invites = stack.requestDB.collection("invites", of: BSONDocument.self)
            let directory = stack.requestDB.collection("directory", of: BSONDocument.self)
            let cleared = await eventually {
                let left = try await invites.count()
                let known = try await directory.count(.eq("_id", ada.id))
                return left == 0 && known == 0
            }
            #expect(cleared)
            #expect(try await Self.list(stack, "received", as: bob).isEmpty, "Bob's cached list was dropped")
            #expect(try await Self.send(stack, from: bob, to: ada.email).0 == "404 not_found")
        }
    }
}

/// A test consumer of `request.accepted` and `request.rejected` on a queue of its own.
final class AnswerWatcher: Sendable {
    struct Answer: Sendable {
        let type: String
        let requestId: String
        let from: String
        let to: String
    }
    let consumers: [Consumer]
    let queues: [String]
    let seen = Collected<Answer>()
    static let amqp = AMQPConfiguration(port: TestServers.amqpPort)

    private init(service: String) {
        queues = [RequestAccepted.type, RequestRejected.type].map { EventTopology.queue(service: service, type: $0) }
        let seen = self.seen
        consumers = queues.map { queue in
            Consumer(config: Self.amqp, queue: queue) { delivery in
                struct Body: Decodable {
                    struct Data: Decodable { let requestId: String; let fromUserId: String; let toUserId: String }
                    let data: Data
                }
                if let header = try? EventCoding.decoder.decode(EventHeader.self, from: Data(delivery.message.body)),
                   let answer = try? EventCoding.decoder.decode(Body.self, from: Data(delivery.message.body)) {
                    seen.add(Answer(type: header.type, requestId: answer.data.requestId, from: answer.data.fromUserId, to: answer.data.toUserId))
                }
                return .ack
            }
        }
    }

    static func start() async throws -> AnswerWatcher {
        let service = TestServers.uniqueName("answers")
        for type in [RequestAccepted.type, RequestRejected.type] {
            try await AMQPAdmin(config: amqp).declare(EventTopology.consumer(service: service, type: type))
        }
        let watcher = AnswerWatcher(service: service)
        for consumer in watcher.consumers { consumer.start() }
        return watcher
    }

    func wait(for requestId: String) async throws -> Answer {
        guard await seen.wait(timeout: .seconds(20), until: { $0.contains { $0.requestId == requestId } }),
              let answer = seen.all.first(where: { $0.requestId == requestId })
        else { throw StackFailure("no event for invite \(requestId)") }
        try await Task.sleep(for: .milliseconds(200))  // room for a duplicate
        #expect(seen.all.filter { $0.requestId == requestId }.count == 1, "one event per answer")
        return answer
    }

    func stop() async {
        for consumer in consumers { await consumer.close() }
        for queue in queues {
            try? await AMQPAdmin(config: Self.amqp).deleteQueue(queue)
            try? await AMQPAdmin(config: Self.amqp).deleteQueue(queue + ".dead")
        }
    }
}
