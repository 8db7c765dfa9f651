import BSON

/// A query filter. Field names come from code; values — where user input goes —
/// are always wrapped in an explicit operator (`$eq`, `$in`, …), so a value that
/// looks like `{"$ne": null}` is compared literally and can never become an operator.
public struct Filter: Sendable, Equatable {
    public let document: BSONDocument

    init(_ document: BSONDocument) { self.document = document }

    public static let all = Filter([:])

    public static func eq(_ field: String, _ value: some BSONValueConvertible) -> Filter { op(field, "$eq", value.bsonValue) }
    public static func ne(_ field: String, _ value: some BSONValueConvertible) -> Filter { op(field, "$ne", value.bsonValue) }
    public static func gt(_ field: String, _ value: some BSONValueConvertible) -> Filter { op(field, "$gt", value.bsonValue) }
    public static func gte(_ field: String, _ value: some BSONValueConvertible) -> Filter { op(field, "$gte", value.bsonValue) }
    public static func lt(_ field: String, _ value: some BSONValueConvertible) -> Filter { op(field, "$lt", value.bsonValue) }
    public static func lte(_ field: String, _ value: some BSONValueConvertible) -> Filter { op(field, "$lte", value.bsonValue) }
    public static func `in`(_ field: String, _ values: [some BSONValueConvertible]) -> Filter {
        op(field, "$in", .array(values.map(\.bsonValue)))
    }
    public static func nin(_ field: String, _ values: [some BSONValueConvertible]) -> Filter {
        op(field, "$nin", .array(values.map(\.bsonValue)))
    }
    public static func exists(_ field: String, _ exists: Bool = true) -> Filter { op(field, "$exists", .bool(exists)) }

    /// Case-insensitive "starts with", with the user's text escaped so it matches literally.
    public static func hasPrefix(_ field: String, _ text: String, caseInsensitive: Bool = true) -> Filter {
        op(field, "$regex", .string("^" + escapeRegex(text)), extra: ("$options", .string(caseInsensitive ? "i" : "")))
    }

    public static func and(_ filters: [Filter]) -> Filter { Filter(["$and": .array(filters.map { .document($0.document) })]) }
    public static func or(_ filters: [Filter]) -> Filter { Filter(["$or": .array(filters.map { .document($0.document) })]) }

    public static func && (a: Filter, b: Filter) -> Filter { .and([a, b]) }
    public static func || (a: Filter, b: Filter) -> Filter { .or([a, b]) }

    private static func op(_ field: String, _ op: String, _ value: BSONValue, extra: (String, BSONValue)? = nil) -> Filter {
        precondition(FieldName.isValid(field), "field names come from code and never start with $: \(field)")
        var condition: BSONDocument = [op: value]
        if let extra { condition.append(extra.0, extra.1) }
        return Filter([field: .document(condition)])
    }

    static func escapeRegex(_ text: String) -> String {
        var out = ""
        for c in text {
            if "\\^$.|?*+()[]{}".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

enum FieldName {
    static func isValid(_ field: String) -> Bool {
        !field.isEmpty && !field.hasPrefix("$") && !field.utf8.contains(0) && !field.split(separator: ".", omittingEmptySubsequences: false).contains { $0.isEmpty || $0.hasPrefix("$") }
    }

    /// Refuses documents with keys MongoDB would read as operators, wherever they are nested:
    /// stored data comes partly from users, and must never carry a `$` key into a query or update.
    static func checkStorable(_ document: BSONDocument) throws {
        for element in document {
            if element.key.hasPrefix("$") { throw MongoError.invalidDocument("field name \"\(element.key)\" starts with $") }
            try checkStorable(element.value)
        }
    }

    static func checkStorable(_ value: BSONValue) throws {
        switch value {
        case .document(let d): try checkStorable(d)
        case .array(let values): for v in values { try checkStorable(v) }
        default: break
        }
    }
}
