import Foundation

/// A payload with a place in the event contract: its routing type and schema version.
public protocol EventPayload: Codable, Sendable, Equatable {
    static var type: String { get }
    static var version: Int { get }
}

/// What travels on the backbone: DESIGN.md's `{id, type, version, occurredAt, correlationId, data}`.
public struct EventEnvelope<Payload: EventPayload>: Codable, Sendable, Equatable {
    /// Unique per event: consumers use it to apply each event once.
    public let id: String
    public let type: String
    public let version: Int
    public let occurredAt: Date
    /// The request that caused the event, carried into every handler's logs.
    public let correlationId: String
    public let data: Payload

    public init(_ data: Payload, correlationId: String, id: String = UUID().uuidString.lowercased(), occurredAt: Date = Date()) {
        self.id = id
        self.type = Payload.type
        self.version = Payload.version
        // Whole milliseconds, as BSON and JSON round-trip them.
        self.occurredAt = Date(timeIntervalSince1970: (occurredAt.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        self.correlationId = correlationId
        self.data = data
    }
}

/// The envelope's fields without the payload: enough to route, log and de-duplicate
/// a message whose payload turns out not to decode.
public struct EventHeader: Codable, Sendable {
    public let id: String
    public let type: String
    public let version: Int
    public let correlationId: String
}

public enum EventCoding {
    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))
        }
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) { return date }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 date: \(text)")
        }
        return d
    }()
}
