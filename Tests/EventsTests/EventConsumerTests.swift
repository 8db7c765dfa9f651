import AMQP
import Events
import Foundation
import Logging
import Mongo
import Synchronization
import TestSupport
import Testing

private struct Flaky: Error {}

/// The test broker's event exchange is shared with every other suite (and the end-to-end
/// processes) running at the same time: each test reacts to its own events only.
@Suite struct EventConsumerTests {
    @Test func aRedeliveredEventIsAppliedOnce() async throws {
        let bed = try EventTestBed()
        let counters = bed.database.collection("counters", of: Counter.self)
        let events = EventConsumer(service: bed.service, mongo: bed.mongo, database: bed.database.name, amqp: bed.amqp)
        let correlation = Mutex<[String]>([])
        let userId = TestServers.uniqueName("once")
        events.on(UserCreated.self) { envelope, context in
            guard envelope.data.userId == userId else { return }
            _ = try await counters.updateOne(.eq("_id", envelope.data.userId), .inc("n", 1), upsert: true, session: context.session)
            if case .string(let c)? = context.logger[metadataKey: "correlationId"] { correlation.withLock { $0.append(c) } }
        }
        try await events.start()

        let publisher = Publisher(config: bed.amqp, topology: EventTopology.producer)
        let envelope = EventEnvelope(UserCreated(userId: userId, email: "o@x.y", firstName: "O", lastName: "N"), correlationId: "req-42")
        for _ in 0..<3 { try await publisher.publish(try bed.envelopeBody(envelope)) }  // the same event, three times

        let admin = AMQPAdmin(config: bed.amqp)
        var drained = false
        for _ in 0..<200 where !drained {
            try await Task.sleep(for: .milliseconds(25))
            drained = try await admin.messageCount(bed.queue(UserCreated.self)) == 0 && correlation.withLock { !$0.isEmpty }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await counters.findOne(.eq("_id", userId))?.n == 1, "three deliveries, one effect")
        #expect(correlation.withLock { $0 } == ["req-42"], "the correlation id reached the handler's logger, once")
        #expect(try await admin.messageCount(bed.deadQueue(UserCreated.self)) == 0)

        await events.close()
        await publisher.close()
        try await bed.cleanUp([UserCreated.self])
    }

    @Test func aFailingHandlerIsRetriedThenSucceeds() async throws {
        let bed = try EventTestBed()
        let counters = bed.database.collection("counters", of: Counter.self)
        let attempts = Mutex(0)
        // What each afterCommit action saw outside the transaction: the committed count.
        let seenAfterCommit = Mutex<[Int?]>([])
        let events = EventConsumer(service: bed.service, mongo: bed.mongo, database: bed.database.name, amqp: bed.amqp,
                                   retry: RetryPolicy(maxAttempts: 4, firstDelay: .milliseconds(10)))
        let userId = TestServers.uniqueName("gone")
        events.on(UserDeleted.self) { envelope, context in
            guard envelope.data.userId == userId else { return }
            // Writes, then fails: the failed attempts' writes must roll back.
            _ = try await counters.updateOne(.eq("_id", envelope.data.userId), .inc("n", 1), upsert: true, session: context.session)
            context.afterCommit {
                let n = try? await counters.findOne(.eq("_id", userId))?.n
                seenAfterCommit.withLock { $0.append(n) }
            }
            if attempts.withLock({ $0 += 1; return $0 }) < 3 { throw Flaky() }
        }
        try await events.start()
        let publisher = Publisher(config: bed.amqp, topology: EventTopology.producer)
        try await publisher.publish(try bed.envelopeBody(EventEnvelope(UserDeleted(userId: userId), correlationId: "r1")))

        var applied: Int?
        for _ in 0..<200 where applied == nil {
            try await Task.sleep(for: .milliseconds(25))
            applied = try await counters.findOne(.eq("_id", userId))?.n
        }
        #expect(attempts.withLock { $0 } == 3)
        #expect(applied == 1, "only the successful attempt's write committed")
        for _ in 0..<40 where seenAfterCommit.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(25)) }
        #expect(seenAfterCommit.withLock { $0 } == [1], "afterCommit ran once, for the attempt that committed, and saw its write")
        #expect(try await AMQPAdmin(config: bed.amqp).messageCount(bed.deadQueue(UserDeleted.self)) == 0)

        await events.close()
        await publisher.close()
        try await bed.cleanUp([UserDeleted.self])
    }

    @Test func aHandlerThatKeepsFailingIsDeadLetteredWithTheReason() async throws {
        let bed = try EventTestBed()
        let attempts = Mutex(0)
        let events = EventConsumer(service: bed.service, mongo: bed.mongo, database: bed.database.name, amqp: bed.amqp,
                                   retry: RetryPolicy(maxAttempts: 3, firstDelay: .milliseconds(10)))
        let requestId = TestServers.uniqueName("doomed")
        events.on(RequestAccepted.self) { envelope, _ in
            guard envelope.data.requestId == requestId else { return }
            attempts.withLock { $0 += 1 }
            throw Flaky()
        }
        try await events.start()
        let publisher = Publisher(config: bed.amqp, topology: EventTopology.producer)
        try await publisher.publish(try bed.envelopeBody(EventEnvelope(RequestAccepted(requestId: requestId, fromUserId: "a", toUserId: "b"), correlationId: "c")))
        // Not JSON at all: dead-lettered without retries.
        try await publisher.publish(AMQPMessage(exchange: EventTopology.exchange, routingKey: RequestAccepted.type, body: Array("garbage".utf8), messageId: "junk"))

        let dead = Seen()
        let deadConsumer = Consumer(config: bed.amqp, queue: bed.deadQueue(RequestAccepted.self)) { delivery in
            dead.add(delivery)
            return .ack
        }
        deadConsumer.start()
        #expect(await dead.wait(timeout: .seconds(20)) { $0.count == 2 })
        let byId = Dictionary(uniqueKeysWithValues: dead.all.map { ($0.message.messageId ?? "", $0.message) })
        let poison = try #require(byId.first { $0.key != "junk" }?.value)
        #expect(poison.headers["x-attempts"] == .int(3))
        #expect(poison.headers["x-error"].map { if case .string(let s) = $0 { s.contains("Flaky") } else { false } } == true)
        #expect(poison.headers["x-original-routing-key"] == .string(RequestAccepted.type))
        #expect(byId["junk"]?.headers["x-error"] == .string("not an event envelope"))
        #expect(attempts.withLock { $0 } == 3)
        #expect(try await AMQPAdmin(config: bed.amqp).messageCount(bed.queue(RequestAccepted.self)) == 0)

        await deadConsumer.close()
        await events.close()
        await publisher.close()
        try await bed.cleanUp([RequestAccepted.self])
    }
}
