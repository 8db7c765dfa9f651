import Foundation
import Logging
import ServiceKit
import ServiceLifecycle
import Testing

/// LogOutput on a real pipe, run as a service in a real ServiceGroup.
@Suite struct LogOutputTests {
    /// Everything the pipe carries until its write end closes, read on a thread of its own.
    private func readAll(_ pipe: Pipe) async -> String {
        await withCheckedContinuation { done in
            Thread.detachNewThread { done.resume(returning: String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) }
        }
    }

    private func line(_ text: String) -> [UInt8] { Array((text + "\n").utf8) }

    @Test func everyLineArrivesWholeAndInItsWritersOrderAndRunFlushesBeforeItReturns() async throws {
        let pipe = Pipe()
        let output = LogOutput(fileDescriptor: pipe.fileHandleForWriting.fileDescriptor)
        async let received = readAll(pipe)
        output.write(line("before the service runs"))
        let group = ServiceGroup(configuration: .init(services: [output], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Writers on threads of their own, as event loops are.
            await withTaskGroup(of: Void.self) { writers in
                for writer in 0..<4 {
                    writers.addTask {
                        await withCheckedContinuation { done in
                            Thread.detachNewThread {
                                for index in 0..<5000 { output.write(self.line("writer \(writer) line \(index) " + String(repeating: "x", count: index % 90))) }
                                done.resume()
                            }
                        }
                    }
                }
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        output.write(line("after the service stopped"))
        try pipe.fileHandleForWriting.close()
        let lines = await received.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 20_002 && lines.first == "before the service runs" && lines.last == "after the service stopped")
        for writer in 0..<4 {
            let own = lines.filter { $0.hasPrefix("writer \(writer) ") }
            #expect(own.count == 5000)
            #expect(own.enumerated().allSatisfy { index, text in text == "writer \(writer) line \(index) " + String(repeating: "x", count: index % 90) },
                    "writer \(writer)'s lines whole and in order")
        }
    }

    @Test func anOutputThatDoesNotKeepUpLosesLinesCountedInsteadOfBlockingTheWriter() async throws {
        let pipe = Pipe()
        let output = LogOutput(fileDescriptor: pipe.fileHandleForWriting.fileDescriptor, limit: 4096)
        let group = ServiceGroup(configuration: .init(services: [output], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Nobody reads yet: the pipe (64 KiB) fills, the thread blocks in write(2), and the
            // writer must still finish — on a thread, with a bound, so a block fails instead of hanging.
            let total = 5000
            let finished = DispatchSemaphore(value: 0)
            for _ in 0..<500 where !output.isRunning { try await Task.sleep(for: .milliseconds(10)) }
            try #require(output.isRunning)
            Thread.detachNewThread {
                for index in 0..<total { output.write(self.line("line \(index) " + String(repeating: "y", count: 80))) }
                finished.signal()
            }
            let blocked = await withCheckedContinuation { done in
                Thread.detachNewThread { done.resume(returning: finished.wait(timeout: .now() + 20) == .timedOut) }
            }
            #expect(!blocked, "a writer waited on the output")
            async let received = readAll(pipe)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            try pipe.fileHandleForWriting.close()
            let lines = await received.split(separator: "\n")
            // One report after each batch that was written while lines were dropped.
            let reports = try lines.filter { $0.contains("log lines dropped") }.map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])
            }
            #expect(!reports.isEmpty && reports.allSatisfy { $0["level"] == "warning" && $0["label"] == "logging" })
            let dropped = reports.reduce(0) { $0 + (Int($1["dropped"] ?? "") ?? 0) }
            let kept = lines.filter { $0.hasPrefix("line ") }
            #expect(dropped > 0 && kept.count + dropped == total, "\(kept.count) kept, \(dropped) dropped")
        }
    }

    @Test func aLoneLineIsWrittenWithinTheFlushIntervalWithoutAFullBatch() async throws {
        let pipe = Pipe()
        let output = LogOutput(fileDescriptor: pipe.fileHandleForWriting.fileDescriptor)
        let group = ServiceGroup(configuration: .init(services: [output], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for _ in 0..<500 where !output.isRunning { try await Task.sleep(for: .milliseconds(10)) }
            try #require(output.isRunning)
            output.write(line("one line, far from a batch"))
            // Read on a thread, waited for with a bound: a line that never comes fails, not hangs.
            let arrived = DispatchSemaphore(value: 0)
            // Written by the reader before it signals, read after the wait: the semaphore orders them.
            final class Received: @unchecked Sendable { var text = "" }
            let first = Received()
            Thread.detachNewThread {
                first.text = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
                arrived.signal()
            }
            let late = await withCheckedContinuation { done in
                Thread.detachNewThread { done.resume(returning: arrived.wait(timeout: .now() + 5) == .timedOut) }
            }
            #expect(!late && first.text == "one line, far from a batch\n", "flushed at the interval's end (\(LogOutput.flushInterval) s)")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            try pipe.fileHandleForWriting.close()
        }
    }
}
