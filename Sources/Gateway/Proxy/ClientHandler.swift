import EdgeContract
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// One client connection: each request is checked (route, rate limit, CORS, sizes),
/// then streamed to an upstream instance over a pooled keep-alive connection, and the
/// response streamed back with the gateway's headers. Requests are parsed by NIO (strictly:
/// malformed ones never reach an upstream); responses pass through as bytes, with only
/// their head rewritten. Everything runs on the connection's event loop; the upstream
/// connection shares it. What the connection does next (its phase, the requests waiting
/// behind the one in progress, why it is not reading, its deadline) is decided by
/// `ClientConnectionState`; this class carries those decisions out.
final class ClientHandler: ChannelDuplexHandler, RemovableChannelHandler, UpstreamDelegate {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let runtime: GatewayRuntime
    let pool: UpstreamPool
    private var context: ChannelHandlerContext!
    private var state = ClientConnectionState<Exchange>()
    /// The one timer of `state`'s deadline.
    private var timer: Scheduled<Void>?
    /// Monotonic seconds: injected so tests move time themselves.
    private let now: () -> Double
    /// The configuration this connection's current request runs under: read once per
    /// request (a reload applies from the next one), used by everything that request does.
    private var current: ConfigSnapshot
    private var upstreamNeedsFlush = false
    /// Worked out once per connection: the peer's address and whether it is a trusted proxy.
    private var peer: (ip: String, trusted: Bool)?
    /// Request ids need to be unique, not secret: a fast generator seeded from the system's.
    private var ids = RequestIds()
    /// Body bytes held for an upstream connection still being opened past which reads stop.
    static let pendingBodyLimit = 64 * 1024

    /// One request on its way through.
    final class Exchange {
        let route: ActiveRoute
        /// Written once the request may go (after a session refresh, if one was needed).
        var upstreamHead: ByteBuffer
        let requestId: String
        let clientAddress: String
        let method: HTTPMethod
        let path: String
        let origin: String?
        let isUpgrade: Bool
        /// The request body goes upstream chunked (as it came).
        let chunked: Bool
        let started: Double
        var upstream: UpstreamConnection?
        /// Body bytes that arrived before the upstream connection (the head is sent first).
        var pending: [ByteBuffer] = []
        var pendingBytes = 0
        var framing: ResponseFraming
        var requestBytes = 0
        var requestEnded = false
        var responseStatus: Int?
        var responseBytes = 0
        var upstreamKeepAlive = true
        /// Instances asked before `lastInstance` (kept apart: most requests ask one).
        var earlier: [GatewayConfig.Address] = []
        var tried: [GatewayConfig.Address] { lastInstance.map { earlier + [$0] } ?? [] }
        var triedCount: Int { earlier.count + (lastInstance == nil ? 0 : 1) }
        /// The instance asked last (for the access log).
        var lastInstance: GatewayConfig.Address?
        /// New session cookies, when the gateway refreshed the browser's session on the way:
        /// every answer to this request carries them, the gateway's own errors included.
        var setCookies: [String] = []
        /// Its place under `limit_conn`: given back when it is answered (or freed).
        var slot: ConnectionLimiter.Slot?
        /// An upgrade's place under `limit_websockets`: its tunnel's from the 101 on, else given back when answered.
        var tunnelSlot: ConnectionLimiter.Slot?

        init(route: ActiveRoute, upstreamHead: ByteBuffer, requestId: String, clientAddress: String, request: HTTPRequestHead,
             origin: String?, isUpgrade: Bool, chunked: Bool, started: Double) {
            self.route = route
            self.upstreamHead = upstreamHead
            self.requestId = requestId
            self.clientAddress = clientAddress
            method = request.method
            path = request.uri
            self.origin = origin
            self.isUpgrade = isUpgrade
            self.chunked = chunked
            self.started = started
            framing = ResponseFraming(requestWasHead: request.method == .HEAD)
        }

        /// The request's end as it goes upstream.
        var endBytes: ByteBuffer? { chunked ? ByteBuffer(staticString: "0\r\n\r\n") : nil }

        /// Safe to send again to another instance: nothing but the head was to be sent.
        var isRetryable: Bool { [.GET, .HEAD, .OPTIONS].contains(method) && requestBytes == 0 && !isUpgrade }
    }

    /// Whether the connection came through the TLS listener (HSTS; no redirect).
    let overTLS: Bool

    init(runtime: GatewayRuntime, pool: UpstreamPool, overTLS: Bool = false, now: @escaping () -> Double = monotonicSeconds) {
        self.runtime = runtime
        self.pool = pool
        self.overTLS = overTLS
        self.now = now
        current = runtime.snapshot
    }

