import EdgeContract
import Foundation
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Where log lines go: a file descriptor (stdout), written off the caller's thread.
///
/// While it runs as a `Service`, `write` only appends to a buffer, and a thread of its own
/// writes whole batches with write(2): an event loop never blocks on a slow pipe or disk.
/// The thread wakes every `flushInterval`, or sooner once `flushBytes` are pending: a line
/// costs its caller a lock and a copy, not a thread wake-up (a busy gateway logs a line per
/// request).
/// Before it runs and after it stops (start-up errors, the last lines of a shutdown),
/// `write` writes the line itself. Pending bytes beyond `limit` are dropped and counted
/// rather than blocking the caller; the count is logged once the output keeps up again.
public final class LogOutput: Service, @unchecked Sendable {
    public static let standardOutput = LogOutput(fileDescriptor: STDOUT_FILENO)

    private static let idle = 0, ready = 1  // ready: bytes to write, or a stop asked for

    private let fileDescriptor: Int32
    private let limit: Int
    /// How long a line may wait for its batch, at most.
    public static let flushInterval = 0.02
    /// Pending bytes that wake the thread before its interval ends.
    static let flushBytes = 64 << 10
    // Guarded by `condition`.
    private var pending: [UInt8] = []
    private var dropped = 0
    private var running = false
    private var stopping = false
    /// A full batch woke the thread already.
    private var wakeAsked = false
    private let condition = ConditionLock(value: LogOutput.idle)
    /// Held while bytes are written, so a direct write never lands inside a batch.
    private let writing = NIOLock()

    public init(fileDescriptor: Int32, limit: Int = 8 << 20) {
        self.fileDescriptor = fileDescriptor
        self.limit = limit
    }

    /// Whether lines go through its thread (it runs as a service) rather than written by the caller.
    public var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    /// Appends one line; `line` ends with its newline.
    public func write(_ line: [UInt8]) {
        write { $0.append(contentsOf: line) }
    }

    /// Appends the line `encode` writes (with its newline) straight into what is pending:
    /// no array of its own, no copy. `encode` runs under the output's lock: keep it short.
    public func write(encoding encode: (inout [UInt8]) -> Void) {
        condition.lock()
        guard running else {
            var line: [UInt8] = []
            encode(&line)
            // Taken before the condition is let go: the line follows every batch taken before it.
            writing.lock()
            condition.unlock()
            writeAll(line)
            writing.unlock()
            return
        }
        let before = pending.count
        encode(&pending)
        if pending.count > limit {
            pending.removeSubrange(before...)
            dropped += 1
        }
        // Waking the thread costs more than writing the line: only for a full batch.
        if pending.count >= Self.flushBytes && !wakeAsked {
            wakeAsked = true
            condition.unlock(withValue: Self.ready)
        } else {
            condition.unlock()
        }
    }

    /// Until graceful shutdown (or cancellation): then what is pending is written and the
    /// thread ends before `run` returns.
    public func run() async throws {
        let (finished, finish) = AsyncStream<Never>.makeStream()
        condition.lock()
        running = true
        stopping = false
        condition.unlock()
        let thread = Thread { [self] in
            writeUntilStopped()
            finish.finish()
        }
        thread.name = "log-output"
        thread.start()
        try? await gracefulShutdown()
        condition.lock()
        stopping = true
        condition.unlock(withValue: Self.ready)
        for await _ in finished {}
    }

    private func writeUntilStopped() {
        while true {
            // At the interval's end whatever is pending goes, ready or not.
            if !condition.lock(whenValue: Self.ready, timeoutSeconds: Self.flushInterval) { condition.lock() }
            let batch = pending, lost = dropped, stop = stopping
            pending = []
            pending.reserveCapacity(min(batch.count, 1 << 16))
            dropped = 0
            wakeAsked = false
            if stop { running = false }
            writing.lock()
            condition.unlock(withValue: Self.idle)
            if !batch.isEmpty { writeAll(batch) }
            if lost > 0 {
                writeAll(JSONLogLine.encode(time: LogTime.now(), level: "warning", label: "logging",
                                            message: "log lines dropped: the output did not keep up",
                                            metadata: ["dropped": .stringConvertible(lost)]))
            }
            writing.unlock()
            if stop { return }
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            guard var next = buffer.baseAddress else { return }
            var left = buffer.count
            while left > 0 {
                let written = Foundation.write(fileDescriptor, next, left)
                if written > 0 {
                    next += written
                    left -= written
                } else if written < 0 && errno == EINTR {
                    continue
                } else if written < 0 && errno == EAGAIN {
                    usleep(1000)  // a non-blocking fd: this thread (or a caller before start) waits
                } else {
                    return  // closed or broken: the lines have nowhere to go
                }
            }
        }
    }
}
