import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport
@testable import ConnectionDrain

/// A real Hummingbird server with `.drainingHTTP1` over real sockets, shut down gracefully
/// the way SIGTERM does it, with connections in each state at that moment.
@Suite struct LiveDrainTests {
    @Test func shutdownClosesIdleConnectionsFinishesRequestsInFlightAndCutsTheRestAtTheGrace() async throws {
        let router = Router()
        let handling = Mutex(0)
        let noticed = Mutex<ContinuousClock.Instant?>(nil)
        router.get("/quick") { _, _ in "quick" }
        // Answers only once the shutdown has begun (and its quiesce reached the connections):
        // a request in flight at that moment, however loaded the machine.
        router.get("/slow") { _, _ in
            handling.withLock { $0 += 1 }
            let shuttingDown = AsyncStream<Void>.makeStream()
            await withGracefulShutdownHandler {
                for await _ in shuttingDown.stream { break }
            } onGracefulShutdown: {
                noticed.withLock { $0 = .now }
                shuttingDown.continuation.yield()
            }
            try await Task.sleep(for: .milliseconds(500))
            return "slow"
        }
        router.get("/stuck") { _, _ in
            handling.withLock { $0 += 1 }
            try? await Task.sleep(for: .seconds(60))
            return "late"
        }
        // Bounds in whole seconds: on a machine busy with other suites a step can take one.
        try await Self.withServer(router: router, grace: .seconds(6)) { port, shutdown in
            let unused = try await RawConnection(port: port)  // connected, never sends a byte
            let idle = try await RawConnection(port: port)
            try await idle.send("GET /quick HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try await idle.readResponse().contains("quick"))
            let slow = try await RawConnection(port: port)
            try await slow.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
            let stuck = try await RawConnection(port: port)
            try await stuck.send("GET /stuck HTTP/1.1\r\nHost: a\r\n\r\n")
            let inHandlers = await eventually(timeout: .seconds(10)) { handling.withLock { $0 } == 2 }
            try #require(inHandlers)

            // The readers are on threads of their own from now on, so the times they take are
            // the server's, not those of a busy cooperative pool.
            let (unusedClosed, idleClosed, slowAnswer, stuckAnswer) = (unused.readUntilClosed(), idle.readUntilClosed(), slow.readUntilClosed(), stuck.readUntilClosed())
            let started = ContinuousClock.now
            await shutdown()
            let stoppedAt = ContinuousClock.now
            let (unusedBytes, unusedAt) = try await unusedClosed.value
            let (idleBytes, idleAt) = try await idleClosed.value
            let (slowBytes, _) = try await slowAnswer.value
            let (stuckBytes, stuckAt) = try await stuckAnswer.value
            // Times from the moment the server noticed the shutdown: on a machine busy with
            // other suites, starting it can take seconds, which is not what this is about.
            let begin = try #require(noticed.withLock { $0 })
            let timeline = "shutdown asked at \(started - begin), unused closed \(unusedAt - begin), idle \(idleAt - begin), stuck \(stuckAt - begin), stopped \(stoppedAt - begin)"
            #expect(slowBytes.hasPrefix("HTTP/1.1 200") && slowBytes.lowercased().contains("connection: close") && slowBytes.hasSuffix("slow"),
                    "a request in flight is answered, and told the connection closes: \(slowBytes)")
            // On a machine busy with other suites a thread can wait seconds for a core, so the
            // bounds are loose: what matters is that nothing waits for the cut but the stuck
            // request, that the cut keeps to the grace, and that the server stops with it.
            #expect(unusedBytes.isEmpty && unusedAt < stuckAt - .seconds(1), "a connection that sent nothing is closed, not held to the grace: \(timeline)")
            #expect(idleBytes.isEmpty && idleAt < stuckAt - .seconds(1), "an idle keep-alive connection is closed, not held to the grace: \(timeline)")
            #expect(stuckBytes.isEmpty && stuckAt - begin >= .milliseconds(5900) && stuckAt - begin < .seconds(20),
                    "a request that outlives the grace is cut when it ends: \(timeline)")
            // The stuck handler would take 60 s: the server stops with the cut, not with it
            // (the bound is loose: the stop is seen from the cooperative pool).
            #expect(stoppedAt - stuckAt < .seconds(20), "and the server stops then: \(timeline)")
        }
    }

    @Test func aRequestThatAsksToCloseIsToldTheConnectionCloses() async throws {
        let router = Router()
        router.get("/x") { _, _ in "x" }
        try await Self.withServer(router: router, grace: .seconds(1)) { port, shutdown in
            let connection = try await RawConnection(port: port)
            try await connection.send("GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            let (answer, _) = try await connection.readUntilClosed().value
            #expect(answer.hasPrefix("HTTP/1.1 200") && answer.lowercased().contains("connection: close"), "\(answer)")
            let keepAlive = try await RawConnection(port: port)
            try await keepAlive.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(!(try await keepAlive.readResponse()).lowercased().contains("connection: close"))
            await shutdown()
        }
    }

    /// Runs the server in a service group; `body` gets its port and a function that shuts it
    /// down gracefully and returns when the group has stopped.
    static func withServer(
        router: Router<BasicRequestContext>, grace: Duration,
        _ body: @Sendable (Int, @escaping @Sendable () async -> Void) async throws -> Void
    ) async throws {
        let port = try freeLoopbackPort()
        // An event loop of its own: the shared ones also carry other suites' megabyte bodies,
        // which a debug build frames for seconds at a time.
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { loop.shutdownGracefully { _ in } }
        let app = Application(
            router: router, server: .drainingHTTP1(grace: grace),
            configuration: .init(address: .hostname("127.0.0.1", port: port)), eventLoopGroupProvider: .shared(loop),
            logger: Logger(label: "drain-test"))
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "drain-test")))
        let running = Task { try await group.run() }
        let up = await eventually(timeout: .seconds(10)) { (try? await RawConnection(port: port)) != nil }
        try #require(up)
        try await body(port) {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
        }
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }
}

/// A blocking client socket whose every call runs on a thread of its own.
final class RawConnection: Sendable {
    let fd: Int32
    let opened = ContinuousClock.now

    init(port: Int) async throws {
        fd = try await onOwnThread { try connectLoopback(port: port, receiveTimeoutSeconds: 30) }
    }

    deinit { close(fd) }

    func send(_ text: String) async throws {
        let fd = self.fd
        try await onOwnThread {
            let bytes = Array(text.utf8)
            guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
                throw POSIXError(.EPIPE)
            }
        }
    }

    /// What one read returns: enough for a small response.
    func readResponse() async throws -> String {
        let fd = self.fd
        return try await onOwnThread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
        }
    }

    /// Reads everything until the server closes, on a thread started now; its value is
    /// what came and when the connection closed.
    func readUntilClosed() -> ThreadWork<(String, ContinuousClock.Instant)> {
        let fd = self.fd
        return ThreadWork {
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n < 0 && errno == EINTR { continue }
                if n == 0 { break }
                // Still open after the socket's receive timeout: say so in the bytes.
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return ("<still open>", ContinuousClock.now) }
                if n < 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                data += buffer[..<n]
            }
            return (String(decoding: data, as: UTF8.self), ContinuousClock.now)
        }
    }
}
