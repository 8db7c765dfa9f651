import Foundation
import Glibc
import Logging
import Synchronization

public struct RedisMessage: Sendable, Equatable {
    public let channel: String
    public let payload: [UInt8]
}

/// Messages published to some channels, read on a thread of its own. When the
/// connection breaks it reconnects and subscribes again; Redis pub/sub keeps no
/// history, so what was published in between is not delivered.
public final class RedisSubscription: AsyncSequence, Sendable {
    public typealias Element = RedisMessage

    private let stream: AsyncStream<RedisMessage>
    private let stopped = Atomic<Bool>(false)
    private let ready = Mutex<[CheckedContinuation<Void, Never>]?>([])

    init(host: String, port: Int, channels: [String], logger: Logger) {
        let (stream, continuation) = AsyncStream.makeStream(of: RedisMessage.self, bufferingPolicy: .bufferingNewest(10_000))
        self.stream = stream
        let thread = Thread { [self] in
            run(host: host, port: port, channels: channels, logger: logger, continuation: continuation)
        }
        thread.name = "redis-subscriber"
        continuation.onTermination = { [self] _ in stopped.store(true, ordering: .relaxed) }
        thread.start()
    }

    /// Returns once the first SUBSCRIBE has been confirmed by the server.
    public func waitUntilSubscribed() async {
        await withCheckedContinuation { c in
            let alreadyReady = ready.withLock { waiting in
                guard waiting != nil else { return true }
                waiting!.append(c)
                return false
            }
            if alreadyReady { c.resume() }
        }
    }

    public func cancel() { stopped.store(true, ordering: .relaxed) }

    public func makeAsyncIterator() -> AsyncStream<RedisMessage>.Iterator { stream.makeAsyncIterator() }

    private func run(host: String, port: Int, channels: [String], logger: Logger, continuation: AsyncStream<RedisMessage>.Continuation) {
        var backoff = 0.05
        while !stopped.load(ordering: .relaxed) {
            do {
                let connection = try RedisConnection(host: host, port: port, timeoutSeconds: 2)
                try connection.append((["SUBSCRIBE"] + channels).map { Array($0.utf8) })
                try connection.flush()
                backoff = 0.05
                while !stopped.load(ordering: .relaxed) {
                    var fds = pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0)
                    let n = poll(&fds, 1, 200)  // wake up now and then to notice cancellation
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else { continue }
                    for reply in try connection.readAvailable() {
                        guard case .array(let parts) = reply, parts.count == 3, let kind = parts[0].string else { continue }
                        if kind == "message", let channel = parts[1].string, let payload = parts[2].bytes {
                            continuation.yield(RedisMessage(channel: channel, payload: payload))
                        } else if kind == "subscribe" {
                            markReady()
                        }
                    }
                }
            } catch {
                guard !stopped.load(ordering: .relaxed) else { break }
                logger.warning("Redis subscription lost, reconnecting", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: backoff)
                backoff = Swift.min(backoff * 2, 2)
            }
        }
        continuation.finish()
        markReady()
    }

    private func markReady() {
        let waiting = ready.withLock { waiting -> [CheckedContinuation<Void, Never>] in
            defer { waiting = nil }
            return waiting ?? []
        }
        waiting.forEach { $0.resume() }
    }
}
