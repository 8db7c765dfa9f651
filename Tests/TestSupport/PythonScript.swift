import Foundation

/// A Python script of the repository (a python-socketio client, a checker) run to its end
/// with the project's venv Python, its output captured: the tests' way of driving real clients.
public struct PythonRun: Sendable {
    public let status: Int32
    /// Everything it printed, standard error included.
    public let output: String

    /// Runs `script` (a path from the repository root) with `arguments`.
    public init(_ script: String, _ arguments: [String] = []) async throws {
        try await self.init(interpreter: TestServers.python, script, arguments)
    }

    /// Runs `script` with another interpreter (`node`, for the official Socket.IO client).
    public init(interpreter: String, _ script: String, _ arguments: [String] = []) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("script-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let path = TestServers.repositoryRoot.appendingPathComponent(script).path
        status = try await ChildProcess([interpreter, path] + arguments, outputPath: file).wait()
        output = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
    }

    /// The last line printed: where the scripts put their JSON report.
    public var lastLine: String { output.split(separator: "\n").last.map(String.init) ?? "" }

    /// The last line as a JSON object, if it is one.
    public var report: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any] }
}
