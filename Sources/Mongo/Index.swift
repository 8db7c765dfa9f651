import BSON

/// An index to create: keys in order, with unique and TTL options.
public struct Index: Sendable {
    public var keys: [(field: String, order: SortOrder)]
    public var name: String
    public var unique: Bool
    /// Documents expire this long after the date in the (single) indexed field.
    public var expireAfterSeconds: Int?

    public init(_ keys: [(field: String, order: SortOrder)], name: String? = nil, unique: Bool = false, expireAfterSeconds: Int? = nil) {
        precondition(!keys.isEmpty, "an index needs at least one key")
        self.keys = keys
        self.name = name ?? keys.map { "\($0.field)_\($0.order.rawValue)" }.joined(separator: "_")
        self.unique = unique
        self.expireAfterSeconds = expireAfterSeconds
    }

    /// A single-field index.
    public init(_ field: String, _ order: SortOrder = .ascending, unique: Bool = false, expireAfterSeconds: Int? = nil) {
        self.init([(field, order)], unique: unique, expireAfterSeconds: expireAfterSeconds)
    }

    var document: BSONDocument {
        var doc: BSONDocument = ["key": .document(FindOptions(sort: keys).sortDocument ?? [:]), "name": .string(name)]
        if unique { doc.append("unique", true) }
        if let expireAfterSeconds { doc.append("expireAfterSeconds", .int32(Int32(clamping: expireAfterSeconds))) }
        return doc
    }
}
