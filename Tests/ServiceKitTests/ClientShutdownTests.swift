import Logging
import ServiceKit
import ServiceLifecycle
import Synchronization
import Testing

@Suite struct ClientShutdownTests {
    @Test func clientsCloseOnGracefulShutdownAndNotBefore() async throws {
        let closed = Mutex<[String]>([])
        let mongo = ClientShutdown("mongo") { closed.withLock { $0.append("mongo") } }
        let redis = ClientShutdown("redis") { closed.withLock { $0.append("redis") } }
        let group = ServiceGroup(services: [mongo, redis], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(100))
        #expect(closed.withLock { $0.isEmpty }, "nothing closes while the service runs")
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(closed.withLock { Set($0) } == ["mongo", "redis"])
    }
}
