import AMQP
import BSON
import Events
import Foundation
import Mongo
import ServiceTestSupport
import TestSupport
import Testing

@Suite struct DirectoryTests {
    /// An account deleted and made again with the same email: the new account's
    /// `auth.user.created` may arrive before the old one's `auth.user.deleted` (they
    /// travel on different queues). The directory must end up knowing the new account.
    @Test func aReusedEmailSurvivesEventsOutOfOrder() async throws {
        try await Stack.run { stack in
            let publisher = Publisher(config: AMQPConfiguration(port: TestServers.amqpPort), topology: EventTopology.producer)
            let email = "reused-\(UUID().uuidString.prefix(8).lowercased())@example.com"
            let (old, new) = (ObjectId().hex, ObjectId().hex)
            let directory = stack.requestDB.collection("directory", of: BSONDocument.self)

            try await Self.publish(UserCreated(userId: old, email: email, firstName: "Old", lastName: "Account"), with: publisher)
            #expect(await eventually { try await directory.count(.eq("_id", old)) == 1 })
            try await Self.publish(UserCreated(userId: new, email: email, firstName: "New", lastName: "Account"), with: publisher)
            #expect(await eventually { try await directory.count(.eq("_id", new)) == 1 })
            try await Self.publish(UserDeleted(userId: old), with: publisher)
            try await Task.sleep(for: .milliseconds(500))
            let entries = try await directory.findAll(.eq("email", email))
            #expect(entries.count == 1 && entries.first?["_id"]?.stringValue == new)
            await publisher.close()
        }
    }

    static func publish<P: EventPayload>(_ payload: P, with publisher: Publisher) async throws {
        try await publisher.publish(.event(EventEnvelope(payload, correlationId: "directory-test")))
    }
}
