import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One plain-HTTP GET on a fresh connection, for small internal documents such as the
/// JWKS. Not a general client: no TLS, no redirects, bodies up to `maxBody` bytes.
public enum HTTPFetch {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func get(
        _ url: String, timeout: TimeAmount = .seconds(5), maxBody: Int = 1 << 20,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> (status: Int, body: [UInt8]) {
        guard let parsed = URL(string: url), parsed.scheme == "http", let host = parsed.host else {
            throw Failure(description: "not an http:// URL: \(url)")
        }
        let port = parsed.port ?? 80
        let path = parsed.path.isEmpty ? "/" : parsed.path + (parsed.query.map { "?\($0)" } ?? "")
        let eventLoop = group.next()
        let result = eventLoop.makePromise(of: (Int, [UInt8]).self)
        let connecting = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(result: result, maxBody: maxBody))
                }
            }
            .connect(host: host, port: port)
        let channel: any Channel
        do {
            channel = try await connecting.get()
        } catch {
            result.fail(error)  // a promise must be completed, even one nobody waits for
            throw error
        }
        let deadline = eventLoop.scheduleTask(in: timeout) {
            result.fail(Failure(description: "GET \(url) timed out"))
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: port == 80 ? host : "\(host):\(port)")
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Accept", value: "application/json")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        let (status, body) = try await result.futureResult.get()
        return (status, body)
    }

    private final class ResponseCollector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let result: EventLoopPromise<(Int, [UInt8])>
        let maxBody: Int
        var status = 0
        var body: [UInt8] = []

        init(result: EventLoopPromise<(Int, [UInt8])>, maxBody: Int) {
            self.result = result
            self.maxBody = maxBody
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = Int(head.status.code)
            case .body(let buffer):
                guard body.count + buffer.readableBytes <= maxBody else {
                    result.fail(Failure(description: "response larger than \(maxBody) bytes"))
                    context.close(promise: nil)
                    return
                }
                body.append(contentsOf: buffer.readableBytesView)
            case .end: result.succeed((status, body))
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            result.fail(Failure(description: "connection closed before the response ended"))
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            result.fail(error)
            context.close(promise: nil)
        }
    }
}
