import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceKit

/// One client connection: each request is checked (route, rate limit, CORS, sizes),
/// then streamed to an upstream instance over a pooled keep-alive connection, and the
/// response streamed back with the gateway's headers. Everything runs on the
/// connection's event loop; the upstream connection shares it.
final class ClientHandler: ChannelInboundHandler, RemovableChannelHandler, UpstreamDelegate {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let runtime: GatewayRuntime
    let pool: UpstreamPool
    private var context: ChannelHandlerContext!
    private var state = State.idle
    private var timer: DeadlineTimer!
    /// The configuration this connection's current request runs under: read once per
    /// request (a reload applies from the next one), used by everything that request does.
    private var current: ConfigSnapshot
    private var upstreamNeedsFlush = false
    /// Worked out once per connection: the peer's address and whether it is a trusted proxy.
    private var peer: (ip: String, trusted: Bool)?
    /// Request ids need to be unique, not secret: a fast generator seeded from the system's.
    private var ids = RequestIds()
    private var queued: [HTTPServerRequestPart] = []

    enum State {
        case idle
        /// A request is being proxied.
        case proxying(Exchange)
        /// The gateway answered itself; what is left of the request body is dropped.
        case answered(keepAlive: Bool)
        /// The connection became a WebSocket tunnel.
        case upgraded
    }

    /// One request on its way through.
    final class Exchange {
        let route: GatewayConfig.Route
        let upstreamHead: HTTPRequestHead
        let requestId: String
        let clientAddress: String
        let method: HTTPMethod
        let path: String
        let origin: String?
        let keepAlive: Bool
        let isUpgrade: Bool
        let started = monotonicSeconds()
        var upstream: UpstreamConnection?
        var pending: [HTTPClientRequestPart] = []
        var requestBytes = 0
        var requestEnded = false
        var responseStatus: Int?
        var responseBytes = 0
        var upstreamKeepAlive = true
        var tried: Set<String> = []
        /// The instance asked last (for the access log).
        var lastInstance: String?
        /// The upstream agreed to switch protocols; the tunnel opens after its response ends.
        var switching: HTTPResponseHead?

        init(route: GatewayConfig.Route, upstreamHead: HTTPRequestHead, requestId: String, clientAddress: String, request: HTTPRequestHead, isUpgrade: Bool) {
            self.route = route
            self.upstreamHead = upstreamHead
            self.requestId = requestId
            self.clientAddress = clientAddress
            method = request.method
            path = request.uri
            origin = request.headers.first(name: "Origin")
            keepAlive = request.isKeepAlive
            self.isUpgrade = isUpgrade
        }

        /// Safe to send again to another instance: nothing but the head was to be sent.
        var isRetryable: Bool { [.GET, .HEAD, .OPTIONS].contains(method) && requestBytes == 0 && !isUpgrade }
    }

    init(runtime: GatewayRuntime, pool: UpstreamPool) {
        self.runtime = runtime
        self.pool = pool
        current = runtime.snapshot
    }

