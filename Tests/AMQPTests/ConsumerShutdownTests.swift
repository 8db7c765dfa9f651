import AMQP
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// A consumer in a service group, shut down gracefully with deliveries in its handlers:
/// it takes no new ones, lets those finish, acks them, and closes. What it acked is gone
/// from the queue; everything else is still there, for the next consumer.
@Suite struct ConsumerShutdownTests {
    let config = AMQPConfiguration(port: TestServers.amqpPort)

    @Test func deliveriesInHandAreFinishedAndAckedTheRestStayQueued() async throws {
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology)
        for i in 0..<20 { try await publisher.publish(t.message("m\(i)")) }

        let started = Mutex(0)
        let finished = Received()
        let consumer = Consumer(config: config, topology: t.topology, queue: t.queue, prefetch: 3) { delivery in
            started.withLock { $0 += 1 }
            try? await Task.sleep(for: .milliseconds(800))  // still in the handler when the shutdown comes
            finished.record(delivery)
            return .ack
        }
        let group = ServiceGroup(services: [consumer], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        #expect(await finished.wait(timeout: .seconds(10)) { _ in started.withLock { $0 } >= 1 })
        await group.triggerGracefulShutdown()
        try await running.value

        let handled = started.withLock { $0 }
        #expect(finished.deliveries == handled, "every handler that started was let finish")
        #expect(handled >= 1 && handled < 20, "no new deliveries were taken after the shutdown began: \(handled)")
        #expect(try await AMQPAdmin(config: config).messageCount(t.queue) == 20 - handled,
                "what was handled was acked; the rest is queued for the next start")
        await publisher.close()
        try await t.cleanUp(config)
    }

    @Test func aConsumerNeverStartedClosesAtOnceAndNeverConnects() async throws {
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology)
        try await publisher.publish(t.message("waiting"))
        let touched = Mutex(false)
        let consumer = Consumer(config: config, topology: t.topology, queue: t.queue) { _ in
            touched.withLock { $0 = true }
            return .ack
        }
        let begun = ContinuousClock.now
        await consumer.close()
        consumer.start()  // too late: a closed consumer stays closed
        try await Task.sleep(for: .milliseconds(500))
        #expect(ContinuousClock.now - begun < .seconds(2))
        #expect(!touched.withLock { $0 } && !consumer.isConnected)
        #expect(try await AMQPAdmin(config: config).messageCount(t.queue) == 1)
        await publisher.close()
        try await t.cleanUp(config)
    }
}
