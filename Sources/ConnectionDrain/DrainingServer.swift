import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A server child channel whose connections drain within `grace` when the server shuts
/// down gracefully (see `DrainState`), and whose responses announce the close that
/// follows them (`ConnectionCloseAnnouncer`).
public struct DrainingChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    public struct Value: ServerChildChannelValue {
        let base: Base.Value
        /// True when the grace period cut the connection.
        let cut: EventLoopFuture<Bool>
        public var channel: any Channel { base.channel }
    }

    let base: Base
    let grace: TimeAmount

    public init(_ base: Base, grace: Duration) {
        self.base = base
        self.grace = TimeAmount(grace)
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let cut = channel.eventLoop.makePromise(of: Bool.self)
        do {
            try channel.pipeline.syncOperations.addHandler(DrainHandler(grace: grace, cut: cut), position: .first)
        } catch {
            cut.succeed(false)
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger).map { Value(base: $0, cut: cut.futureResult) }
    }

    /// The connection's handling, cancelled when the grace period cuts it: a request handler
    /// that never returns must not hold the server's shutdown once its connection is gone.
    public func handle(value: Value, logger: Logger) async {
        let handling = Task { await base.handle(value: value.base, logger: logger) }
        // The cut may come long after the handling ended (a WebSocket served on the event
        // loop returns at once): the callback must not keep the finished task alive till then.
        let running = NIOLockedValueBox<Task<Void, Never>?>(handling)
        value.cut.whenSuccess { cut in if cut { running.withLockedValue { $0 }?.cancel() } }
        await withTaskCancellationHandler {
            await handling.value
        } onCancel: {
            handling.cancel()
        }
        running.withLockedValue { $0 = nil }
    }
}

extension HTTP1Channel.Configuration {
    /// HTTP/1 settings whose responses announce the close that follows them.
    public static func announcingClose(idleTimeout: TimeAmount? = nil) -> Self {
        .init(additionalChannelHandlers: [ConnectionCloseAnnouncer()], idleTimeout: idleTimeout)
    }
}

extension HTTPServerBuilder {
    /// Plain HTTP/1 whose connections drain within `grace` at shutdown and announce every close.
    public static func drainingHTTP1(grace: Duration) -> HTTPServerBuilder {
        .init { responder in
            DrainingChildChannel(HTTP1Channel(responder: responder, configuration: .announcingClose()), grace: grace)
        }
    }
}