    // MARK: client side

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        timer = DeadlineTimer(eventLoop: context.eventLoop)
        let ip = context.channel.remoteAddress?.ipAddress ?? "unknown"
        peer = (ip, current.clientAddress.isTrusted(ip))
        if context.channel.isActive { armHeaderTimer() }
    }

    func channelActive(context: ChannelHandlerContext) {
        armHeaderTimer()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        // A pipelined request waits until the one in progress is answered; reading stops
        // meanwhile, so a client cannot queue without bound. (NIO's pipelining handler
        // would do this by toggling read interest on every request: two syscalls each.)
        if !queued.isEmpty || (part.isHead && isBusy) {
            queued.append(part)
            if queued.count == 1 { context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in } }
            return
        }
        handle(part)
    }

    private var isBusy: Bool {
        if case .idle = state { return false }
        return true
    }

    /// Requests that arrived while another was in progress, replayed once it is done.
    private func resumeQueued() {
        guard !queued.isEmpty else { return }
        var parts = queued[...]
        queued = []
        while let part = parts.first {
            if part.isHead && isBusy {
                queued = Array(parts)
                return
            }
            parts = parts.dropFirst()
            handle(part)
        }
        flushUpstream()
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
    }

    private func becameIdle() {
        armHeaderTimer()
        resumeQueued()
    }

    private func handle(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(let head): begin(head)
        case .body(let buffer):
            switch state {
            case .proxying(let exchange):
                exchange.requestBytes += buffer.readableBytes
                if exchange.requestBytes > exchange.route.maxBodyBytes {
                    abort(exchange, status: .payloadTooLarge, code: "payload_too_large", message: "Request body is too large")
                    return
                }
                send(.body(.byteBuffer(buffer)), in: exchange)
            default: break
            }
        case .end:
            switch state {
            case .proxying(let exchange):
                exchange.requestEnded = true
                send(.end(nil), in: exchange)
            case .answered(let keepAlive):
                state = .idle
                if keepAlive { becameIdle() } else { context.close(promise: nil) }
            default: break
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushUpstream()
        context.fireChannelReadComplete()
    }

    /// Body parts written upstream during a read burst go out together at its end.
    private func flushUpstream() {
        if upstreamNeedsFlush, case .proxying(let exchange) = state {
            exchange.upstream?.channel.flush()
        }
        upstreamNeedsFlush = false
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer.cancel()
        if case .proxying(let exchange) = state {
            exchange.upstream?.handler.delegate = nil
            exchange.upstream?.channel.close(promise: nil)
        }
        state = .idle
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A slow client slows the upstream down instead of filling our memory.
        if case .proxying(let exchange) = state, let upstream = exchange.upstream {
            upstream.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Malformed HTTP never reaches an upstream: 400 and close.
        if error is HTTPParserError, case .idle = state {
            respond(status: .badRequest, code: "bad_request", message: "Malformed HTTP request", requestId: ids.next(), keepAlive: false)
        }
        context.close(promise: nil)
    }

    // MARK: one request

    private func begin(_ head: HTTPRequestHead) {
        timer.clear()
        current = runtime.snapshot
        let snapshot = current
        let config = snapshot.config
        let requestId = head.headers.first(name: "X-Request-Id").flatMap { RequestIdMiddleware<ServiceRequestContext>.isAcceptable($0) ? $0 : nil } ?? ids.next()
        let peer = self.peer ?? ("unknown", false)
        let clientAddress = snapshot.clientAddress.resolve(peerIP: peer.ip, peerTrusted: peer.trusted, forwardedFor: head.headers["X-Forwarded-For"])
        let keepAlive = head.isKeepAlive

        let headBytes = head.uri.utf8.count + head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        if headBytes > config.maxHeaderBytes {
            return respond(status: .requestHeaderFieldsTooLarge, code: "headers_too_large", message: "Request headers are too large", requestId: requestId, keepAlive: false)
        }
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        if head.method == .GET, let local = localAnswer(path) {
            return respond(status: .ok, body: local.body, contentType: local.type, requestId: requestId, keepAlive: keepAlive, origin: head.headers.first(name: "Origin"))
        }
        guard let route = config.route(for: path) else {
            return respond(status: .notFound, code: "no_route", message: "No route for \(path.prefix(200))", requestId: requestId, keepAlive: keepAlive)
        }
        guard head.method != .CONNECT, head.method != .TRACE else {
            return respond(status: .methodNotAllowed, code: "method_not_allowed", message: "Method not allowed", requestId: requestId, keepAlive: keepAlive)
        }
        let cors = snapshot.cors
        if CORSPolicy.isPreflight(head) {
            guard let allowed = cors.preflightHeaders(head) else {
                return respond(status: .forbidden, code: "origin_not_allowed", message: "Origin not allowed", requestId: requestId, keepAlive: keepAlive)
            }
            return respond(status: .noContent, body: nil, contentType: nil, requestId: requestId, keepAlive: keepAlive, extra: allowed)
        }
        if let limit = route.rateLimit {
            switch runtime.limiter.check(route.prefix + "|" + clientAddress, limit: limit, now: monotonicSeconds()) {
            case .reject(let retryAfter):
                return respond(status: .tooManyRequests, code: "rate_limited", message: "Too many requests, retry in \(retryAfter) s",
                               requestId: requestId, keepAlive: keepAlive, extra: [("Retry-After", String(retryAfter))], route: route.prefix)
            case .allow: break  // queued requests (no nodelay) are served at once here; see README
            }
        }
        if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > route.maxBodyBytes {
            return respond(status: .payloadTooLarge, code: "payload_too_large", message: "Request body is too large", requestId: requestId, keepAlive: false)
        }
        let isUpgrade = route.websocket && head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }

        var upstreamHead = HTTPRequestHead(version: .http1_1, method: head.method, uri: Self.upstreamURI(head.uri, strip: route.stripPrefix))
        upstreamHead.headers = HopByHop.stripped(head.headers, keepUpgrade: isUpgrade)
        if head.headers.contains(name: "Transfer-Encoding") { upstreamHead.headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked") }
        let forwarded = head.headers["X-Forwarded-For"].joined(separator: ", ")
        upstreamHead.headers.replaceOrAdd(name: "X-Forwarded-For", value: forwarded.isEmpty ? peer.ip : "\(forwarded), \(peer.ip)")
        upstreamHead.headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "http")
        upstreamHead.headers.replaceOrAdd(name: "X-Request-Id", value: requestId)

        let exchange = Exchange(route: route, upstreamHead: upstreamHead, requestId: requestId, clientAddress: clientAddress, request: head, isUpgrade: isUpgrade)
        exchange.pending.append(.head(upstreamHead))
        state = .proxying(exchange)
        connect(exchange)
    }

    private func connect(_ exchange: Exchange) {
        let now = monotonicSeconds()
        guard let address = runtime.pickInstance(exchange.route, client: exchange.clientAddress, excluding: exchange.tried, now: now) else {
            return fail(exchange, status: .badGateway, code: "bad_gateway", message: "No upstream instance is available")
        }
        exchange.tried.insert(address.description)
        exchange.lastInstance = address.description
        let timeout = TimeAmount.nanoseconds(Int64(exchange.route.connectTimeoutSeconds * 1e9))
        // A WebSocket upgrade gets a connection of its own: it becomes a tunnel, and servers
        // (Hummingbird's among them) upgrade only a connection's first request.
        pool.lease(address, connectTimeout: timeout, fresh: exchange.isUpgrade) { [self] result in
            guard case .proxying(let current) = state, current === exchange else {
                if case .success(let connection) = result { connection.channel.close(promise: nil) }
                return
            }
            switch result {
            case .success(let connection):
                runtime.markHealthy(address)
                exchange.upstream = connection
                connection.handler.delegate = self
                for part in exchange.pending { connection.channel.write(part, promise: nil) }
                exchange.pending = []
                // Head and end in one write: a request still arriving is flushed by its next read burst.
                if exchange.requestEnded { connection.channel.flush() } else { upstreamNeedsFlush = true }
                armResponseTimer(exchange)
            case .failure:
                runtime.markFailed(address, for: exchange.route.failTimeoutSeconds, now: monotonicSeconds())
                // Nothing reached that instance: another may take the request.
                if exchange.tried.count <= exchange.route.retries, exchange.tried.count < exchange.route.upstreams.count {
                    connect(exchange)
                } else {
                    fail(exchange, status: .badGateway, code: "bad_gateway", message: "The upstream service is unavailable")
                }
            }
        }
    }

    private func send(_ part: HTTPClientRequestPart, in exchange: Exchange) {
        if let upstream = exchange.upstream {
            // Body parts are flushed when the client's read burst ends, the end at once.
            if case .end = part { upstream.channel.writeAndFlush(part, promise: nil) } else {
                upstream.channel.write(part, promise: nil)
                upstreamNeedsFlush = true
            }
            // A slow upstream slows the client down.
            if !upstream.channel.isWritable { context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in } }
        } else {
            exchange.pending.append(part)
        }
    }

    private func armResponseTimer(_ exchange: Exchange) {
        timer.set(in: exchange.route.readTimeoutSeconds) { [self] in
            guard case .proxying(let current) = state, current === exchange, exchange.responseStatus == nil else { return }
            exchange.upstream?.handler.delegate = nil
            exchange.upstream?.channel.close(promise: nil)
            fail(exchange, status: .gatewayTimeout, code: "gateway_timeout", message: "The upstream service did not answer in time")
        }
    }

    // MARK: upstream side

    func upstreamRead(_ part: HTTPClientResponsePart) {
        guard case .proxying(let exchange) = state else { return }
        switch part {
        case .head(let head):
            timer.clear()
            exchange.responseStatus = Int(head.status.code)
            exchange.upstreamKeepAlive = head.isKeepAlive
            var response = HTTPResponseHead(version: .http1_1, status: head.status)
            response.headers = HopByHop.stripped(head.headers, keepUpgrade: exchange.isUpgrade && head.status == .switchingProtocols)
            if head.headers.contains(name: "Transfer-Encoding") { response.headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked") }
            decorate(&response.headers, requestId: exchange.requestId, origin: exchange.origin)
            if !exchange.keepAlive { response.headers.replaceOrAdd(name: "Connection", value: "close") }
            if exchange.isUpgrade && head.status == .switchingProtocols {
                exchange.switching = response
                return
            }
            context.write(wrapOutboundOut(.head(response)), promise: nil)
        case .body(let buffer):
            exchange.responseBytes += buffer.readableBytes
            // Flushed when the upstream's read burst ends (or at .end), not per part.
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable, let upstream = exchange.upstream {
                upstream.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            }
        case .end:
            if let response = exchange.switching {
                // Out of the decoder's call first: the tunnel removes it.
                context.eventLoop.assumeIsolated().execute { self.upgrade(exchange, response: response) }
                return
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            finish(exchange)
        }
    }

    func upstreamClosed() {
        guard case .proxying(let exchange) = state else { return }
        exchange.upstream = nil
        timer.clear()
        if exchange.responseStatus == nil {
            // Closed before answering: a kept-alive connection may have gone stale.
            if exchange.isRetryable, exchange.tried.count <= exchange.route.retries {
                exchange.pending = [.head(exchange.upstreamHead)] + (exchange.requestEnded ? [.end(nil)] : [])
                return connect(exchange)
            }
            fail(exchange, status: .badGateway, code: "bad_gateway", message: "The upstream service closed the connection")
        } else {
            // Mid-response: the client cannot be told otherwise.
            context.close(promise: nil)
        }
    }

    func upstreamError(_ error: any Error) {
        runtime.logger.debug("upstream error: \(error)")
    }

    func upstreamReadComplete() {
        if case .proxying = state { context.flush() }
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        if writable { context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in } }
    }

    // MARK: endings

    private func finish(_ exchange: Exchange) {
        timer.clear()
        if let upstream = exchange.upstream {
            upstream.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
            if exchange.upstreamKeepAlive && exchange.requestEnded {
                pool.release(upstream)
            } else {
                upstream.handler.delegate = nil
                upstream.channel.close(promise: nil)
            }
        }
        exchange.upstream = nil
        log(exchange, status: exchange.responseStatus ?? 0, upstream: exchange.lastInstance)
        state = .idle
        if exchange.keepAlive { becameIdle() } else { context.close(promise: nil) }
    }

    /// Answers a request that is being proxied with the gateway's own error.
    private func fail(_ exchange: Exchange, status: HTTPResponseStatus, code: String, message: String) {
        timer.clear()
        log(exchange, status: Int(status.code), upstream: exchange.lastInstance)
        state = exchange.requestEnded ? .idle : .answered(keepAlive: exchange.keepAlive)
        writeResponse(status: status, body: GatewayResponses.errorBody(message: message, code: code, requestId: exchange.requestId),
                      contentType: "application/json; charset=utf-8", requestId: exchange.requestId, keepAlive: exchange.keepAlive, origin: exchange.origin)
        if exchange.requestEnded { if exchange.keepAlive { becameIdle() } else { context.close(promise: nil) } }
    }

    /// Stops a request mid-body (too large): answer, drop the upstream side, close.
    private func abort(_ exchange: Exchange, status: HTTPResponseStatus, code: String, message: String) {
        timer.clear()
        exchange.upstream?.handler.delegate = nil
        exchange.upstream?.channel.close(promise: nil)
        log(exchange, status: Int(status.code), upstream: nil)
        state = .answered(keepAlive: false)
        if exchange.responseStatus == nil {
            writeResponse(status: status, body: GatewayResponses.errorBody(message: message, code: code, requestId: exchange.requestId),
                          contentType: "application/json; charset=utf-8", requestId: exchange.requestId, keepAlive: false, origin: exchange.origin)
        }
        context.close(promise: nil)
    }

    /// The gateway's own answer to a request it did not forward.
    private func respond(status: HTTPResponseStatus, code: String, message: String, requestId: String, keepAlive: Bool,
                         extra: [(String, String)] = [], route: String = "-") {
        respond(status: status, body: GatewayResponses.errorBody(message: message, code: code, requestId: requestId),
                contentType: "application/json; charset=utf-8", requestId: requestId, keepAlive: keepAlive, extra: extra, route: route)
    }

    private func respond(status: HTTPResponseStatus, body: ByteBuffer?, contentType: String?, requestId: String, keepAlive: Bool,
                         origin: String? = nil, extra: [(String, String)] = [], route: String = "-") {
        state = .answered(keepAlive: keepAlive)
        writeResponse(status: status, body: body, contentType: contentType, requestId: requestId, keepAlive: keepAlive, origin: origin, extra: extra)
        current.metrics.record(route: current.routeIndex[route] ?? -1, status: Int(status.code), seconds: 0)
    }

    private func writeResponse(status: HTTPResponseStatus, body: ByteBuffer?, contentType: String?, requestId: String, keepAlive: Bool,
                               origin: String?, extra: [(String, String)] = []) {
        var head = HTTPResponseHead(version: .http1_1, status: status)
        if let contentType { head.headers.add(name: "Content-Type", value: contentType) }
        head.headers.add(name: "Content-Length", value: String(body?.readableBytes ?? 0))
        for (name, value) in extra { head.headers.replaceOrAdd(name: name, value: value) }
        decorate(&head.headers, requestId: requestId, origin: origin)
        if !keepAlive { head.headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Security headers (unless the service set its own), the request id and CORS.
    private func decorate(_ headers: inout HTTPHeaders, requestId: String, origin: String?) {
        for header in current.config.securityHeaders where !headers.contains(name: header.name) { headers.add(name: header.name, value: header.value) }
        headers.replaceOrAdd(name: "X-Request-Id", value: requestId)
        if let origin {
            for (name, value) in current.cors.responseHeaders(origin: origin) { headers.replaceOrAdd(name: name, value: value) }
        }
    }

    // MARK: WebSocket

    private func upgrade(_ exchange: Exchange, response: HTTPResponseHead) {
        guard let upstream = exchange.upstream else { return }
        timer.clear()
        upstream.handler.delegate = nil
        log(exchange, status: 101, upstream: exchange.lastInstance)
        state = .upgraded
        context.writeAndFlush(wrapOutboundOut(.head(response)), promise: nil)
        Tunnel.join(client: context, upstream: upstream, idleTimeoutSeconds: exchange.route.readTimeoutSeconds)
    }

    // MARK: helpers

    private func localAnswer(_ path: String) -> (body: ByteBuffer, type: String)? {
        switch path {
        case "/health":
            let now = monotonicSeconds()
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

    private func armHeaderTimer() {
        timer.set(in: current.config.headerTimeoutSeconds) { [self] in
            // Slow or idle clients lose their connection, not our memory.
            if case .idle = state { context.close(promise: nil) }
        }
    }

    private func log(_ exchange: Exchange, status: Int, upstream: String?) {
        let seconds = monotonicSeconds() - exchange.started
        current.metrics.record(route: current.routeIndex[exchange.route.prefix] ?? -1, status: status, seconds: seconds)
        guard current.config.accessLog else { return }
        runtime.logger.info("request", metadata: [
            "route": .string(exchange.route.prefix), "method": .string(exchange.method.rawValue),
            "path": .string(String(exchange.path.split(separator: "?", maxSplits: 1).first ?? "")),
            "status": .stringConvertible(status), "latencyMs": .stringConvertible((seconds * 1e5).rounded() / 100),
            "bytes": .stringConvertible(exchange.responseBytes), "upstream": .string(upstream ?? "-"),
            "requestId": .string(exchange.requestId), "client": .string(exchange.clientAddress),
        ])
    }

    static func upstreamURI(_ uri: String, strip: String?) -> String {
        guard let strip, uri.hasPrefix(strip) else { return uri }
        let rest = String(uri.dropFirst(strip.count))
        return rest.hasPrefix("/") ? rest : "/" + rest
    }
}

extension HTTPServerRequestPart {
    var isHead: Bool {
        if case .head = self { return true }
        return false
    }
}