    // MARK: client side

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { connected() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        connected()
        context.fireChannelActive()
    }

    /// The connection is open (before the handler was added, or since): who it is, and the first head's deadline.
    private func connected() {
        let ip = context.channel.remoteAddress?.ipAddress ?? "unknown"
        peer = (ip, current.clientAddress.isTrusted(ip))
        awaitRequestHead()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state.received(part) {
        case .process: handle(part)
        // Waits for the request in progress; the connection stops reading meanwhile.
        case .queued, .dropped: break
        }
    }

    /// The channel asks for more bytes: only while nothing holds reads back.
    func read(context: ChannelHandlerContext) {
        if state.readRequested() { context.read() }
    }

    /// The gateway answers the request itself from here; reads the upstream held back go on.
    private func answering(keepAlive: Bool) {
        if state.answering(keepAlive: keepAlive) { context.read() }
    }

    /// Reads again where `reason` was the last to hold them.
    private func open(_ reason: ClientConnectionState<Exchange>.ReadGate) {
        if state.open(reason) { context.read() }
    }

    /// The request in progress is answered and read whole: the next one, or the close.
    private func requestDone() {
        let done = state.requestDone(now: now(), headerTimeout: current.config.headerTimeoutSeconds)
        if done.close { return context.close(promise: nil) }
        if let at = done.schedule { armTimer(at) }
        replayQueued()
    }

    /// Requests that arrived while another was in progress, in order, until one is in progress again.
    private func replayQueued() {
        while true {
            switch state.nextQueued() {
            case .process(let part):
                handle(part)
            case .wait:
                flushUpstream()
                return
            case .empty(let resumeReading):
                flushUpstream()
                if resumeReading { context.read() }
                return
            }
        }
    }

    private func handle(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(let head): begin(head)
        case .body(let buffer):
            guard let exchange = state.request else { return }  // answered: dropped
            exchange.requestBytes += buffer.readableBytes
            if exchange.requestBytes > exchange.route.settings.maxBodyBytes {
                return abort(exchange, status: .payloadTooLarge, code: "payload_too_large", message: "Request body is too large")
            }
            send(body: buffer, in: exchange)
        case .end:
            switch state.phase {
            case .proxying(let exchange):
                exchange.requestEnded = true
                sendEnd(in: exchange)
            case .answered:
                requestDone()
            case .idle, .upgraded, .closed:
                break
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushUpstream()
        context.fireChannelReadComplete()
    }

    /// Body parts written upstream during a read burst go out together at its end.
    private func flushUpstream() {
        if upstreamNeedsFlush { state.request?.upstream?.channel.flush() }
        upstreamNeedsFlush = false
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        abandonRequest()
        state.closed()
        context.fireChannelInactive()
    }

    /// The client's connection ends with a request in progress: its upstream connection is
    /// mid-exchange (never pooled) and closes, and its places are given back.
    private func abandonRequest() {
        guard let exchange = state.request else { return }
        exchange.upstream?.handler.delegate = nil
        exchange.upstream?.channel.close(promise: nil)
        exchange.upstream = nil
        exchange.slot?.release()
        exchange.tunnelSlot?.release()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A slow client slows the upstream down instead of filling our memory.
        if let resume = state.clientWritable(context.channel.isWritable), let upstream = state.request?.upstream {
            upstream.channel.setOption(ChannelOptions.autoRead, value: resume).whenFailure { _ in }
        }
        context.fireChannelWritabilityChanged()
    }

    /// The gateway drains: an idle connection closes now; a request in progress is answered
    /// with `Connection: close`, and the connection closes after it (requests pipelined
    /// behind it are not taken: the client sends them again elsewhere). A tunnel's splices
    /// drain it.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        if state.quiesce() { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Malformed HTTP never reaches an upstream: 400 and close.
        if error is HTTPParserError, state.isIdle {
            respond(status: .badRequest, code: "bad_request", message: "Malformed HTTP request", requestId: ids.next(), keepAlive: false)
        }
        abandonRequest()
        state.closed()
        context.close(promise: nil)
    }

    // MARK: one request

