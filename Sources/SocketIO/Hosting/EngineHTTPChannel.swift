import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// HTTP/1 whose WebSocket upgrades to an Engine.IO server are served on the event loop
/// by `EngineWebSocketHandler` (no task is left waiting on an open WebSocket); every other
/// request goes to the responder, as Hummingbird's HTTP/1 channel would take it.
struct EngineHTTPChannel: HTTPChannelHandler {
    enum Outcome: Sendable {
        case webSocket
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade was asked for and refused: answered 400, then closed.
        case refusedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    struct Value: ServerChildChannelValue {
        let outcome: EventLoopFuture<Outcome>
        let channel: any Channel
    }

    let responder: Responder
    let http1: HTTP1Channel.Configuration
    let maxFrameSize: Int
    /// The server and plan for an upgrade request; nil refuses it.
    let plan: @Sendable (HTTPRequest) -> (EngineServer, EngineWebSocketPlan)?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Each connection keeps its receive buffer between reads: most of an idle
            // socket's memory at NIO's default first size (2 KB). It grows when reads fill it.
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.receiveBuffers)
            let eventLoop = channel.eventLoop
            let attempted = NIOLoopBoundBox(false, eventLoop: eventLoop)
            let chosen = NIOLoopBoundBox<(EngineServer, EngineWebSocketPlan)?>(nil, eventLoop: eventLoop)
            let upgrader = EngineWebSocketUpgrader(
                handshake: NIOTypedWebSocketServerUpgrader<Outcome>(
                    maxFrameSize: maxFrameSize,
                    shouldUpgrade: { [plan] channel, head in
                        attempted.value = true
                        guard let request = try? HTTPRequest(head, secure: false, splitCookie: false), let found = plan(request) else {
                            return channel.eventLoop.makeSucceededFuture(nil)
                        }
                        chosen.value = found
                        return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                    },
                    upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededFuture(.webSocket) }),
                maxFrameSize: maxFrameSize,
                handler: {
                    guard let (engine, plan) = chosen.value else { throw ChannelError.inappropriateOperationForState }
                    return EngineWebSocketHandler(engine: engine, plan: plan)
                })
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration<Outcome>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { [http1] channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try pipeline.addHandlers(http1.additionalChannelHandlers())
                        try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .nanoseconds($0.nanoseconds) }, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return attempted.value ? .refusedUpgrade(http) : .http(http)
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<Outcome>(upgradeConfiguration: upgrades)
            configuration.enablePipelining = false  // NIOAsyncChannel takes requests one at a time
            configuration.enableErrorHandling = false  // Hummingbird answers parse errors
            configuration.enableResponseHeaderValidation = false  // HTTPTypes validated them
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let outcome = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(outcome: outcome, channel: channel)
        }
    }

    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.outcome.get() {
            case .webSocket:
                return  // served on the event loop from here on
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refusedUpgrade(let http):
                try await http.executeThenClose { _, outbound in
                    try await outbound.write(contentsOf: [
                        .head(HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])), .end(nil),
                    ])
                }
            }
        } catch {
            logger.debug("connection ended before or while it was set up", metadata: ["error": "\(error)"])
        }
    }
}

/// The WebSocket upgrade with NIO's handshake (the request's checks and Sec-WebSocket-Accept)
/// and a pipeline of our own: NIO's frame decoder and `EngineWebSocketHandler`, which frames
/// what it writes itself (`ServerFrames`: one buffer per frame, a broadcast's shared by
/// every recipient) instead of NIO's frame encoder.
struct EngineWebSocketUpgrader: NIOTypedHTTPServerProtocolUpgrader {
    typealias UpgradeResult = EngineHTTPChannel.Outcome

    /// Used for the handshake only: its own upgrade (which adds NIO's encoder) never runs.
    let handshake: NIOTypedWebSocketServerUpgrader<UpgradeResult>
    let maxFrameSize: Int
    /// Called on the channel's event loop once the 101 is written.
    let handler: @Sendable () throws -> EngineWebSocketHandler

    var supportedProtocol: String { handshake.supportedProtocol }
    var requiredUpgradeHeaders: [String] { handshake.requiredUpgradeHeaders }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        handshake.buildUpgradeResponse(channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)))
            try pipeline.addHandler(handler())
            return .webSocket
        }
    }
}
