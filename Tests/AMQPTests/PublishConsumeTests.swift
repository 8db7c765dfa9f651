import AMQP
import Synchronization
import TestSupport
import Testing

@Suite struct PublishConsumeTests {
    let config = AMQPConfiguration(port: TestServers.amqpPort)

    @Test func tenThousandConfirmedMessagesAreAllConsumedAndAcked() async throws {
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology)
        let received = Received()
        let consumer = Consumer(config: config, topology: t.topology, queue: t.queue, prefetch: 200) { delivery in
            received.record(delivery)
            return .ack
        }
        consumer.start()
        let count = 10_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<count { group.addTask { try await publisher.publish(t.message("m\(i)")) } }
            try await group.waitForAll()
        }
        let all = await received.wait(timeout: .seconds(60)) { $0.ids.count == count }
        #expect(all, "received \(received.ids.count) of \(count)")
        #expect(received.deliveries == count, "no duplicates without failures")
        await consumer.close()
        await publisher.close()
        #expect(try await AMQPAdmin(config: config).messageCount(t.queue) == 0, "every message was acked")
        try await t.cleanUp(config)
    }

    @Test func anOrderedConsumerHandsDeliveriesOverInTheOrderSent() async throws {
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology)
        let order = Mutex<[String]>([])
        let consumer = Consumer(config: config, topology: t.topology, queue: t.queue, prefetch: 100, ordered: true) { delivery in
            // Uneven handler times would reorder an unordered consumer's parallel handlers.
            try? await Task.sleep(for: .microseconds(Int.random(in: 0...400)))
            order.withLock { $0.append(delivery.message.messageId ?? "?") }
            return .ack
        }
        consumer.start()
        let count = 300
        for i in 0..<count { try await publisher.publish(t.message("m\(i)")) }
        let all = await Received().wait(timeout: .seconds(30)) { _ in order.withLock { $0.count } == count }
        #expect(all)
        #expect(order.withLock { $0 } == (0..<count).map { "m\($0)" })
        await consumer.close()
        await publisher.close()
        #expect(try await AMQPAdmin(config: config).messageCount(t.queue) == 0, "every message was acked")
        try await t.cleanUp(config)
    }

    /// Live-only messages: no confirms, and the consumer acks those it needs no handler for
    /// on its connection thread (a chat replica's own deliveries).
    @Test func unconfirmedPublishesArriveInOrderAndSomeAreSettledOnArrival() async throws {
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology, confirms: false)
        let order = Mutex<[String]>([])
        let consumer = Consumer(config: config, topology: t.topology, queue: t.queue, prefetch: 100, ordered: true,
                                settleOnArrival: { $0.message.headers["skip"] == .string("yes") ? .ack : nil }) { delivery in
            order.withLock { $0.append(delivery.message.messageId ?? "?") }
            return .ack
        }
        consumer.start()
        let count = 300
        for i in 0..<count {
            var message = t.message("m\(i)")
            if i % 3 == 0 { message.headers["skip"] = .string("yes") }
            try await publisher.publish(message)
        }
        let handled = (0..<count).filter { $0 % 3 != 0 }.map { "m\($0)" }
        let all = await Received().wait(timeout: .seconds(30)) { _ in order.withLock { $0.count } == handled.count }
        #expect(all)
        #expect(order.withLock { $0 } == handled, "the handler saw the others only, in the order sent")
        await consumer.close()
        await publisher.close()
        // Closing would give unacked deliveries back to the queue.
        #expect(try await AMQPAdmin(config: config).messageCount(t.queue) == 0, "those settled on arrival were acked too")
        try await t.cleanUp(config)
    }

    @Test func propertiesAndHeadersArriveIntact() async throws {
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology)
        let got = Mutex<AMQPDelivery?>(nil)
        let consumer = Consumer(config: config, topology: t.topology, queue: t.queue) { delivery in
            got.withLock { $0 = delivery }
            return .ack
        }
        consumer.start()
        try await publisher.publish(t.message("p1", routingKey: "test.props"))
        let arrived = await Received().wait(timeout: .seconds(10)) { _ in got.withLock { $0 != nil } }
        #expect(arrived)
        let d = try #require(got.withLock { $0 })
        #expect(d.message == t.message("p1", routingKey: "test.props"), "every field arrives as published")
        #expect(!d.redelivered)
        await consumer.close()
        await publisher.close()
        try await t.cleanUp(config)
    }

    @Test func rejectedMessageLandsInTheDeadLetterQueue() async throws {
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology)
        let handled = Received()
        let consumer = Consumer(config: config, topology: t.topology, queue: t.queue) { delivery in
            handled.record(delivery)
            return delivery.message.messageId == "poison" ? .reject(requeue: false) : .ack
        }
        consumer.start()
        try await publisher.publish(t.message("poison"))
        try await publisher.publish(t.message("fine"))
        #expect(await handled.wait(timeout: .seconds(10)) { $0.ids.count == 2 })
        await consumer.close()

        let dead = Received()
        let deadConsumer = Consumer(config: config, topology: t.topology, queue: t.deadLetterQueue) { delivery in
            dead.record(delivery)
            return .ack
        }
        deadConsumer.start()
        #expect(await dead.wait(timeout: .seconds(10)) { $0.ids == ["poison"] })
        await deadConsumer.close()
        #expect(try await AMQPAdmin(config: config).messageCount(t.queue) == 0)
        await publisher.close()
        try await t.cleanUp(config)
    }

    @Test func requeuedMessageComesBackMarkedRedelivered() async throws {
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology)
        let attempts = Received()
        let consumer = Consumer(config: config, topology: t.topology, queue: t.queue) { delivery in
            attempts.record(delivery)
            return delivery.redelivered ? .ack : .reject(requeue: true)
        }
        consumer.start()
        try await publisher.publish(t.message("again"))
        #expect(await attempts.wait(timeout: .seconds(10)) { $0.deliveries == 2 })
        #expect(attempts.redelivered == 1)
        await consumer.close()
        await publisher.close()
        #expect(try await AMQPAdmin(config: config).messageCount(t.queue) == 0)
        try await t.cleanUp(config)
    }

    @Test func unknownExchangeIsRefusedWithoutTouchingTheConnection() async throws {
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology)
        var stray = t.message("stray")
        stray.exchange = "no.such.exchange"
        await #expect(throws: AMQPError.self) { try await publisher.publish(stray) }
        try await publisher.publish(t.message("after"))
        #expect(try await AMQPAdmin(config: config).messageCount(t.queue) == 1)
        await publisher.close()
        try await t.cleanUp(config)
    }

    @Test func publishAfterCloseFails() async throws {
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology)
        await publisher.close()
        await #expect(throws: AMQPError.closed) { try await publisher.publish(t.message("late")) }
        try await AMQPAdmin(config: config).declare(t.topology)
        try await t.cleanUp(config)
    }
}
