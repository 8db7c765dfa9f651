import Foundation

/// One Socket.IO 5 packet: `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`.
public struct SocketPacket: Sendable, Equatable {
    public enum Kind: Int, Sendable {
        case connect = 0
        case disconnect = 1
        case event = 2
        case ack = 3
        case connectError = 4
        case binaryEvent = 5
        case binaryAck = 6
    }

    public var kind: Kind
    public var namespace: String
    public var ackId: Int?
    /// The JSON payload, binary attachments in place (`.binary`).
    public var payload: JSONValue?

    public init(_ kind: Kind, namespace: String = "/", ackId: Int? = nil, payload: JSONValue? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.ackId = ackId
        self.payload = payload
    }

    public enum DecodeError: Error, Equatable {
        case invalidType, invalidAttachments, invalidNamespace, invalidPayload, invalidAckId, invalidAttachment
    }

    // MARK: encoding

    /// The text packet and its binary attachments, in order. Packets whose payload holds
    /// binary values become BINARY_EVENT / BINARY_ACK with placeholders.
    public func encode() -> (text: String, attachments: [Data]) {
        var attachments: [Data] = []
        let json = payload.map { Self.extractBinary($0, into: &attachments) }
        var kind = self.kind
        if !attachments.isEmpty {
            if kind == .event { kind = .binaryEvent }
            if kind == .ack { kind = .binaryAck }
        }
        var text = String(kind.rawValue)
        if kind == .binaryEvent || kind == .binaryAck { text += "\(attachments.count)-" }
        if namespace != "/" { text += namespace + "," }
        if let ackId { text += String(ackId) }
        if let json { json.write(to: &text) }
        return (text, attachments)
    }

    static func extractBinary(_ value: JSONValue, into attachments: inout [Data]) -> JSONValue {
        switch value {
        case .binary(let data):
            attachments.append(data)
            return .object([("_placeholder", .bool(true)), ("num", .number(Double(attachments.count - 1)))])
        case .array(let items): return .array(items.map { extractBinary($0, into: &attachments) })
        case .object(let members): return .object(members.map { ($0.0, extractBinary($0.1, into: &attachments)) })
        default: return value
        }
    }

    // MARK: decoding

    /// A decoded text packet and how many binary frames must follow it.
    public static func decode(_ text: String) throws -> (packet: SocketPacket, attachments: Int) {
        let bytes = Array(text.utf8)
        var position = 0
        guard let first = bytes.first, let kind = Kind(rawValue: Int(first) - 48) else { throw DecodeError.invalidType }
        position = 1
        var attachments = 0
        if kind == .binaryEvent || kind == .binaryAck {
            let start = position
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            guard position > start, position - start <= 4, position < bytes.count, bytes[position] == UInt8(ascii: "-"),
                  let count = Int(String(decoding: bytes[start..<position], as: UTF8.self)) else { throw DecodeError.invalidAttachments }
            attachments = count
            position += 1
        }
        var namespace = "/"
        if position < bytes.count, bytes[position] == UInt8(ascii: "/") {
            let start = position
            while position < bytes.count, bytes[position] != UInt8(ascii: ",") { position += 1 }
            namespace = String(decoding: bytes[start..<position], as: UTF8.self)
            if position < bytes.count { position += 1 }  // the comma
        }
        var ackId: Int?
        let idStart = position
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        if position > idStart {
            guard position - idStart <= 15, let id = Int(String(decoding: bytes[idStart..<position], as: UTF8.self)) else { throw DecodeError.invalidAckId }
            ackId = id
        }
        var payload: JSONValue?
        if position < bytes.count {
            do { payload = try JSONValue.parse(bytes[position...]) } catch { throw DecodeError.invalidPayload }
        }
        let packet = SocketPacket(kind, namespace: namespace, ackId: ackId, payload: payload)
        try packet.validate(attachments: attachments)
        return (packet, attachments)
    }

    /// The shape each kind must have, as a client sends it.
    func validate(attachments: Int) throws {
        switch kind {
        case .connect:
            if let payload, !payload.isObject { throw DecodeError.invalidPayload }
        case .disconnect:
            if payload != nil { throw DecodeError.invalidPayload }
        case .event, .binaryEvent:
            guard let items = payload?.arrayValue, let name = items.first, name.stringValue != nil else { throw DecodeError.invalidPayload }
        case .ack, .binaryAck:
            guard ackId != nil else { throw DecodeError.invalidAckId }
            guard payload?.arrayValue != nil else { throw DecodeError.invalidPayload }
        case .connectError:
            throw DecodeError.invalidType  // only a server sends it
        }
        if kind == .binaryEvent || kind == .binaryAck, attachments < 1 { throw DecodeError.invalidAttachments }
    }

    /// Puts the binary frames that followed the packet in place of their placeholders.
    public mutating func attach(_ buffers: [Data]) throws {
        guard let payload else { return }
        self.payload = try Self.fill(payload, buffers)
    }

    static func fill(_ value: JSONValue, _ buffers: [Data]) throws -> JSONValue {
        switch value {
        case .object(let members):
            if value["_placeholder"] == .bool(true), case .number(let n)? = value["num"] {
                guard n >= 0, n == n.rounded(), Int(n) < buffers.count else { throw DecodeError.invalidAttachment }
                return .binary(buffers[Int(n)])
            }
            return .object(try members.map { ($0.0, try fill($0.1, buffers)) })
        case .array(let items): return .array(try items.map { try fill($0, buffers) })
        default: return value
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
}
