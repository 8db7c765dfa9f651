/// Where WebSocket frames end in a byte stream the gateway relays without reading, so a
/// close frame can be put between two frames when the gateway drains (RFC 6455 §5.4 lets
/// a control frame come between the fragments of a message). Reads only frame heads: the
/// payload is skipped by its length, so the cost is a few bytes per frame.
struct WebSocketFrames: Sendable, Equatable {
    private var head: [UInt8] = []
    private var payloadLeft: UInt64 = 0

    /// Between two frames (nothing of a frame has passed yet).
    var atBoundary: Bool { head.isEmpty && payloadLeft == 0 }

    /// Reads `bytes`; returns the offsets in it just after each frame that ends there.
    mutating func read(_ bytes: some Collection<UInt8>) -> [Int] {
        var ends: [Int] = []
        var offset = 0
        var index = bytes.startIndex
        while index != bytes.endIndex {
            if payloadLeft > 0 {
                let available = UInt64(bytes.distance(from: index, to: bytes.endIndex))
                let take = min(payloadLeft, available)
                index = bytes.index(index, offsetBy: Int(take))
                offset += Int(take)
                payloadLeft -= take
                if payloadLeft == 0 { ends.append(offset) }
                continue
            }
            head.append(bytes[index])
            index = bytes.index(after: index)
            offset += 1
            if let length = Self.payloadLength(head) {
                head.removeAll(keepingCapacity: true)
                payloadLeft = length
                if length == 0 { ends.append(offset) }
            }
        }
        return ends
    }

    /// The payload length once `head` holds a whole frame head, else nil.
    static func payloadLength(_ head: [UInt8]) -> UInt64? {
        guard head.count >= 2 else { return nil }
        let masked = head[1] & 0x80 != 0
        let short = UInt64(head[1] & 0x7F)
        let lengthBytes = short == 126 ? 2 : short == 127 ? 8 : 0
        guard head.count == 2 + lengthBytes + (masked ? 4 : 0) else { return nil }
        guard lengthBytes > 0 else { return short }
        return head[2..<(2 + lengthBytes)].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A server's close frame with status 1001 (going away).
    static let goingAway: [UInt8] = [0x88, 0x02, 0x03, 0xE9]
}
