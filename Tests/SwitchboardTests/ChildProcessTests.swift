import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What processes the tests start inherit from the test process.
@Suite struct ChildProcessTests {
    /// A socket a test holds while another test starts a process must not stay open in that
    /// process: its server would see the connection end only when the process does (a closed
    /// WebSocket's place under limit_websockets was held that way for seconds).
    @Test func aChildInheritsNoDescriptorButStandardInputOutputAndError() async throws {
        // Neither close-on-exec nor ours: what a C library's socket would be.
        let held = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(held > 2)
        defer { close(held) }
        let listing = FileManager.default.temporaryDirectory.appendingPathComponent("child-fds-\(getpid()).txt").path
        defer { try? FileManager.default.removeItem(atPath: listing) }
        let child = try ChildProcess(["/bin/sh", "-c", "ls /proc/$$/fd"], outputPath: listing)
        #expect(await child.wait() == 0)
        let fds = try String(contentsOfFile: listing, encoding: .utf8).split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        #expect(!fds.isEmpty && !fds.contains(held), "the child's descriptors: \(fds)")
    }
}
