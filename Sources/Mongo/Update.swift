import BSON

/// An update built from operators: `$set`, `$unset`, `$inc`, `$push`, `$pull`,
/// `$addToSet`, `$setOnInsert`. Chain them: `Update.set("name", n).inc("edits", 1)`.
public struct Update: Sendable, Equatable {
    public private(set) var document = BSONDocument()

    public init() {}

    public static func set(_ field: String, _ value: some BSONValueConvertible) -> Update { Update().set(field, value) }
    /// Sets every field of `fields` (for example an encoded struct), each under its own key.
    public static func set(_ fields: BSONDocument) -> Update { Update().set(fields) }
    public static func unset(_ field: String) -> Update { Update().unset(field) }
    public static func inc(_ field: String, _ by: some BSONValueConvertible) -> Update { Update().inc(field, by) }
    public static func push(_ field: String, _ value: some BSONValueConvertible) -> Update { Update().push(field, value) }
    public static func pull(_ field: String, _ value: some BSONValueConvertible) -> Update { Update().pull(field, value) }
    public static func addToSet(_ field: String, _ value: some BSONValueConvertible) -> Update { Update().addToSet(field, value) }

    public func set(_ field: String, _ value: some BSONValueConvertible) -> Update { adding("$set", field, value.bsonValue) }
    public func set(_ fields: BSONDocument) -> Update {
        fields.reduce(self) { $0.adding("$set", $1.key, $1.value) }
    }
    public func setOnInsert(_ field: String, _ value: some BSONValueConvertible) -> Update {
        adding("$setOnInsert", field, value.bsonValue)
    }
    public func setOnInsert(_ fields: BSONDocument) -> Update {
        fields.reduce(self) { $0.adding("$setOnInsert", $1.key, $1.value) }
    }
    public func unset(_ field: String) -> Update { adding("$unset", field, .string("")) }
    public func inc(_ field: String, _ by: some BSONValueConvertible) -> Update { adding("$inc", field, by.bsonValue) }
    public func push(_ field: String, _ value: some BSONValueConvertible) -> Update { adding("$push", field, value.bsonValue) }
    /// Removes every array element equal to `value` (compared literally, never as a condition).
    public func pull(_ field: String, _ value: some BSONValueConvertible) -> Update {
        adding("$pull", field, .document(["$in": .array([value.bsonValue])]))
    }
    /// Sets the field to `value` unless it already holds a greater one.
    public func max(_ field: String, _ value: some BSONValueConvertible) -> Update { adding("$max", field, value.bsonValue) }
    public func addToSet(_ field: String, _ value: some BSONValueConvertible) -> Update {
        adding("$addToSet", field, value.bsonValue)
    }

    private func adding(_ op: String, _ field: String, _ value: BSONValue) -> Update {
        precondition(FieldName.isValid(field), "field names come from code and never start with $: \(field)")
        var copy = self
        var fields = copy.document[op]?.documentValue ?? BSONDocument()
        fields[field] = value
        copy.document[op] = .document(fields)
        return copy
    }

    /// Values must not smuggle operator keys into stored documents.
    func checked() throws -> BSONDocument {
        for op in document {
            for field in op.value.documentValue ?? [:] {
                // `$pull` wraps its value in our own `$in`; check what is inside.
                let value = op.key == "$pull" ? field.value.documentValue?["$in"] ?? .null : field.value
                try FieldName.checkStorable(value)
            }
        }
        return document
    }
}
