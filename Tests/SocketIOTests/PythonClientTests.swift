import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SocketIO
import Testing
import TestSupport

/// python-socketio, an independent client, against the conformance server over real sockets.
@Suite struct PythonClientTests {
    @Test(arguments: ["polling", "websocket", "polling,websocket"])
    func pythonSocketIOConnectsAndTalks(transports: String) async throws {
        let app = Conformance.application(port: 0, engine: PollingProtocolTests.roomy, connectTimeout: .seconds(20), logger: Logger(label: "socketio-test"))
        try await app.test(.live) { client in
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("sio-\(UUID().uuidString).out").path
            defer { try? FileManager.default.removeItem(atPath: output) }
            let script = TestServers.repositoryRoot.appendingPathComponent("Tests/SocketIOTests/Clients/python_socketio_client.py").path
            let status = try await ChildProcess([TestServers.python, script, "http://127.0.0.1:\(client.port!)", transports], outputPath: output).wait()
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            try #require(status == 0, "\(text)")
            let line = text.split(separator: "\n").last.map(String.init) ?? ""
            let seen = try JSONValue.parse(line)
            #expect(seen["auth"] == ["token": "abc"], "the handshake's auth payload reaches the server")
            #expect(seen["customAuth"] == ["token": "abc"], "and the /custom namespace")
            #expect(seen["back"] == [1, "2", ["3": [true]], [1, 2, 3]], "text and a binary attachment come back")
            #expect(seen["ack"] == ["x", ["y": nil]])
            #expect(seen["transport"] == .string(transports.hasSuffix("websocket") ? "websocket" : "polling"))
        }
    }
}
