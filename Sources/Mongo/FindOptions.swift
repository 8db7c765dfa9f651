import BSON

public enum SortOrder: Int32, Sendable {
    case ascending = 1
    case descending = -1
}

/// Options of a find: sort, paging and which fields to return.
public struct FindOptions: Sendable {
    public var sort: [(field: String, order: SortOrder)]
    public var limit: Int?
    public var skip: Int?
    /// Fields to return; nil returns whole documents.
    public var projection: [String]?
    /// Documents fetched from the server per round trip.
    public var batchSize: Int

    public init(
        sort: [(field: String, order: SortOrder)] = [], limit: Int? = nil, skip: Int? = nil,
        projection: [String]? = nil, batchSize: Int = 100
    ) {
        self.sort = sort
        self.limit = limit
        self.skip = skip
        self.projection = projection
        self.batchSize = batchSize
    }

    var sortDocument: BSONDocument? {
        guard !sort.isEmpty else { return nil }
        var doc = BSONDocument()
        for s in sort {
            precondition(FieldName.isValid(s.field), "sort fields come from code: \(s.field)")
            doc.append(s.field, .int32(s.order.rawValue))
        }
        return doc
    }

    var document: BSONDocument {
        var doc = BSONDocument()
        if let sortDocument { doc.append("sort", .document(sortDocument)) }
        if let limit { doc.append("limit", .int64(Int64(limit))) }
        if let skip { doc.append("skip", .int64(Int64(skip))) }
        if let projection {
            var p = BSONDocument()
            for field in projection { p.append(field, .int32(1)) }
            doc.append("projection", .document(p))
        }
        doc.append("batchSize", .int32(Int32(clamping: batchSize)))
        return doc
    }
}

/// What an update did.
public struct UpdateResult: Sendable, Equatable {
    public let matched: Int
    public let modified: Int
    public let upsertedId: BSONValue?
}
