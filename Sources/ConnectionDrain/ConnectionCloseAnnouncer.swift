import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Says `Connection: close` in a response after which the server closes the connection
/// (RFC 9112 §9.6): when the request asked for it, and while the server drains (its HTTP
/// handler closes each connection after the response in flight). Without it a client that
/// pools connections, Node's fetch among them, reuses one the server is closing and fails.
final class ConnectionCloseAnnouncer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var requestAskedToClose = false
    private var draining = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let request) = unwrapInboundIn(data) {
            requestAskedToClose = Self.asksToClose(request.headerFields)
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { draining = true }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var response) = unwrapOutboundIn(data), response.status.kind != .informational,
              requestAskedToClose || draining
        else {
            context.write(data, promise: promise)
            return
        }
        response.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(response)), promise: promise)
    }

    /// Whether a `Connection` field lists the `close` option (case-insensitive, comma-separated).
    static func asksToClose(_ fields: HTTPFields) -> Bool {
        fields[values: .connection].contains { value in
            value.split(separator: ",").contains { $0.filter { $0 != " " && $0 != "\t" }.lowercased() == "close" }
        }
    }
}
