import ConnectionDrain
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix

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
    /// paths; every other request goes to the router. At shutdown the connections drain
    /// within `grace` (sessions are closed, 1001 over WebSocket, by the engine itself).
    public func serverBuilder(maxPayload: Int, grace: Duration) -> HTTPServerBuilder {
        let mounts = self.mounts
        return HTTPServerBuilder { responder in
            DrainingChildChannel(
                EngineHTTPChannel(responder: responder, http1: .announcingClose(), maxFrameSize: maxPayload) { request in
                    let path = (request.path ?? "").split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
                    guard let mount = mounts.first(where: { Self.matches(path, $0.path) }),
                          let plan = mount.engine.webSocketPlan(for: request) else { return nil }
                    return (mount.engine, plan)
                },
                grace: grace)
        }
    }

    /// An application serving nothing but the mounted servers (conformance and benchmark set-ups).
    public func application(host: String, port: Int, maxPayload: Int, serverName: String, logger: Logger,
                            grace: Duration = .seconds(10), eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) -> some ApplicationProtocol {
        let router = Router()
        addRoutes(to: router)
        return Application(
            router: router, server: serverBuilder(maxPayload: maxPayload, grace: grace),
            configuration: .init(address: .hostname(host, port: port), serverName: serverName),
            eventLoopGroupProvider: .shared(eventLoopGroup), logger: logger)
    }

    static func matches(_ path: String, _ mount: String) -> Bool {
        path == mount || path == mount + "/"
    }
}
