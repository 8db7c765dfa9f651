import AMQP
import Synchronization
import TestSupport
import Testing

/// Kills its own broker with SIGKILL mid-flow, so no other test sees it go.
@Suite(.serialized) struct BrokerCrashTests {
    @Test func confirmedMessagesSurviveKillNineAndBothSidesResumeOnTheirOwn() async throws {
        try await TestServers.faultAMQPLock.withLock { try await killNineWhilePublishing() }
    }

    func killNineWhilePublishing() async throws {
        let server = TestServers.faultAMQP
        let config = AMQPConfiguration(port: server.port, heartbeatSeconds: 5, maxBackoffSeconds: 1)
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology, maxInFlight: 100)
        let received = Received()
        let consumer = Consumer(config: config, topology: t.topology, queue: t.queue, prefetch: 50) { delivery in
            received.record(delivery)
            return .ack
        }
        consumer.start()

        // 20 lanes publish without pause until the broker has been back for 200 messages each.
        let log = PublishLog()
        let publishing = Task { [t] in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<20 {
                    group.addTask {
                        var afterRestart = 0
                        var i = 0
                        while afterRestart < 200 {
                            let id = "k\(lane).\(i)"
                            let startedBeforeCrash = !log.killed
                            try await publisher.publish(t.message(id))
                            // Started while the broker lived, confirmed after it was dead: the publish waited it out.
                            log.confirmed(id, spanningTheCrash: startedBeforeCrash && log.killed)
                            if log.restarted { afterRestart += 1 }
                            i += 1
                        }
                    }
                }
                try await group.waitForAll()
            }
        }

        #expect(await received.wait(timeout: .seconds(30)) { _ in log.count >= 500 })
        try await TestServers.servers("kill", server.name)
        log.markKilled()
        let confirmedBeforeCrash = log.ids
        try await TestServers.servers("restart", server.name)
        log.markRestarted()

        // Every publish returns (re-sent after the reconnect), and every confirmed message arrives.
        try await publishing.value
        let total = log.count
        let all = await received.wait(timeout: .seconds(60)) { $0.ids.count == total }
        #expect(all, "received \(received.ids.count) of \(total)")
        #expect(received.ids == log.ids, "exactly the confirmed messages arrived")
        #expect(confirmedBeforeCrash.isSubset(of: received.ids))
        #expect(log.spanning > 0, "some publishes were in flight across the crash and still completed")
        #expect(publisher.isConnected && consumer.isConnected)

        await consumer.close()
        await publisher.close()
        #expect(try await AMQPAdmin(config: config).messageCount(t.queue) == 0)
        try await t.cleanUp(config)
    }
}

extension BrokerCrashTests {
    @Test func missedHeartbeatsRevealAFrozenBroker() async throws {
        try await TestServers.faultAMQPLock.withLock { try await freezeTheBroker() }
    }

    func freezeTheBroker() async throws {
        let server = TestServers.faultAMQP
        let config = AMQPConfiguration(port: server.port, heartbeatSeconds: 1, maxBackoffSeconds: 0.5)
        let t = TestTopology()
        let publisher = Publisher(config: config, topology: t.topology)
        let received = Received()
        let consumer = Consumer(config: config, topology: t.topology, queue: t.queue) { delivery in
            received.record(delivery)
            return .ack
        }
        consumer.start()
        try await publisher.publish(t.message("before"))
        #expect(await received.wait(timeout: .seconds(10)) { $0.ids == ["before"] })

        // Frozen, the broker keeps its sockets open: only the missing heartbeats tell.
        try await TestServers.servers("pause", server.name)
        let noticed = await received.wait(timeout: .seconds(10)) { _ in !publisher.isConnected && !consumer.isConnected }
        try await TestServers.servers("resume", server.name)
        #expect(noticed, "publisher and consumer saw the connection die within 10 s at a 1 s heartbeat")

        try await publisher.publish(t.message("after"))
        #expect(await received.wait(timeout: .seconds(20)) { $0.ids == ["before", "after"] })
        await consumer.close()
        await publisher.close()
        #expect(try await AMQPAdmin(config: config).messageCount(t.queue) == 0)
        try await t.cleanUp(config)
    }
}

extension BrokerCrashTests {
    @Test func aPublishWaitingForADeadBrokerCanBeCancelled() async throws {
        try await TestServers.faultAMQPLock.withLock {
            let server = TestServers.faultAMQP
            let config = AMQPConfiguration(port: server.port, heartbeatSeconds: 1, maxBackoffSeconds: 0.5)
            let t = TestTopology()
            let publisher = Publisher(config: config, topology: t.topology)
            try await publisher.publish(t.message("before"))
            try await TestServers.servers("stop", server.name)

            let stuck = Task { try await publisher.publish(t.message("stuck")) }
            try await Task.sleep(for: .milliseconds(300))
            let started = ContinuousClock.now
            stuck.cancel()
            await #expect(throws: CancellationError.self) { try await stuck.value }
            #expect(ContinuousClock.now - started < .seconds(10), "cancellation does not wait for the broker (which never comes back while this runs)")

            try await TestServers.servers("restart", server.name)
            try await publisher.publish(t.message("after"))
            await publisher.close()
            #expect(try await AMQPAdmin(config: config).messageCount(t.queue) >= 2)
            try await t.cleanUp(config)
        }
    }
}

final class PublishLog: Sendable {
    private let state = Mutex<(ids: Set<String>, spanning: Int, killed: Bool, restarted: Bool)>(([], 0, false, false))

    func confirmed(_ id: String, spanningTheCrash: Bool) {
        state.withLock {
            $0.ids.insert(id)
            if spanningTheCrash { $0.spanning += 1 }
        }
    }

    func markKilled() { state.withLock { $0.killed = true } }
    func markRestarted() { state.withLock { $0.restarted = true } }
    var killed: Bool { state.withLock { $0.killed } }
    var restarted: Bool { state.withLock { $0.restarted } }
    var ids: Set<String> { state.withLock { $0.ids } }
    var count: Int { state.withLock { $0.ids.count } }
    var spanning: Int { state.withLock { $0.spanning } }
}
