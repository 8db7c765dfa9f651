import Foundation

// Inside BSON, `BSONEncoder`/`BSONDecoder` pass these types through unchanged.
// With other coders (JSON for APIs and logs) they take their natural JSON form:
// ObjectId as hex, datetime as milliseconds, binary as base64.

extension BSONValue: Codable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .double(let v): try c.encode(v)
        case .string(let v), .javascript(let v): try c.encode(v)
        case .document(let d): try c.encode(d)
        case .array(let a): try c.encode(a)
        case .binary(let b): try c.encode(Data(b.bytes).base64EncodedString())
        case .undefined, .null, .minKey, .maxKey: try c.encodeNil()
        case .objectId(let id): try c.encode(id.hex)
        case .bool(let v): try c.encode(v)
        case .datetime(let v), .int64(let v): try c.encode(v)
        case .regex(let pattern, _): try c.encode(pattern)
        case .int32(let v): try c.encode(v)
        case .timestamp(let v): try c.encode(v)
        case .decimal128(let d): try c.encode([d.low, d.high])
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let v = try? c.decode(Bool.self) {
            self = .bool(v)
        } else if let v = try? c.decode(Int64.self) {
            self = .int64(v)
        } else if let v = try? c.decode(Double.self) {
            self = .double(v)
        } else if let v = try? c.decode(String.self) {
            self = .string(v)
        } else if let v = try? c.decode([BSONValue].self) {
            self = .array(v)
        } else {
            self = .document(try c.decode(BSONDocument.self))
        }
    }
}

private struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

extension BSONDocument: Codable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        for element in elements { try c.encode(element.value, forKey: AnyKey(stringValue: element.key)) }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        self.init(try c.allKeys.map { BSONElement(key: $0.stringValue, value: try c.decode(BSONValue.self, forKey: $0)) })
    }
}
