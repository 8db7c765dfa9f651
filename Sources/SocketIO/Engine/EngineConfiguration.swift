/// Engine.IO settings; the handshake tells the client the first three.
public struct EngineConfiguration: Sendable {
    /// How often the server pings.
    public var pingInterval: Duration
    /// How long it waits for the pong before the session is dead.
    public var pingTimeout: Duration
    /// The largest message or polling payload accepted, in bytes.
    public var maxPayload: Int

    public init(pingInterval: Duration = .seconds(25), pingTimeout: Duration = .seconds(20), maxPayload: Int = 1_000_000) {
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    /// The open packet's JSON: a WebSocket session has nothing to upgrade to.
    func handshake(sid: String, canUpgrade: Bool) -> String {
        let upgrades = canUpgrade ? #"["websocket"]"# : "[]"
        return #"{"sid":"\#(sid)","upgrades":\#(upgrades),"pingInterval":\#(pingInterval.milliseconds),"pingTimeout":\#(pingTimeout.milliseconds),"maxPayload":\#(maxPayload)}"#
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
