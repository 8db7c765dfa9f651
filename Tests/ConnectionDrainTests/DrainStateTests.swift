import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing
@testable import ConnectionDrain

/// The drain's logic without sockets: the state machine, and each handler on an embedded channel.
@Suite struct DrainStateTests {
    @Test func aConnectionThatSentNothingClosesAtOnceAnyOtherAfterTheGrace() {
        var fresh = DrainState()
        #expect(fresh.drain() == .closeNow)
        #expect(fresh.drain() == .none, "a second quiesce changes nothing")

        var used = DrainState()
        used.read()
        #expect(used.drain() == .closeAfterGrace)
        #expect(used.drain() == .none)
    }

    @Test func theHandlerClosesAnUnusedConnectionNowAndABusyOneWhenTheGraceEnds() throws {
        let unusedLoop = EmbeddedEventLoop()
        let unusedCut = unusedLoop.makePromise(of: Bool.self)
        let unused = EmbeddedChannel(handler: DrainHandler(grace: .seconds(5), cut: unusedCut), loop: unusedLoop)
        try unused.connect(to: .init(ipAddress: "127.0.0.1", port: 1)).wait()
        unused.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!unused.isActive)
        #expect(try unusedCut.futureResult.wait() == false, "closed at once, not cut by the grace")

        let loop = EmbeddedEventLoop()
        let cut = loop.makePromise(of: Bool.self)
        let busy = EmbeddedChannel(handler: DrainHandler(grace: .seconds(5), cut: cut), loop: loop)
        try busy.connect(to: .init(ipAddress: "127.0.0.1", port: 1)).wait()
        try busy.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        #expect(try busy.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "GET / HTTP/1.1\r\n"), "bytes pass through")
        busy.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        loop.advanceTime(by: .milliseconds(4999))
        #expect(busy.isActive, "within the grace the connection may finish")
        loop.advanceTime(by: .milliseconds(1))
        #expect(!busy.isActive, "and is cut when it ends")
        #expect(try cut.futureResult.wait() == true, "which the request handler hears")
    }

    @Test func responsesAnnounceTheCloseThatFollowsThem() throws {
        let channel = EmbeddedChannel(handler: ConnectionCloseAnnouncer())
        func respond() throws -> HTTPResponse? {
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
            guard case .head(let head)? = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
            _ = try channel.readOutbound(as: HTTPResponsePart.self)
            return head
        }
        func request(_ fields: HTTPFields) throws {
            try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: "a", path: "/", headerFields: fields)))
            _ = try channel.readInbound(as: HTTPRequestPart.self)
        }
        try request([:])
        #expect(try respond()?.headerFields[.connection] == nil, "a keep-alive exchange says nothing")
        try request([.connection: "keep-alive, Close"])
        #expect(try respond()?.headerFields[.connection] == "close", "the client asked to close (any case, in a list)")
        try request([:])
        #expect(try respond()?.headerFields[.connection] == nil)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        try request([:])
        #expect(try respond()?.headerFields[.connection] == "close", "a draining server closes after this response")
    }
}
