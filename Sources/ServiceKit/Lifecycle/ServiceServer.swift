import ConnectionDrain
import HummingbirdCore

extension ServiceConfiguration {
    /// Every service's HTTP/1 server: at shutdown its connections drain within
    /// `SHUTDOWN_GRACE_SECONDS`, and each close is announced with `Connection: close`.
    public var httpServer: HTTPServerBuilder { .drainingHTTP1(grace: shutdownGrace) }
}