    private func begin(_ head: HTTPRequestHead) {
        state.clearDeadline()
        current = runtime.snapshot
        let snapshot = current
        let fields = RequestFields(head.headers)
        let requestId = fields.requestId.flatMap { RequestIdFormat.isAcceptable($0) ? $0 : nil } ?? ids.next()
        let peer = self.peer ?? ("unknown", false)
        let clientAddress = snapshot.clientAddress.resolve(peerIP: peer.ip, peerTrusted: peer.trusted, forwardedFor: fields.forwardedFor)
        let keepAlive = head.isKeepAlive && !state.draining

        if head.uri.utf8.count + fields.bytes > snapshot.config.maxHeaderBytes {
            return respond(status: .requestHeaderFieldsTooLarge, code: "headers_too_large", message: "Request headers are too large", requestId: requestId, keepAlive: false, origin: fields.origin)
        }
        // A tunnel through the gateway is never opened. (TRACE goes on: a service answers it
        // with 405 and the methods its path has.)
        guard head.method != .CONNECT else {
            return respond(status: .methodNotAllowed, code: "method_not_allowed", message: "Method not allowed", requestId: requestId,
                           keepAlive: keepAlive, origin: fields.origin, extra: [("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")])
        }
        let path = head.uri.firstIndex(of: "?").map { String(head.uri[..<$0]) } ?? head.uri
        if !overTLS, let tls = snapshot.config.tls, tls.redirectPlain, path != "/health" {
            guard let location = Self.httpsLocation(host: head.headers.first(name: "Host"), port: tls.listen.port, uri: head.uri) else {
                return respond(status: .badRequest, code: "bad_request", message: "The Host header is not a host name", requestId: requestId, keepAlive: false)
            }
            return respond(status: .permanentRedirect, body: nil, contentType: nil, requestId: requestId, keepAlive: keepAlive,
                           origin: fields.origin, extra: [("Location", location)])
        }
        if Self.localPaths.contains(path) {
            let admin = snapshot.isAdmin(clientAddress)
            let local = localAnswer(path, admin: admin)
            // /metrics is the gateway's even where it is not shown: it never reaches a service.
            if local != nil || (path == "/metrics" && !admin) {
                guard head.method == .GET else {
                    return respond(status: .methodNotAllowed, code: "method_not_allowed", message: "Method not allowed", requestId: requestId,
                                   keepAlive: keepAlive, origin: fields.origin, extra: [("Allow", "GET")])
                }
                guard let local else {
                    return respond(status: .notFound, code: "no_route", message: "No route for /metrics", requestId: requestId, keepAlive: keepAlive, origin: fields.origin)
                }
                return respond(status: .ok, body: local.body, contentType: local.type, requestId: requestId, keepAlive: keepAlive, origin: fields.origin)
            }
        }
        if let site = snapshot.staticSite(for: path) {
            return serveStatic(site, path: path, method: head.method, requestId: requestId, keepAlive: keepAlive, origin: fields.origin)
        }
        guard let active = snapshot.route(for: path) else {
            return respond(status: .notFound, code: "no_route", message: "No route for \(path.prefix(200))", requestId: requestId, keepAlive: keepAlive, origin: fields.origin)
        }
        let route = active.settings
        let cors = snapshot.cors
        if CORSPolicy.isPreflight(head) {
            guard let allowed = cors.preflightHeaders(head) else {
                return respond(status: .forbidden, code: "origin_not_allowed", message: "Origin not allowed", requestId: requestId, keepAlive: keepAlive, origin: fields.origin)
            }
            return respond(status: .noContent, body: nil, contentType: nil, requestId: requestId, keepAlive: keepAlive, origin: fields.origin, extra: allowed)
        }
        if let limit = route.rateLimit {
            switch runtime.limiter.check(clientAddress, zone: route.prefix, limit: limit, now: now()) {
            case .reject(let retryAfter):
                return respond(status: .tooManyRequests, code: "rate_limited", message: "Too many requests, retry in \(retryAfter) s",
                               requestId: requestId, keepAlive: keepAlive, origin: fields.origin, extra: [("Retry-After", String(retryAfter))], route: active.index)
            case .allow: break  // queued requests (no nodelay) are served at once here; see README
            }
        }
        if let length = fields.contentLength, length > route.maxBodyBytes {
            return respond(status: .payloadTooLarge, code: "payload_too_large", message: "Request body is too large", requestId: requestId, keepAlive: false, origin: fields.origin)
        }
        let isUpgrade = route.websocket && fields.upgradeToWebSocket
        var slot: ConnectionLimiter.Slot?
        if let limit = snapshot.config.connectionLimit {
            guard let acquired = runtime.connections.acquire(clientAddress, limit: limit) else {
                return respond(status: .tooManyRequests, code: "too_many_connections", message: "Too many requests in progress from this address (at most \(limit) at once)",
                               requestId: requestId, keepAlive: keepAlive, origin: fields.origin, extra: [("Retry-After", "1")], route: active.index)
            }
            slot = acquired
        }
        var tunnelSlot: ConnectionLimiter.Slot?
        if isUpgrade, let limit = snapshot.config.webSocketLimit {
            guard let acquired = runtime.tunnels.acquire(clientAddress, limit: limit) else {
                return respond(status: .tooManyRequests, code: "too_many_websockets", message: "Too many WebSocket connections from this address (at most \(limit) open)",
                               requestId: requestId, keepAlive: keepAlive, origin: fields.origin, extra: [("Retry-After", "1")], route: active.index)
            }
            tunnelSlot = acquired
        }

        let forwardedFor = fields.forwardedFor.isEmpty ? peer.ip : "\(fields.forwardedFor.joined(separator: ", ")), \(peer.ip)"
        let allocator = context.channel.allocator
        func upstreamHead(cookie: String??) -> ByteBuffer {
            HeadWriter.upstreamRequest(head, uri: Self.upstreamURI(head.uri, strip: route.stripPrefix), isUpgrade: isUpgrade,
                                       chunked: fields.chunked, forwardedFor: forwardedFor, requestId: requestId, fieldBytes: fields.bytes,
                                       cookie: cookie, overTLS: overTLS, allocator: allocator)
        }
        var cookie: String?? = nil
        var refreshToken: String?
        if let sessions = snapshot.config.sessionRefresh, !fields.cookies.isEmpty {
            switch SessionCookies.decide(cookieFields: fields.cookies, path: path, settings: sessions, now: runtime.wallSeconds()) {
            case .unchanged: break
            case .rewrite(let rewritten): cookie = .some(rewritten)
            case .refresh(let token): refreshToken = token
            }
        }
        let exchange = Exchange(route: active, upstreamHead: refreshToken == nil ? upstreamHead(cookie: cookie) : ByteBuffer(),
                                requestId: requestId, clientAddress: clientAddress, request: head,
                                origin: fields.origin, isUpgrade: isUpgrade, chunked: fields.chunked, started: now())
        exchange.slot = slot
        exchange.tunnelSlot = tunnelSlot
        state.proxying(exchange, keepAlive: keepAlive)
        guard let refreshToken, let sessions = snapshot.config.sessionRefresh else { return connect(exchange) }
        refreshSession(exchange, token: refreshToken, settings: sessions, forwardedFor: forwardedFor) { [self] outcome in
            var newAccess: String?
            switch outcome {
            case .refreshed(let access, let setCookies):
                newAccess = access
                exchange.setCookies = setCookies
            case .refused(let setCookies): exchange.setCookies = setCookies
            case .unavailable: break
            }
            exchange.upstreamHead = upstreamHead(cookie: .some(SessionCookies.afterRefresh(
                cookieFields: fields.cookies, path: path, newAccess: newAccess, settings: sessions)))
            connect(exchange)
        }
    }

