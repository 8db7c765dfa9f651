import Foundation
import HTTPTypes
import HummingbirdCore
import HummingbirdWebSocket
import NIOCore

/// WebSocket: a session of its own, or the upgrade of a long-polling one (probe, then `5`).
extension EngineServer {
    /// What to do with a WebSocket upgrade request for this server: nil refuses it (a bad
    /// query), and the HTTP route then answers it with a 400.
    public func webSocketHandler(for request: HTTPRequest) -> WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>? {
        let items = Self.queryItems(URI(request.path ?? ""))
        guard let query = try? Self.parseQuery(items), query.transport == "websocket" else { return nil }
        let handshake = EngineHandshake(headers: request.headerFields, query: query.all)
        if let sid = query.sid {
            // Only a long-polling session that has not upgraded yet may move here; any other
            // is accepted and closed at once, as the reference server does.
            guard let session = session(sid), session.claimUpgrade() else {
                return { _, outbound, _ in try? await outbound.close(.policyViolation, reason: "session cannot upgrade") }
            }
            return { inbound, outbound, _ in await self.upgrade(session, inbound: inbound, outbound: outbound) }
        }
        return { inbound, outbound, _ in
            let session = self.openSession(handshake: handshake, transport: .websocket)
            do {
                try await outbound.write(.text(EnginePacket.open(self.configuration.handshake(sid: session.id, canUpgrade: false)).text!))
            } catch {
                session.close(.transportError)
                return
            }
            await self.handler.engineOpened(session)
            await self.serve(session, inbound: inbound, outbound: outbound, reader: nil)
        }
    }

    private func upgrade(_ session: EngineSession, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        var messages = inbound.messages(maxSize: configuration.maxPayload).makeAsyncIterator()
        do {
            guard case .text(let probe)? = try await messages.next(), probe == "2probe", session.beginUpgrade() else {
                session.abandonUpgrade()
                try await outbound.close(.policyViolation, reason: "expected a probe")
                return
            }
            try await outbound.write(.text("3probe"))
            // Until `5` the client may still send probes or noops.
            while true {
                guard case .text(let text)? = try await messages.next() else { session.abandonUpgrade(); return }
                let packet = try EnginePacket.decode(text: Substring(text))
                if packet == .upgrade { break }
                guard packet == .ping("probe") || packet == .noop else {
                    session.abandonUpgrade()
                    try await outbound.close(.policyViolation, reason: "unexpected packet during upgrade")
                    return
                }
                try await outbound.write(.text("3probe"))
            }
            guard session.completeUpgrade() else { return }
        } catch {
            session.abandonUpgrade()
            return
        }
        await serve(session, inbound: inbound, outbound: outbound, reader: messages)
    }

    /// Writes queued packets while reading the client's, until either side ends.
    private func serve(_ session: EngineSession, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
                       reader: WebSocketInboundMessageStream.AsyncIterator?) async {
        async let written: Void = writeLoop(session, outbound: outbound)
        var messages = reader ?? inbound.messages(maxSize: configuration.maxPayload).makeAsyncIterator()
        var reason = EngineCloseReason.transportClose
        do {
            while let message = try await messages.next() {
                guard let packet = Self.packet(message) else {
                    reason = .parseError
                    break
                }
                guard await receive(packet, on: session), !session.isClosed else { break }
            }
        } catch {
            reason = .transportError
        }
        session.close(reason)
        await written
    }

    static func packet(_ message: WebSocketMessage) -> EnginePacket? {
        switch message {
        case .text(let text): try? EnginePacket.decode(text: Substring(text))
        case .binary(let buffer): .message(.binary(Data(buffer.readableBytesView)))
        }
    }

    private func writeLoop(_ session: EngineSession, outbound: WebSocketOutboundWriter) async {
        while true {
            guard case .packets(let packets) = await session.take() else { break }
            defer { session.wrote(packets.count) }
            do {
                for packet in packets {
                    if case .message(.binary(let data)) = packet {
                        try await outbound.write(.binary(ByteBuffer(bytes: data)))
                    } else if let text = packet.text {
                        try await outbound.write(.text(text))
                    }
                }
            } catch {
                session.close(.transportError)
                return
            }
        }
        try? await outbound.close(.normalClosure, reason: nil)
    }
}
