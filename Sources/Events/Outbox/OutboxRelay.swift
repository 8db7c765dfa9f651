import AMQP
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Publishes the outbox: the oldest pending entries, with publisher confirms, each
/// marked published only after the broker confirmed it. It runs after every
/// `notify()` and at least every `pollInterval`, so entries left by a crash or a
/// broker outage go out as soon as the service (or the broker) is back.
/// Delivery is at-least-once: a crash between confirm and mark publishes an entry
/// again, and consumers de-duplicate by event id.
public final class OutboxRelay: Service, Sendable {
    let outbox: Outbox
    let publisher: Publisher
    let batchSize: Int
    let pollInterval: Duration
    let logger: Logger
    private let notified = Atomic<Bool>(false)

    /// How long a round under way at shutdown may take to finish.
    let finishGrace: Duration

    public init(outbox: Outbox, publisher: Publisher, batchSize: Int = 200, pollInterval: Duration = .seconds(1),
                finishGrace: Duration = .seconds(5), logger: Logger = Logger(label: "outbox")) {
        self.outbox = outbox
        self.publisher = publisher
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.finishGrace = finishGrace
        self.logger = logger
    }

    /// Runs `round`; graceful shutdown lets it finish for `finishGrace`, then cancels it.
    private func finishingOnGracefulShutdown<T: Sendable>(_ round: @escaping @Sendable () async throws -> T) async throws -> T {
        let grace = finishGrace
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await round() }
            group.addTask {
                try? await gracefulShutdown()
                try? await Task.sleep(for: grace)
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
                throw CancellationError()  // the grace ran out before the round finished
            }
            throw CancellationError()
        }
    }

    /// Something was just recorded: relay it now rather than at the next poll.
    public func notify() { notified.store(true, ordering: .relaxed) }

    /// Publishes what is pending, batch after batch, until nothing is; returns how many went out.
    @discardableResult
    public func relayPending() async throws -> Int {
        var total = 0
        while true {
            let batch = try await outbox.pending(limit: batchSize)
            if batch.isEmpty { return total }
            // Publish the batch at once; mark what the broker confirmed in one write, even if some failed.
            let results = await withTaskGroup(of: Result<String, any Error>.self) { group in
                for entry in batch {
                    group.addTask { [publisher] in
                        do {
                            try await publisher.publish(.event(
                                type: entry.type, id: entry._id, correlationId: entry.correlationId, body: Array(entry.body.utf8)))
                            return .success(entry._id)
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                return await group.reduce(into: [Result<String, any Error>]()) { $0.append($1) }
            }
            let confirmed = results.compactMap { try? $0.get() }
            try await outbox.markPublished(confirmed)
            total += confirmed.count
            if let failure = results.lazy.compactMap({ result -> (any Error)? in
                if case .failure(let e) = result { return e } else { return nil }
            }).first {
                throw failure
            }
        }
    }

    /// Relays until graceful shutdown. A round under way then gets `finishGrace` to finish
    /// (the entries it publishes are marked sent); one still waiting for the broker after
    /// that is cancelled, and its entries stay pending for the next start.
    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                _ = try await finishingOnGracefulShutdown { try await self.relayPending() }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("outbox relay round failed", metadata: ["error": "\(error)"])
            }
            // Wait for a notify or the poll interval, whichever comes first.
            let deadline = ContinuousClock.now + pollInterval
            while ContinuousClock.now < deadline, !notified.exchange(false, ordering: .relaxed) {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }
}