    /// Asks auth (through the route that serves the refresh endpoint) for the browser's new
    /// session, then goes on with the request on this connection's loop.
    private func refreshSession(_ exchange: Exchange, token: String, settings: GatewayConfig.SessionRefresh, forwardedFor: String,
                                then proceed: @escaping (SessionRefresher.Outcome) -> Void) {
        let loop = context.eventLoop
        let snapshot = current
        guard let endpoint = snapshot.route(for: settings.endpoint),
              let address = runtime.pickInstance(endpoint.settings, client: exchange.clientAddress, excluding: [], now: now())
        else { return proceed(.unavailable) }
        let path = Self.upstreamURI(settings.endpoint, strip: endpoint.settings.stripPrefix)
        let timeout = TimeAmount.nanoseconds(Int64(min(endpoint.settings.readTimeoutSeconds, 10) * 1e9))
        let requestId = exchange.requestId
        runtime.sessions.outcome(for: token, on: loop) {
            SessionRefresher.ask(address, path: path, settings: settings, refreshToken: token, forwardedFor: forwardedFor,
                                 requestId: requestId, timeout: timeout, on: loop)
        }.hop(to: loop).assumeIsolated().whenSuccess { [self] outcome in
            // The client may have gone, or this request ended some other way, meanwhile.
            guard state.request === exchange else { return }
            proceed(outcome)
        }
    }

