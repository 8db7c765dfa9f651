import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// HTTP long-polling: GET takes what is queued (waiting for it), POST delivers packets.
extension EngineServer {
    /// Serves long-polling at `path` (for example `/socket.io`) on `router`.
    public func addPollingRoutes<Context: RequestContext>(to router: Router<Context>, path: String) {
        router.on(RouterPath(path), method: .get) { request, _ in await self.poll(request) }
        router.on(RouterPath(path), method: .post) { request, _ in await self.push(request) }
        router.on(RouterPath(path), method: .put) { request, _ in await self.refuse(request) }
        router.on(RouterPath(path), method: .delete) { request, _ in await self.refuse(request) }
    }

    func refuse(_ request: Request) async -> Response {
        do {
            _ = try Self.parseQuery(Self.queryItems(request.uri))
            return Self.errorResponse(.badMethod)
        } catch {
            return Self.errorResponse(error)
        }
    }

    func poll(_ request: Request) async -> Response {
        let query: Query
        do { query = try Self.parseQuery(Self.queryItems(request.uri)) } catch { return Self.errorResponse(error) }
        // A WebSocket handshake that did not upgrade (or a sid already upgraded) ends here.
        guard query.transport == "polling" else { return Self.errorResponse(.badRequest) }
        guard let sid = query.sid else {
            let session = openSession(handshake: EngineHandshake(headers: request.headers, query: query.all), transport: .polling,
                                      eventLoop: MultiThreadedEventLoopGroup.singleton.any())
            let open = EnginePacket.open(configuration.handshake(sid: session.id, canUpgrade: true))
            await handler.engineOpened(session)
            return Self.payloadResponse([open])
        }
        guard let session = session(sid), session.isPolling else { return Self.errorResponse(.unknownSession) }
        if session.upgrade == .probing { return await pollDuringUpgrade(session) }
        switch await closingOnShutdown(session, { await session.take() }) {
        case .packets(let packets): return Self.payloadResponse(packets)
        case .upgrading: return await pollDuringUpgrade(session)
        case .closed: return Self.errorResponse(.unknownSession)
        case .busy:
            // Two long-polls at once: the protocol says the session is broken.
            session.close(.transportError)
            return Self.errorResponse(.badRequest)
        }
    }

    /// A long-poll while a WebSocket probes: the client's `5` may be a moment behind (it
    /// comes on another connection), so wait briefly, as the reference server's 100 ms
    /// check does. Upgraded: this transport is gone (400); else a noop ends the poll.
    func pollDuringUpgrade(_ session: EngineSession) async -> Response {
        await session.upgradeSettled(within: .milliseconds(100)) ? Self.errorResponse(.badRequest) : Self.payloadResponse([.noop])
    }

    func push(_ request: Request) async -> Response {
        let query: Query
        do { query = try Self.parseQuery(Self.queryItems(request.uri)) } catch { return Self.errorResponse(error) }
        guard query.transport == "polling" else { return Self.errorResponse(.badRequest) }
        guard let sid = query.sid else { return Self.errorResponse(.badMethod) }
        guard let session = session(sid), session.isPolling else { return Self.errorResponse(.unknownSession) }
        let body: ByteBuffer
        do {
            var request = request
            body = try await request.collectBody(upTo: configuration.maxPayload)
        } catch {
            session.close(.transportError)
            return Response(status: .contentTooLarge, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"code":3,"message":"Payload too large"}"#)))
        }
        guard let text = String(validating: body.readableBytesView, as: UTF8.self), let packets = try? EnginePacket.decode(payload: text) else {
            session.close(.parseError)
            return Self.errorResponse(.badRequest)
        }
        for packet in packets {
            guard await receive(packet, on: session) else { return Self.errorResponse(.badRequest) }
        }
        return Response(status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
    }

    static func payloadResponse(_ packets: [EnginePacket]) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=UTF-8"],
                 body: .init(byteBuffer: ByteBuffer(string: EnginePacket.encode(payload: packets))))
    }
}
