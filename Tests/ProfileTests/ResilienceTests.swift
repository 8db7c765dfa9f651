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

@Suite struct ResilienceTests {
    /// Redis is a cache: with it stopped, profile and invite reads answer from MongoDB, and
    /// writes are seen at once (no stale entry can be served while it is down).
    @Test func readsKeepAnsweringWithRedisStopped() async throws {
        try await TestServers.faultRedisLock.withLock {
            let redis = TestServers.faultRedis
            try await Stack.run(redisPort: redis.port) { stack in
                let ada = try await stack.user("Ada")
                let bob = try await stack.user("Bob")
                try await stack.request.execute(uri: "/invite/send", method: .post, headers: ada.json, body: json(["toEmail": bob.email])) {
                    #expect($0.status == .created)
                }
                // Warm the caches, then take Redis away.
                try await stack.profile.execute(uri: "/getProfile", method: .get, headers: ada.bearer) { #expect($0.status == .ok) }
                try await stack.request.execute(uri: "/invites/received", method: .get, headers: bob.bearer) { #expect($0.status == .ok) }
                try await TestServers.servers("stop", redis.name)
                do {
                    try await stack.profile.execute(uri: "/getProfile", method: .get, headers: ada.bearer) { response in
                        #expect(response.status == .ok && (jsonObject(response)["data"] as? [String: Any])?["firstName"] as? String == "Ada")
                    }
                    try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: ada.json, body: json(["about": "cache-free"])) {
                        #expect($0.status == .ok)
                    }
                    try await stack.profile.execute(uri: "/\(ada.id)", method: .get, headers: bob.bearer) { response in
                        #expect((jsonObject(response)["data"] as? [String: Any])?["about"] as? String == "cache-free")
                    }
                    try await stack.request.execute(uri: "/invites/received", method: .get, headers: bob.bearer) { response in
                        #expect(response.status == .ok && (jsonObject(response)["data"] as? [Any])?.count == 1)
                    }
                    let id = try await stack.request.execute(uri: "/invites/received", method: .get, headers: bob.bearer) {
                        ((jsonObject($0)["data"] as? [[String: Any]])?.first?["id"] as? String) ?? ""
                    }
                    try await stack.request.execute(uri: "/respond/\(id)", method: .patch, headers: bob.json, body: json(["status": "accepted"])) {
                        #expect($0.status == .ok)
                    }
                    try await stack.request.execute(uri: "/invites/sent", method: .get, headers: ada.bearer) { response in
                        #expect((jsonObject(response)["data"] as? [[String: Any]])?.first?["status"] as? String == "accepted")
                    }
                    try await stack.profile.execute(uri: "/ready", method: .get) { #expect($0.status == .serviceUnavailable, "readiness says Redis is down") }
                } catch {
                    try? await TestServers.servers("restart", redis.name)
                    throw error
                }
                try await TestServers.servers("restart", redis.name)
            }
        }
    }

    /// The same `auth.user.created` delivered twice (and a replay under a new event id)
    /// leaves one profile and one directory entry.
    @Test func theSameEventTwiceMakesOneProfile() async throws {
        try await Stack.run { stack in
            let publisher = Publisher(config: AMQPConfiguration(port: TestServers.amqpPort), topology: EventTopology.producer)
            let userId = ObjectId().hex
            let created = UserCreated(userId: userId, email: "twice-\(userId)@example.com", firstName: "Twice", lastName: "Sent")
            let envelope = EventEnvelope(created, correlationId: "twice")
            let replay = EventEnvelope(created, correlationId: "replay")
            for event in [envelope, envelope, replay] {
                try await publisher.publish(.event(event))
            }
            await publisher.close()
            let markers = stack.profileDB.collection("processed_events", of: BSONDocument.self)
            let profiles = stack.profileDB.collection("profiles", of: BSONDocument.self)
            // Markers are `<queue>:<event id>`: wait until both event ids were applied.
            let processed = await eventually {
                let ids = try await markers.findAll().compactMap { $0["_id"]?.stringValue }
                return [envelope.id, replay.id].allSatisfy { id in ids.contains { $0.hasSuffix(":" + id) } }
            }
            #expect(processed)
            try await Task.sleep(for: .milliseconds(500))  // let the duplicates be handled too
            #expect(try await profiles.count(.eq("_id", userId)) == 1)
            #expect(try await stack.requestDB.collection("directory", of: BSONDocument.self).count(.eq("_id", userId)) == 1)
        }
    }
}
