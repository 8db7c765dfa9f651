import Foundation

/// A Swift value with a fixed BSON form, for building filters and updates without `try`.
public protocol BSONValueConvertible: Sendable {
    var bsonValue: BSONValue { get }
}

extension BSONValue: BSONValueConvertible { public var bsonValue: BSONValue { self } }
extension BSONDocument: BSONValueConvertible { public var bsonValue: BSONValue { .document(self) } }
extension String: BSONValueConvertible { public var bsonValue: BSONValue { .string(self) } }
extension Int: BSONValueConvertible { public var bsonValue: BSONValue { .int64(Int64(self)) } }
extension Int32: BSONValueConvertible { public var bsonValue: BSONValue { .int32(self) } }
extension Int64: BSONValueConvertible { public var bsonValue: BSONValue { .int64(self) } }
extension Double: BSONValueConvertible { public var bsonValue: BSONValue { .double(self) } }
extension Bool: BSONValueConvertible { public var bsonValue: BSONValue { .bool(self) } }
extension ObjectId: BSONValueConvertible { public var bsonValue: BSONValue { .objectId(self) } }
extension Date: BSONValueConvertible {
    public var bsonValue: BSONValue { .datetime(Int64((timeIntervalSince1970 * 1000).rounded(.down))) }
}
extension Optional: BSONValueConvertible where Wrapped: BSONValueConvertible {
    public var bsonValue: BSONValue { self?.bsonValue ?? .null }
}
extension Array: BSONValueConvertible where Element: BSONValueConvertible {
    public var bsonValue: BSONValue { .array(map(\.bsonValue)) }
}
