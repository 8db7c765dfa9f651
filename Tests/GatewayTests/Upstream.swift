import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// A real HTTP upstream for gateway tests: answers every request with what it saw
/// (`{"instance", "method", "uri", "headers", "bodyBytes"}`), `/slow` after 3 s, and
/// echoes WebSocket text frames on `/socket`. Counts the requests that reached it.
final class Upstream: Sendable {
    let name: String
    let channel: any Channel
    let requests = Atomic<Int>(0)

    var port: Int { channel.localAddress!.port! }

    /// `group`: a test that times what it sees gives the upstream event loops of its own
    /// (the shared ones carry other suites' megabyte bodies, seconds at a time in a debug build).
    static func start(_ name: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Upstream {
        let box = UpstreamBox()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    shouldUpgrade: { channel, head in channel.eventLoop.makeSucceededFuture(head.uri.hasPrefix("/socket") ? HTTPHeaders() : nil) },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoFrames()) }
                    })
                return channel.pipeline.configureHTTPServerPipeline(
                    // After an upgrade the frames go to EchoFrames, not to the HTTP answerer.
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in context.pipeline.removeHandler(name: "answer", promise: nil) })
                ).flatMap {
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Answer(box: box), name: "answer") }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let upstream = Upstream(name: name, channel: channel)
        box.upstream.withLock { $0 = upstream }
        return upstream
    }

    private init(name: String, channel: any Channel) {
        self.name = name
        self.channel = channel
    }

    func stop() async { try? await channel.close() }

    final class UpstreamBox: Sendable {
        let upstream = Mutex<Upstream?>(nil)
    }

    final class Answer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let box: UpstreamBox
        var head: HTTPRequestHead?
        var bodyBytes = 0

        init(box: UpstreamBox) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                bodyBytes = 0
            case .body(let buffer): bodyBytes += buffer.readableBytes
            case .end:
                guard let head, let upstream = box.upstream.withLock({ $0 }) else { return }
                upstream.requests.add(1, ordering: .relaxed)
                var headers: [String: String] = [:]
                for (name, value) in head.headers { headers[name.lowercased()] = value }
                let object: [String: Any] = ["instance": upstream.name, "method": head.method.rawValue, "uri": head.uri, "headers": headers, "bodyBytes": bodyBytes]
                let body = ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
                let respond = { [context] in
                    var response = HTTPResponseHead(version: .http1_1, status: .ok)
                    response.headers.add(name: "Content-Type", value: "application/json")
                    response.headers.add(name: "Content-Length", value: String(body.readableBytes))
                    response.headers.add(name: "X-Frame-Options", value: "SAMEORIGIN")  // the service's own wins
                    response.headers.add(name: "Vary", value: "Accept-Encoding")  // kept beside the gateway's Vary: Origin
                    context.write(self.wrapOutboundOut(.head(response)), promise: nil)
                    context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
                    context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                }
                if head.uri.hasPrefix("/slow") {
                    context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(3)) { respond() }
                } else {
                    respond()
                }
            }
        }
    }

    final class EchoFrames: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch frame.opcode {
            case .text, .binary:
                var payload = frame.unmaskedData
                let text = payload.readString(length: payload.readableBytes) ?? ""
                let reply = ByteBuffer(string: "echo: \(text)")
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: reply)), promise: nil)
            case .connectionClose: context.close(promise: nil)
            default: break
            }
        }
    }
}
