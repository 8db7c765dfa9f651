import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import Gateway

/// ClientHandler carrying out its state machine's decisions on `EmbeddedChannel`s: the
/// client's connection and each upstream connection are in memory, time is moved by hand.
@Suite struct ClientHandlerTests {
    /// Counts the reads that get past the handler to the socket.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    /// Upstream connections the pool opened, in order; `hold` keeps the next one pending.
    final class Upstreams {
        let loop: EmbeddedEventLoop
        var channels: [EmbeddedChannel] = []
        var held: [(EmbeddedChannel, EventLoopPromise<any Channel>)] = []
        var hold = false
        init(loop: EmbeddedEventLoop) { self.loop = loop }

        func connect(_ address: GatewayConfig.Address, _ timeout: TimeAmount, _ eventLoop: any EventLoop) -> EventLoopFuture<any Channel> {
            let channel = EmbeddedChannel(loop: loop)
            try! channel.pipeline.syncOperations.addHandler(UpstreamHandler(), name: "upstream")
            try! channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: address.port)).wait()
            channels.append(channel)
            guard hold else { return loop.makeSucceededFuture(channel) }
            let promise = loop.makePromise(of: (any Channel).self)
            held.append((channel, promise))
            return promise.futureResult
        }

        /// Everything the gateway wrote to upstream `index`, as text.
        func received(_ index: Int) throws -> String {
            var text = ""
            while let bytes = try channels[index].readOutbound(as: ByteBuffer.self) { text += String(buffer: bytes) }
            return text
        }

        /// The last autoRead the handler set on upstream `index` (true if it never did).
        func autoRead(_ index: Int) -> Bool {
            channels[index].options.last { $0.option is ChannelOptions.Types.AutoReadOption }?.value as? Bool ?? true
        }
    }

    final class ManualClock: @unchecked Sendable {
        var now = 1000.0
    }

    struct Connection {
        let client: EmbeddedChannel
        let reads: ReadCounter
        let upstreams: Upstreams
        let clock: ManualClock
        let loop: EmbeddedEventLoop

        /// `accessLog`: where access-log lines go; none are written without one.
        init(_ routes: String = "route /svc/ { upstream 127.0.0.1:9001; strip_prefix /svc; rate off; read_timeout 5s; }",
             accessLog: AccessLogOutput? = nil) throws {
            var config = try GatewayConfig.parse("header_timeout 10s;\n" + routes)
            config.accessLog = accessLog != nil
            loop = EmbeddedEventLoop()
            upstreams = Upstreams(loop: loop)
            clock = ManualClock()
            reads = ReadCounter()
            client = EmbeddedChannel(loop: loop)
            let runtime = GatewayRuntime(config: config, logger: Logger(label: "gateway"), accessLog: accessLog ?? .logger)
            let upstreams = upstreams
            let clock = clock
            let pool = UpstreamPool(eventLoop: loop) { upstreams.connect($0, $1, $2) }
            let pipeline = client.pipeline.syncOperations
            try pipeline.addHandler(reads)
            try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)), name: "decoder")
            try pipeline.addHandler(ClientHandler(runtime: runtime, pool: pool, now: { clock.now }), name: "proxy")
            try client.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 40_000)).wait()
        }

        func send(_ text: String) throws {
            try client.writeInbound(ByteBuffer(string: text))
        }

        /// What the client was sent so far, as text.
        func answers() throws -> String {
            var text = ""
            while let bytes = try client.readOutbound(as: ByteBuffer.self) { text += String(buffer: bytes) }
            return text
        }

        /// Whether the channel's next read reaches the socket.
        func readGoesThrough() -> Bool {
            let before = reads.reads
            client.read()
            return reads.reads > before
        }

        func advance(seconds: Int64) {
            clock.now += Double(seconds)
            loop.advanceTime(by: .seconds(seconds))
        }
    }

    static func ok(_ body: String) -> ByteBuffer {
        ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    @Test func pipelinedRequestsAreServedInOrderAndNothingIsReadWhileTheyWait() throws {
        let connection = try Connection()
        try connection.send("GET /svc/a HTTP/1.1\r\nHost: x\r\n\r\nGET /svc/b HTTP/1.1\r\nHost: x\r\n\r\nGET /svc/c HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try connection.upstreams.received(0).hasPrefix("GET /a HTTP/1.1\r\n"))
        #expect(!connection.readGoesThrough(), "two requests wait: the socket is not read")
        // The upstream turns writable again (the old handler's flag reopened reads here).
        connection.upstreams.channels[0].pipeline.fireChannelWritabilityChanged()
        #expect(!connection.readGoesThrough())

        try connection.upstreams.channels[0].writeInbound(Self.ok("a"))
        #expect(try connection.answers().hasSuffix("\r\n\r\na"))
        #expect(try connection.upstreams.received(0).hasPrefix("GET /b HTTP/1.1\r\n"), "the pooled connection takes /b")
        #expect(connection.reads.reads == 0, "/c still waits")
        try connection.upstreams.channels[0].writeInbound(Self.ok("b"))
        #expect(try connection.answers().hasSuffix("\r\n\r\nb"))
        try connection.upstreams.channels[0].writeInbound(Self.ok("c"))
        #expect(try connection.answers().hasSuffix("\r\n\r\nc"))
        #expect(connection.reads.reads == 1, "the read held back happens when nothing waits")
        #expect(connection.readGoesThrough() && connection.upstreams.channels.count == 1)
    }

    @Test func aBodyArrivingBeforeItsUpstreamStopsReadsUntilTheConnectionIsOpen() throws {
        let connection = try Connection()
        connection.upstreams.hold = true
        let body = String(repeating: "x", count: 100_000)
        try connection.send("POST /svc/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + body)
        #expect(!connection.readGoesThrough(), "100 kB held for an upstream not there yet: no more is read")
        let (upstream, promise) = connection.upstreams.held[0]
        promise.succeed(upstream)
        #expect(connection.reads.reads == 1, "the connection is open: the held read happens")
        let sent = try connection.upstreams.received(0)
        #expect(sent.hasPrefix("POST /upload HTTP/1.1\r\n") && sent.hasSuffix(body))
        try connection.send(body)
        #expect(try connection.upstreams.received(0) == body)
        try upstream.writeInbound(Self.ok("stored"))
        #expect(try connection.answers().hasSuffix("stored"))
    }

    @Test func anIdleConnectionClosesAtItsHeaderDeadlineAndASilentUpstreamGets504() throws {
        let idle = try Connection()
        idle.advance(seconds: 9)
        #expect(idle.client.isActive)
        idle.advance(seconds: 2)
        #expect(!idle.client.isActive, "no request head in 10 s")

        let busy = try Connection()
        try busy.send("GET /svc/slow HTTP/1.1\r\nHost: x\r\n\r\n")
        busy.advance(seconds: 4)
        #expect(try busy.answers().isEmpty)
        busy.advance(seconds: 2)
        let answer = try busy.answers()
        #expect(answer.hasPrefix("HTTP/1.1 504 ") && answer.contains("gateway_timeout"))
        #expect(busy.client.isActive && !busy.upstreams.channels[0].isActive, "the client keeps its connection, the upstream's is dropped")
        busy.advance(seconds: 11)
        #expect(!busy.client.isActive, "then it is idle: its header deadline runs")
    }

    @Test func aDrainClosesAnIdleConnectionAndAnswersTheBusyOneWithClose() throws {
        let idle = try Connection()
        idle.client.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!idle.client.isActive)

        let busy = try Connection()
        try busy.send("GET /svc/a HTTP/1.1\r\nHost: x\r\n\r\n")
        busy.client.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(busy.client.isActive)
        try busy.upstreams.channels[0].writeInbound(Self.ok("last"))
        let answer = try busy.answers()
        #expect(answer.lowercased().contains("connection: close") && answer.hasSuffix("last"))
        #expect(!busy.client.isActive)
    }

    @Test func aSlowClientPausesItsUpstreamAndThePoolGetsItBackReading() throws {
        let connection = try Connection()
        try connection.send("GET /svc/big HTTP/1.1\r\nHost: x\r\n\r\n")
        let upstream = connection.upstreams.channels[0]
        try upstream.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc"))
        connection.client.isWritable = false
        connection.client.pipeline.fireChannelWritabilityChanged()
        #expect(!connection.upstreams.autoRead(0), "the upstream waits for the client")
        connection.client.isWritable = true
        connection.client.pipeline.fireChannelWritabilityChanged()
        #expect(connection.upstreams.autoRead(0))
        connection.client.isWritable = false
        connection.client.pipeline.fireChannelWritabilityChanged()
        try upstream.writeInbound(ByteBuffer(string: "def"))
        #expect(try connection.answers().hasSuffix("abcdef"))
        #expect(connection.upstreams.autoRead(0) && upstream.isActive, "pooled, and reading again for its next lease")
    }

    @Test func aRequestTheGatewayAnswersItselfKeepsTheConnectionAndDropsItsBody() throws {
        let connection = try Connection()
        try connection.send("POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        let answers = try connection.answers()
        #expect(answers.hasPrefix("HTTP/1.1 404 ") && answers.contains("HTTP/1.1 200 OK") && answers.hasSuffix("{\"status\":\"ok\"}"))
        #expect(connection.client.isActive && connection.readGoesThrough())
        #expect(connection.upstreams.channels.isEmpty, "neither went to an upstream")
    }
}
