import Hummingbird

/// The reference system's response envelope: `{"message": "...", "data": ...}`.
public struct Envelope<Data: Encodable & Sendable>: ResponseEncodable, Sendable {
    public let message: String
    public let data: Data

    public init(_ message: String, _ data: Data) {
        self.message = message
        self.data = data
    }
}

/// A response with only a message, such as `{"message": "Logged out successfully"}`.
public struct Message: ResponseEncodable, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }
}