    private func connect(_ exchange: Exchange) {
        guard let address = runtime.pickInstance(exchange.route.settings, client: exchange.clientAddress, excluding: exchange.tried, now: now()) else {
            return fail(exchange, status: .badGateway, code: "bad_gateway", message: "No upstream instance is available")
        }
        if let last = exchange.lastInstance { exchange.earlier.append(last) }
        exchange.lastInstance = address
        // A WebSocket upgrade gets a connection of its own: it becomes a tunnel, and servers
        // (Hummingbird's among them) upgrade only a connection's first request.
        if !exchange.isUpgrade, let connection = pool.takeIdle(address) {
            return attach(connection, to: exchange)
        }
        let timeout = TimeAmount.nanoseconds(Int64(exchange.route.settings.connectTimeoutSeconds * 1e9))
        pool.connect(address, connectTimeout: timeout) { [self] result in
            guard state.request === exchange else {
                if case .success(let connection) = result { connection.channel.close(promise: nil) }
                return
            }
            switch result {
            case .success(let connection):
                runtime.markHealthy(address)
                attach(connection, to: exchange, outsideReadBurst: true)
            case .failure:
                runtime.markFailed(address, for: exchange.route.settings.failTimeoutSeconds, now: now())
                // Nothing reached that instance: another may take the request.
                if exchange.triedCount <= exchange.route.settings.retries, exchange.triedCount < exchange.route.settings.upstreams.count {
                    connect(exchange)
                } else {
                    fail(exchange, status: .badGateway, code: "bad_gateway", message: "The upstream service is unavailable")
                }
            }
        }
    }

    /// `outsideReadBurst`: no read burst of the client's will flush what is written here.
    private func attach(_ connection: UpstreamConnection, to exchange: Exchange, outsideReadBurst: Bool = false) {
        exchange.upstream = connection
        connection.handler.delegate = self
        connection.channel.write(exchange.upstreamHead, promise: nil)
        if !exchange.pending.isEmpty {
            for part in exchange.pending { connection.channel.write(part, promise: nil) }
            exchange.pending = []
            exchange.pendingBytes = 0
        }
        // Head and end in one write: a request still arriving is flushed by its next read burst.
        if exchange.requestEnded || outsideReadBurst { connection.channel.flush() } else { upstreamNeedsFlush = true }
        awaitResponse(exchange)
        open(.upstreamPending)
    }

    private func send(body: ByteBuffer, in exchange: Exchange) {
        guard exchange.chunked else { return send(body, in: exchange) }
        var framed = context.channel.allocator.buffer(capacity: body.readableBytes + 16)
        framed.writeString(String(body.readableBytes, radix: 16))
        framed.writeStaticString("\r\n")
        framed.writeImmutableBuffer(body)
        framed.writeStaticString("\r\n")
        send(framed, in: exchange)
    }

    private func sendEnd(in exchange: Exchange) {
        if let end = exchange.endBytes { send(end, in: exchange) }
        if let upstream = exchange.upstream { upstream.channel.flush() }
        upstreamNeedsFlush = false
    }

    private func send(_ bytes: ByteBuffer, in exchange: Exchange) {
        if let upstream = exchange.upstream {
            // Flushed when the client's read burst ends, or at the request's end.
            upstream.channel.write(bytes, promise: nil)
            upstreamNeedsFlush = true
            // A slow upstream slows the client down.
            if !upstream.channel.isWritable { state.shut(.upstreamFull) }
        } else {
            exchange.pending.append(bytes)
            exchange.pendingBytes += bytes.readableBytes
            if exchange.pendingBytes > Self.pendingBodyLimit { state.shut(.upstreamPending) }
        }
    }

    private func awaitResponse(_ exchange: Exchange) {
        if let at = state.setDeadline(.response, at: now() + exchange.route.settings.readTimeoutSeconds) { armTimer(at) }
    }

    private func awaitRequestHead() {
        if let at = state.setDeadline(.requestHead, at: now() + current.config.headerTimeoutSeconds) { armTimer(at) }
    }

