import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Refreshes browser sessions for the connections (see `SessionCookies`): one call to
/// auth's refresh route per refresh token however many of a browser's requests arrive at
/// once, its outcome shared by all of them and kept for `memoSeconds` — so the tabs and
/// parallel requests of one browser never present a rotated token twice (auth's grace
/// window covers what several gateway instances do).
final class SessionRefresher: Sendable {
    enum Outcome: Sendable, Equatable {
        /// The new access token, and the `Set-Cookie` values to hand the browser.
        case refreshed(accessToken: String, setCookies: [String])
        /// Auth refused the refresh token (expired, revoked, reused): its cookie-clearing `Set-Cookie` values.
        case refused(setCookies: [String])
        /// Auth could not be asked: the request goes on as it came.
        case unavailable
    }

    private enum Entry {
        case waiting([EventLoopPromise<Outcome>])
        case done(Outcome, at: Double)
    }

    private let entries = Mutex<[String: Entry]>([:])
    let memoSeconds: Double
    let maxEntries: Int

    init(memoSeconds: Double = 5, maxEntries: Int = 10_000) {
        self.memoSeconds = memoSeconds
        self.maxEntries = maxEntries
    }

    /// The outcome for `token`, from a call started now (`ask`) or one already under way or just made.
    func outcome(for token: String, on loop: any EventLoop, ask: @Sendable () -> EventLoopFuture<Outcome>) -> EventLoopFuture<Outcome> {
        let promise = loop.makePromise(of: Outcome.self)
        let now = monotonicSeconds()
        let (starts, known): (Bool, Outcome?) = entries.withLock { entries in
            switch entries[token] {
            case .done(let outcome, let at) where now - at < memoSeconds:
                return (false, outcome)
            case .waiting(let waiting):
                entries[token] = .waiting(waiting + [promise])
                return (false, nil)
            default:
                if entries.count >= maxEntries { Self.forgetOld(&entries, now: now, memo: memoSeconds) }
                entries[token] = .waiting([promise])
                return (true, nil)
            }
        }
        if let known { promise.succeed(known) }
        if starts {
            ask().whenComplete { [self] result in
                let outcome = (try? result.get()) ?? .unavailable
                let waiting = entries.withLock { entries -> [EventLoopPromise<Outcome>] in
                    guard case .waiting(let waiting) = entries[token] else { return [] }
                    // An outage is not remembered: the next request asks again.
                    entries[token] = outcome == .unavailable ? nil : .done(outcome, at: monotonicSeconds())
                    return waiting
                }
                for waiter in waiting { waiter.succeed(outcome) }
            }
        }
        return promise.futureResult
    }

    private static func forgetOld(_ entries: inout [String: Entry], now: Double, memo: Double) {
        entries = entries.filter { _, entry in
            if case .done(_, let at) = entry { return now - at < memo }
            return true
        }
    }

    /// `POST path` to `address` with the refresh cookie, the way a browser would send it.
    static func ask(
        _ address: GatewayConfig.Address, path: String, settings: GatewayConfig.SessionRefresh, refreshToken: String,
        forwardedFor: String, requestId: String, timeout: TimeAmount, on loop: any EventLoop
    ) -> EventLoopFuture<Outcome> {
        let result = OnceOnLoop(loop.makePromise(of: Outcome.self))
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(RefreshAnswer(accessCookie: settings.accessCookie, result: result))
                }
            }
            .connect(host: address.host, port: address.port)
            .whenComplete { connected in
                guard case .success(let channel) = connected else { return result.succeed(.unavailable) }
                let deadline = loop.scheduleTask(in: timeout) {
                    result.succeed(.unavailable)
                    channel.close(promise: nil)
                }
                result.promise.futureResult.whenComplete { _ in
                    deadline.cancel()
                    channel.close(promise: nil)
                }
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
                head.headers.add(name: "Host", value: address.description)
                head.headers.add(name: "Cookie", value: "\(settings.refreshCookie)=\(refreshToken)")
                head.headers.add(name: "Content-Length", value: "0")
                head.headers.add(name: "Connection", value: "close")
                head.headers.add(name: "X-Forwarded-For", value: forwardedFor)
                head.headers.add(name: "X-Request-Id", value: requestId)
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            }
        return result.promise.futureResult
    }

    /// A promise that the first of several loop-bound paths (answer, close, timeout) completes.
    final class OnceOnLoop: @unchecked Sendable {
        let promise: EventLoopPromise<Outcome>
        private var completed = false  // touched on the promise's loop only

        init(_ promise: EventLoopPromise<Outcome>) { self.promise = promise }

        func succeed(_ outcome: Outcome) {
            promise.futureResult.eventLoop.preconditionInEventLoop()
            guard !completed else { return }
            completed = true
            promise.succeed(outcome)
        }
    }

    /// Reads auth's answer: the status and its `Set-Cookie` fields (the body says nothing more).
    private final class RefreshAnswer: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let accessCookie: String
        let result: OnceOnLoop
        private var status = 0
        private var setCookies: [String] = []

        init(accessCookie: String, result: OnceOnLoop) {
            self.accessCookie = accessCookie
            self.result = result
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                status = Int(head.status.code)
                setCookies = head.headers["set-cookie"]
            case .body: break
            case .end:
                let access = SessionCookies.parse(setCookies.map { String($0.split(separator: ";", maxSplits: 1).first ?? "") })
                    .last { $0.name == accessCookie && !$0.value.isEmpty }?.value
                switch status {
                case 200: result.succeed(access.map { .refreshed(accessToken: $0, setCookies: setCookies) } ?? .unavailable)
                case 401: result.succeed(.refused(setCookies: setCookies))
                default: result.succeed(.unavailable)
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) { result.succeed(.unavailable) }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            result.succeed(.unavailable)
            context.close(promise: nil)
        }
    }
}
