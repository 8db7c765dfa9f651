import NIOCore
import NIOPosix

/// An upstream that answers each request head with exactly the bytes a script gives for
/// its method and path (framing, odd headers, malformed responses), then closes if told to.
final class ScriptedUpstream: Sendable {
    struct Answer: Sendable {
        let bytes: String
        var closeAfter = false
    }

    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    init(_ script: @escaping @Sendable (_ method: String, _ path: String) -> Answer) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Heads(script: script)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func stop() async { try? await channel.close() }

    final class Heads: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let script: @Sendable (String, String) -> Answer
        var seen = ""

        init(script: @escaping @Sendable (String, String) -> Answer) { self.script = script }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            seen += String(buffer: unwrapInboundIn(data))
            // Requests without bodies only: each head ends at its empty line.
            while let end = seen.range(of: "\r\n\r\n") {
                let line = seen[..<end.lowerBound].prefix { $0 != "\r" }.split(separator: " ")
                seen = String(seen[end.upperBound...])
                let answer = script(String(line.first ?? ""), String(line.dropFirst().first ?? ""))
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer.bytes)), promise: nil)
                if answer.closeAfter {
                    context.close(promise: nil)
                    return
                }
            }
        }
    }
}