    /// The one timer, for `at` (replacing one due later).
    private func armTimer(_ at: Double) {
        timer?.cancel()
        let delay = TimeAmount.nanoseconds(Int64(max(0, at - now()) * 1e9))
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in self?.timerFired() }
    }

    private func timerFired() {
        timer = nil
        switch state.timerFired(now: now()) {
        case .nothing:
            break
        case .rearm(let at):
            armTimer(at)
        case .passed(.requestHead):
            context.close(promise: nil)
        case .passed(.response):
            guard let exchange = state.request, exchange.responseStatus == nil else { return }
            exchange.upstream?.handler.delegate = nil
            exchange.upstream?.channel.close(promise: nil)
            exchange.upstream = nil
            fail(exchange, status: .gatewayTimeout, code: "gateway_timeout", message: "The upstream service did not answer in time")
        }
    }

    // MARK: upstream side

    func upstreamRead(_ bytes: ByteBuffer) {
        guard let exchange = state.request else { return }
        var buffer = bytes
        // The response head waits for the body bytes of the same read: one write instead of two.
        var head: ByteBuffer?
        defer { if let head { context.write(wrapOutboundOut(head), promise: nil) } }
        while true {
            let output: ResponseFraming.Output
            do {
                output = try exchange.framing.next(&buffer)
            } catch {
                return upstreamBroke(exchange, error)
            }
            switch output {
            case .needMore:
                return
            case .head(let parsed):
                if parsed.status < 200 && parsed.status != 101 {
                    // 100 Continue and the like: the client hears it, the final head follows.
                    context.write(wrapOutboundOut(HeadWriter.clientResponse(parsed, keepUpgrade: false, decoration: decoration(exchange, close: false),
                                                                           allocator: context.channel.allocator)), promise: nil)
                    continue
                }
                state.clearDeadline()
                exchange.responseStatus = parsed.status
                exchange.upstreamKeepAlive = parsed.keepAlive
                let switching = exchange.isUpgrade && parsed.status == 101
                // A body that ends only when the upstream closes ends the client's connection too.
                if exchange.framing.endsAtClose { state.closeAfterRequest() }
                let bytes = HeadWriter.clientResponse(parsed, keepUpgrade: switching, decoration: decoration(exchange, close: !state.keepAlive),
                                                      allocator: context.channel.allocator)
                if switching { return upgrade(exchange, head: bytes, early: buffer) }
                head = bytes
            case .body(let slice, let ends):
                if slice.readableBytes > 0 {
                    exchange.responseBytes += slice.readableBytes
                    if head != nil, slice.readableBytes <= 16 * 1024 {
                        head!.writeImmutableBuffer(slice)
                    } else {
                        if let pending = head.take() { context.write(wrapOutboundOut(pending), promise: nil) }
                        // Flushed when the upstream's read burst ends (or at the end), not per part.
                        context.write(wrapOutboundOut(slice), promise: nil)
                    }
                    if state.clientWritable(context.channel.isWritable) == false, let upstream = exchange.upstream {
                        upstream.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
                    }
                }
                if ends {
                    // Bytes past the response's end: the upstream is not speaking HTTP/1.1 as asked.
                    if buffer.readableBytes > 0 { exchange.upstreamKeepAlive = false }
                    if let pending = head.take() { context.write(wrapOutboundOut(pending), promise: nil) }
                    context.flush()
                    return finish(exchange)
                }
                if buffer.readableBytes == 0 { return }
            }
        }
    }

    /// The upstream's response could not be read: 502 if nothing was sent yet, else the
    /// client's connection closes (it cannot be told otherwise).
    private func upstreamBroke(_ exchange: Exchange, _ error: ResponseFraming.Failure) {
        runtime.logger.warning("malformed upstream response", metadata: ["upstream": "\(exchange.lastInstance.map(\.description) ?? "-")", "reason": "\(error.reason)"])
        exchange.upstream?.handler.delegate = nil
        exchange.upstream?.channel.close(promise: nil)
        exchange.upstream = nil
        if exchange.responseStatus == nil {
            fail(exchange, status: .badGateway, code: "bad_gateway", message: "The upstream service sent a malformed response")
        } else {
            context.flush()
            context.close(promise: nil)
        }
    }

    func upstreamClosed() {
        guard let exchange = state.request else { return }
        exchange.upstream = nil
        state.clearDeadline()
        if exchange.responseStatus == nil {
            // Closed before answering: a kept-alive connection may have gone stale.
            if exchange.isRetryable, exchange.triedCount <= exchange.route.settings.retries {
                exchange.pending = exchange.requestEnded ? [exchange.endBytes].compactMap { $0 } : []
                exchange.framing = ResponseFraming(requestWasHead: exchange.method == .HEAD)
                return connect(exchange)
            }
            fail(exchange, status: .badGateway, code: "bad_gateway", message: "The upstream service closed the connection")
        } else if exchange.framing.endsAtClose {
            // The upstream's close is this response's end.
            exchange.upstreamKeepAlive = false
            context.flush()
            finish(exchange)
        } else {
            // Mid-response: the client cannot be told otherwise.
            context.close(promise: nil)
        }
    }

    func upstreamError(_ error: any Error) {
        runtime.logger.debug("upstream error: \(error)")
    }

    func upstreamReadComplete() {
        if state.request != nil { context.flush() }
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        if writable { open(.upstreamFull) }
    }

    // MARK: endings

    private func finish(_ exchange: Exchange) {
        state.clearDeadline()
        if let upstream = exchange.upstream {
            // A pooled connection reads again for its next lease.
            if state.upstreamPaused { upstream.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in } }
            if exchange.upstreamKeepAlive && exchange.requestEnded {
                pool.release(upstream)
            } else {
                upstream.handler.delegate = nil
                upstream.channel.close(promise: nil)
            }
        }
        exchange.upstream = nil
        log(exchange, status: exchange.responseStatus ?? 0)
        if exchange.requestEnded {
            requestDone()
        } else {
            // The response ended first: the rest of the body is dropped.
            answering(keepAlive: true)
        }
    }

    /// Answers a request that is being proxied with the gateway's own error.
    private func fail(_ exchange: Exchange, status: HTTPResponseStatus, code: String, message: String) {
        log(exchange, status: Int(status.code))
        answering(keepAlive: true)
        writeResponse(status: status, body: GatewayResponses.errorBody(message: message, code: code, requestId: exchange.requestId),
                      contentType: "application/json; charset=utf-8", requestId: exchange.requestId, keepAlive: state.keepAlive, origin: exchange.origin,
                      setCookies: exchange.setCookies)
        if exchange.requestEnded { requestDone() }
    }

    /// Stops a request mid-body (too large): answer, drop the upstream side, close.
    private func abort(_ exchange: Exchange, status: HTTPResponseStatus, code: String, message: String) {
        exchange.upstream?.handler.delegate = nil
        exchange.upstream?.channel.close(promise: nil)
        exchange.upstream = nil
        log(exchange, status: Int(status.code))
        answering(keepAlive: false)
        if exchange.responseStatus == nil {
            writeResponse(status: status, body: GatewayResponses.errorBody(message: message, code: code, requestId: exchange.requestId),
                          contentType: "application/json; charset=utf-8", requestId: exchange.requestId, keepAlive: false, origin: exchange.origin)
        }
        context.close(promise: nil)
    }

    /// The gateway's own answer to a request it did not forward.
    private func respond(status: HTTPResponseStatus, code: String, message: String, requestId: String, keepAlive: Bool,
                         origin: String? = nil, extra: [(String, String)] = [], route: Int = -1) {
        respond(status: status, body: GatewayResponses.errorBody(message: message, code: code, requestId: requestId),
                contentType: "application/json; charset=utf-8", requestId: requestId, keepAlive: keepAlive, origin: origin, extra: extra, route: route)
    }

    private func respond(status: HTTPResponseStatus, body: ByteBuffer?, contentType: String?, requestId: String, keepAlive: Bool,
                         origin: String? = nil, extra: [(String, String)] = [], route: Int = -1, headOnly: Bool = false) {
        answering(keepAlive: keepAlive)
        writeResponse(status: status, body: body, contentType: contentType, requestId: requestId, keepAlive: state.keepAlive, origin: origin,
                      extra: extra, headOnly: headOnly)
        current.metrics.record(route: route, status: Int(status.code), seconds: 0)
    }

    /// `headOnly`: a HEAD's answer — the head says the body's length, the body is not sent.
    private func writeResponse(status: HTTPResponseStatus, body: ByteBuffer?, contentType: String?, requestId: String, keepAlive: Bool,
                               origin: String?, extra: [(String, String)] = [], setCookies: [String] = [], headOnly: Bool = false) {
        var decoration = decoration(requestId: requestId, origin: origin, close: !keepAlive)
        decoration.setCookies = setCookies
        let head = HeadWriter.ownResponse(status: status, contentType: contentType, contentLength: body?.readableBytes ?? 0, extra: extra,
                                          decoration: decoration, allocator: context.channel.allocator)
        var bytes = head
        if let body, !headOnly { bytes.writeImmutableBuffer(body) }
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    /// Security headers (unless the service set its own), the request id and CORS.
    private func decoration(requestId: String, origin: String?, close: Bool) -> HeadWriter.Decoration {
        let cors = current.cors.responseHeaders(origin: origin).map { HeadWriter.CORSHeader(name: $0.0, value: $0.1) }
        return HeadWriter.Decoration(security: overTLS ? current.tlsSecurityHeaders : current.securityHeaders, requestId: requestId, cors: cors, close: close)
    }

    private func decoration(_ exchange: Exchange, close: Bool) -> HeadWriter.Decoration {
        var decoration = decoration(requestId: exchange.requestId, origin: exchange.origin, close: close)
        decoration.setCookies = exchange.setCookies
        return decoration
    }

    // MARK: WebSocket

    /// The upstream switched protocols: its head, and any bytes it sent right after,
    /// go to the client, and both connections become a tunnel.
    private func upgrade(_ exchange: Exchange, head: ByteBuffer, early: ByteBuffer) {
        guard let upstream = exchange.upstream else { return }
        upstream.handler.delegate = nil
        // limit_conn counts requests in progress: an upgraded one is answered (log gives its
        // place back); its tunnel keeps the limit_websockets place until the client's connection closes.
        let tunnelPlace = exchange.tunnelSlot.take()
        log(exchange, status: 101)
        timer?.cancel()
        timer = nil
        // The tunnel paces reads from here; a read held back is let through first.
        if state.upgraded() { context.read() }
        context.write(wrapOutboundOut(head), promise: nil)
        if early.readableBytes > 0 { context.write(wrapOutboundOut(early), promise: nil) }
        context.flush()
        Tunnel.join(client: context, upstream: upstream, idleTimeoutSeconds: exchange.route.settings.readTimeoutSeconds, place: tunnelPlace)
    }

    // MARK: helpers

    /// A static site's file, from memory; its CSP instead of the API's.
    private func serveStatic(_ site: ActiveStaticSite, path: String, method: HTTPMethod, requestId: String, keepAlive: Bool, origin: String?) {
        guard method == .GET || method == .HEAD else {
            return respond(status: .methodNotAllowed, code: "method_not_allowed", message: "Method not allowed", requestId: requestId,
                           keepAlive: keepAlive, origin: origin, extra: [("Allow", "GET, HEAD")])
        }
        guard let file = site.file(for: path) else {
            return respond(status: .notFound, code: "not_found", message: "No such file", requestId: requestId, keepAlive: keepAlive, origin: origin)
        }
        // HEAD: the same head (its Content-Length too), no body.
        respond(status: .ok, body: file.body, contentType: file.contentType, requestId: requestId, keepAlive: keepAlive, origin: origin,
                extra: site.headers, headOnly: method == .HEAD)
    }

    /// What the gateway answers itself (GET only).
    static let localPaths: Set<String> = ["/health", "/metrics", "/openapi.json"]

    /// `admin`: the client is in `admin_allow`; only it sees the metrics and the upstreams.
    private func localAnswer(_ path: String, admin: Bool) -> (body: ByteBuffer, type: String)? {
        switch path {
        case "/health" where !admin:
            return (GatewayResponses.json(["status": "ok"]), "application/json")
        case "/metrics" where !admin:
            return nil
        case "/health":
            let now = now()
            var upstreams: [String: String] = [:]
            for route in current.config.routes {
                for address in route.upstreams { upstreams[address.description] = runtime.isFailed(address, now: now) ? "down" : "up" }
            }
            return (GatewayResponses.json(["status": "ok", "upstreams": upstreams]), "application/json")
        case "/metrics":
            return (ByteBuffer(string: current.metrics.prometheusText()), "text/plain; version=0.0.4")
        case "/openapi.json":
            return current.openAPI.map { ($0, "application/json") }
        default:
            return nil
        }
    }

    private func log(_ exchange: Exchange, status: Int) {
        // Answered: its places are free (an upgrade's tunnel took its own before this).
        exchange.slot?.release()
        exchange.tunnelSlot?.release()
        let seconds = now() - exchange.started
        current.metrics.record(route: exchange.route.index, status: status, seconds: seconds)
        guard current.config.accessLog else { return }
        let entry = AccessLogEntry(route: exchange.route.settings.prefix, method: exchange.method.rawValue, uri: exchange.path, status: status,
                                   seconds: seconds, bytes: exchange.responseBytes, upstream: exchange.lastInstance?.description ?? "-",
                                   requestId: exchange.requestId, client: exchange.clientAddress)
        switch runtime.accessLog {
        case .jsonLines(let write):
            let label = runtime.logger.label
            write { entry.append(to: &$0, label: label) }
        case .logger: runtime.logger.info("request", metadata: entry.metadata)
        }
    }

    /// The same request's URL over HTTPS: the Host's name (a DNS name, an IPv4 address or a
    /// bracketed IPv6 one, nothing else), the TLS listener's port unless 443, the same URI.
    static func httpsLocation(host: String?, port: Int, uri: String) -> String? {
        guard var name = host, !name.isEmpty, uri.hasPrefix("/") else { return nil }
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return nil }
            name = String(name[...close])
            guard name.dropFirst().dropLast().allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            name = String(name.prefix { $0 != ":" })
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) else { return nil }
        }
        return "https://\(name)\(port == 443 ? "" : ":\(port)")\(uri)"
    }

    static func upstreamURI(_ uri: String, strip: String?) -> String {
        guard let strip, uri.hasPrefix(strip) else { return uri }
        let rest = String(uri.dropFirst(strip.count))
        return rest.hasPrefix("/") ? rest : "/" + rest
    }
}
