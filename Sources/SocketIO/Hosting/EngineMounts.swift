import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging

/// Engine.IO servers mounted at paths of one Hummingbird application: long-polling as
/// routes, WebSocket through the HTTP/1 upgrade (which sees only the request head).
public struct EngineMounts: Sendable {
    let mounts: [(path: String, engine: EngineServer)]

    public init(_ mounts: [(path: String, engine: EngineServer)]) {
        self.mounts = mounts
    }

    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        for mount in mounts { mount.engine.addPollingRoutes(to: router, path: mount.path) }
    }

    /// The server builder for `Application(server:)`: WebSocket upgrades for the mounted
    /// paths; every other request goes to the router.
    public func serverBuilder(maxPayload: Int) -> HTTPServerBuilder {
        .http1WebSocketUpgrade(
            configuration: .init(ws: .init(maxFrameSize: maxPayload, autoPing: .disabled, closeTimeout: .seconds(5)))
        ) { request, _, _ in
            let path = (request.path ?? "").split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
            guard let mount = mounts.first(where: { Self.matches(path, $0.path) }), let handler = mount.engine.webSocketHandler(for: request) else {
                return .dontUpgrade
            }
            return .upgrade([:], handler)
        }
    }

    /// An application serving nothing but the mounted servers (conformance and benchmark set-ups).
    public func application(host: String, port: Int, maxPayload: Int, serverName: String, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        addRoutes(to: router)
        return Application(
            router: router, server: serverBuilder(maxPayload: maxPayload),
            configuration: .init(address: .hostname(host, port: port), serverName: serverName), logger: logger)
    }

    static func matches(_ path: String, _ mount: String) -> Bool {
        path == mount || path == mount + "/"
    }
}
