import Foundation

/// One Engine.IO 4 packet: the transport-level frame under Socket.IO.
public enum EnginePacket: Sendable, Equatable {
    case open(String)
    case close
    /// `2probe` during an upgrade; plain `2` otherwise.
    case ping(String)
    case pong(String)
    case message(EngineMessage)
    case upgrade
    case noop

    public enum DecodeError: Error, Equatable {
        case invalidPacket
        case invalidBase64
    }

    /// The text form (`4hello`); a binary message has none (it travels as a binary frame).
    public var text: String? {
        switch self {
        case .open(let json): "0" + json
        case .close: "1"
        case .ping(let data): "2" + data
        case .pong(let data): "3" + data
        case .message(.text(let text)): "4" + text
        case .message(.binary): nil
        case .upgrade: "5"
        case .noop: "6"
        }
    }

    /// A text frame or one packet of a polling payload.
    public static func decode(text: Substring) throws -> EnginePacket {
        guard let first = text.first else { throw DecodeError.invalidPacket }
        let rest = String(text.dropFirst())
        switch first {
        case "0": return .open(rest)
        case "1": return .close
        case "2": return .ping(rest)
        case "3": return .pong(rest)
        case "4": return .message(.text(rest))
        case "5": return .upgrade
        case "6": return .noop
        default: throw DecodeError.invalidPacket
        }
    }

    /// Packets of an HTTP long-polling payload: separated by the record separator, a
    /// binary packet written as `b` and its base64.
    public static func decode(payload: String) throws -> [EnginePacket] {
        guard !payload.isEmpty else { throw DecodeError.invalidPacket }
        return try payload.split(separator: "\u{1e}", omittingEmptySubsequences: false).map { part in
            if part.first == "b" {
                guard let data = Data(base64Encoded: String(part.dropFirst())) else { throw DecodeError.invalidBase64 }
                return .message(.binary(data))
            }
            return try decode(text: part)
        }
    }

    /// The polling payload for `packets`.
    public static func encode(payload packets: [EnginePacket]) -> String {
        packets.map { packet in
            if case .message(.binary(let data)) = packet { return "b" + data.base64EncodedString() }
            return packet.text ?? ""
        }.joined(separator: "\u{1e}")
    }
}

/// What an Engine.IO message carries.
public enum EngineMessage: Sendable, Equatable {
    case text(String)
    case binary(Data)
}
