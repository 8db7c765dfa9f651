import NIOCore
import NIOWebSocket

/// Carries an Engine.IO session over a WebSocket on the connection's event loop: the
/// client's frames read by `WebSocketFrameReader` and handed to the engine in order
/// through an `EngineInbox`; the session's queued packets framed by `ServerFrames` and
/// written in one flush each time it asks (`EngineSocketLink`). No task waits on an idle
/// connection: its heartbeat is a scheduled task of the loop, and a task runs only while
/// packets are being handled.
final class EngineWebSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case starting(EngineWebSocketPlan)
        /// An upgrade's WebSocket until the client's `5`; `probed` once its `2probe` came.
        case probing(EngineSession, probed: Bool)
        case serving(EngineSession, EngineInbox)
        /// Our close frame is sent: waiting for the client's, or for the deadline.
        case closing
        case closed
    }

    private let engine: EngineServer
    private var phase: Phase
    private var frames: WebSocketFrameReader
    private var context: ChannelHandlerContext?
    private var readsPaused = false
    /// Reading stopped for good: the server is shutting down.
    private var shuttingDown = false
    private var readWanted = false
    private var closeDeadline: Scheduled<Void>?
    /// How long the client has to answer our close frame before the connection is cut.
    static let closeTimeout = TimeAmount.seconds(5)

    init(engine: EngineServer, plan: EngineWebSocketPlan) {
        self.engine = engine
        self.phase = .starting(plan)
        self.frames = WebSocketFrameReader(maxPayload: engine.configuration.maxPayload)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        guard case .starting(let plan) = phase else { return }
        switch plan {
        case .open(let handshake):
            let session = engine.openSession(handshake: handshake, transport: .websocket(link(context)), eventLoop: context.eventLoop)
            let open = EnginePacket.open(engine.configuration.handshake(sid: session.id, canUpgrade: false))
            context.writeAndFlush(wrapOutboundOut(ServerFrames.frame(open, allocator: context.channel.allocator)), promise: nil)
            serve(session, context: context, opened: true)
        case .upgrade(let session):
            phase = .probing(session, probed: false)
        case .refuse:
            startClosing(context: context, code: .policyViolation)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end(reason: .transportClose)
        self.context = nil
    }

    private func link(_ context: ChannelHandlerContext) -> any EngineSocketLink {
        SocketLink(handler: NIOLoopBound(self, eventLoop: context.eventLoop))
    }

    private func serve(_ session: EngineSession, context: ChannelHandlerContext, opened: Bool) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let inbox = EngineInbox(engine: engine, session: session, eventLoop: context.eventLoop) {
            handler.eventLoop.execute { handler.value.resumeReads() }
        }
        phase = .serving(session, inbox)
        if opened { _ = inbox.push(.opened) }
    }

    // MARK: from the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch frames.receive(unwrapInboundIn(data)) {
        case .none:
            break
        case .pong(let data):
            context.writeAndFlush(wrapOutboundOut(ServerFrames.control(.pong, payload: data, allocator: context.channel.allocator)), promise: nil)
        case .clientClosed:
            if case .closing = phase {
                context.close(promise: nil)
            } else {
                end(reason: .transportClose)
                startClosing(context: context, code: .normalClosure, thenClose: true)
            }
        case .fail(let code):
            if case .closing = phase { return context.close(promise: nil) }
            end(reason: .parseError)
            startClosing(context: context, code: code)
        case .message(let message):
            received(message, context: context)
        }
    }

    private func received(_ message: WebSocketFrameReader.Message, context: ChannelHandlerContext) {
        switch phase {
        case .serving(let session, let inbox):
            guard let packet = EngineServer.packet(message) else {
                session.close(.parseError)
                return
            }
            if inbox.push(.packet(packet)) { readsPaused = true }
        case .probing(let session, let probed):
            probe(message, session: session, probed: probed, context: context)
        case .starting, .closing, .closed:
            break
        }
    }

    /// The upgrade: `2probe` is answered `3probe` (so are probes and noops until `5`), then
    /// `5` moves the session here.
    private func probe(_ message: WebSocketFrameReader.Message, session: EngineSession, probed: Bool, context: ChannelHandlerContext) {
        guard case .text(let text) = message, let packet = try? EnginePacket.decode(text: Substring(text)) else {
            return refuseUpgrade(session, context: context)
        }
        if !probed {
            guard packet == .ping("probe"), session.beginUpgrade() else { return refuseUpgrade(session, context: context) }
            phase = .probing(session, probed: true)
        } else if packet == .upgrade {
            guard session.completeUpgrade(to: link(context)) else {
                phase = .closed
                return startClosing(context: context, code: .normalClosure)
            }
            serve(session, context: context, opened: false)
            return flushSession()
        } else {
            guard packet == .ping("probe") || packet == .noop else { return refuseUpgrade(session, context: context) }
        }
        context.writeAndFlush(wrapOutboundOut(ServerFrames.frame(.pong("probe"), allocator: context.channel.allocator)), promise: nil)
    }

    private func refuseUpgrade(_ session: EngineSession, context: ChannelHandlerContext) {
        session.abandonUpgrade()
        phase = .closed
        startClosing(context: context, code: .policyViolation)
    }

    /// The server's connections are asked to quiesce: see `shutDown`.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { shutDown() }
        context.fireUserInboundEventTriggered(event)
    }

    /// The server is shutting down: reading stops, the packets already read are handled
    /// (their answers are written), then the session ends with 1001 so the client
    /// reconnects, to another replica if there is one.
    fileprivate func shutDown() {
        switch phase {
        case .serving(let session, let inbox):
            shuttingDown = true
            readsPaused = true
            inbox.whenIdle { session.close(.serverShutdown) }
        case .probing(let session, _):
            session.abandonUpgrade()
            if let context { startClosing(context: context, code: .goingAway) }
        case .starting, .closing, .closed:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(reason: .transportClose)
        closeDeadline?.cancel()
        context.fireChannelInactive()
    }

    /// A frame the decoder refused gets a close frame with its reason; anything else cuts
    /// the connection.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let refused = error as? NIOWebSocketError else {
            end(reason: .transportError)
            return context.close(promise: nil)
        }
        end(reason: .parseError)
        if case .closing = phase { return }
        startClosing(context: context, code: refused == .invalidFrameLength ? .messageTooLarge : .protocolError)
    }

    /// The connection is going: its session ends (an upgrade not finished is given up).
    private func end(reason: EngineCloseReason) {
        switch phase {
        case .serving(let session, _): session.close(reason)
        case .probing(let session, _): session.abandonUpgrade()
        case .starting, .closing, .closed: break
        }
        if case .closing = phase { return }
        phase = .closed
    }

    // MARK: reading paused while the inbox is full

    func read(context: ChannelHandlerContext) {
        if readsPaused { readWanted = true } else { context.read() }
    }

    private func resumeReads() {
        guard !shuttingDown else { return }
        readsPaused = false
        guard readWanted, let context else { return }
        readWanted = false
        context.read()
    }

    // MARK: to the client

    /// Writes what the session queued, in one flush; after its last packets a closed
    /// session gets a close frame (1001 when the server is shutting down).
    fileprivate func flushSession() {
        guard let context, case .serving(let session, _) = phase else { return }
        let batch = session.takeForSocket()
        let allocator = context.channel.allocator
        let written: EventLoopPromise<Void>? = batch.waiters.isEmpty ? nil : context.eventLoop.makePromise()
        for (index, outgoing) in batch.packets.enumerated() {
            let frame = outgoing.frame ?? ServerFrames.frame(outgoing.packet, allocator: allocator)
            context.write(wrapOutboundOut(frame), promise: index == batch.packets.count - 1 ? written : nil)
        }
        if let written {
            if batch.packets.isEmpty { written.succeed() }
            let waiters = batch.waiters
            written.futureResult.whenComplete { _ in for waiter in waiters { waiter.resume() } }
        }
        guard batch.closed else { return context.flush() }
        phase = .closed
        startClosing(context: context, code: session.closeReason == .serverShutdown ? .goingAway : .normalClosure)
    }

    /// Sends a close frame; the connection ends when the client answers it, at the deadline,
    /// or once it is written when the client's close came first (`thenClose`).
    private func startClosing(context: ChannelHandlerContext, code: WebSocketErrorCode, thenClose: Bool = false) {
        phase = .closing
        // The client's answering close frame must be read (only control frames count now).
        readsPaused = false
        if readWanted {
            readWanted = false
            context.read()
        }
        let channel = context.channel
        let sent = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(ServerFrames.close(code, allocator: channel.allocator)), promise: sent)
        if thenClose {
            sent.futureResult.whenComplete { _ in channel.close(promise: nil) }
        } else {
            closeDeadline = context.eventLoop.scheduleTask(in: Self.closeTimeout) { channel.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension EngineWebSocketHandler: Sendable {}

/// The session's way to its WebSocket handler: a flush on the handler's event loop.
private struct SocketLink: EngineSocketLink {
    let handler: NIOLoopBound<EngineWebSocketHandler>

    func flushRequested() {
        let handler = self.handler
        handler.eventLoop.execute { handler.value.flushSession() }
    }

    func shutDownRequested() {
        let handler = self.handler
        handler.eventLoop.execute { handler.value.shutDown() }
    }
}
