import CMongoc

/// What went wrong talking to MongoDB, sorted by what a caller does about it.
public enum MongoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A unique index refused the write (server code 11000).
    case duplicateKey(message: String)
    /// The server is unreachable or no suitable server was found in time: a 503 for the caller.
    case unavailable(message: String)
    /// The server refused the operation.
    case server(code: UInt32, message: String)
    /// The driver refused the operation before sending it.
    case client(domain: UInt32, code: UInt32, message: String)
    /// A GridFS file that does not exist.
    case fileNotFound
    /// A document that cannot be stored or read back as the expected type.
    case invalidDocument(String)

    init(domain: UInt32, code: UInt32, message: String) {
        switch domain {
        case MONGOC_ERROR_SERVER.rawValue, MONGOC_ERROR_WRITE_CONCERN.rawValue, MONGOC_ERROR_QUERY.rawValue:
            self = code == 11000 || code == 11001 ? .duplicateKey(message: message) : .server(code: code, message: message)
        case MONGOC_ERROR_STREAM.rawValue, MONGOC_ERROR_SERVER_SELECTION.rawValue:
            self = .unavailable(message: message)
        case MONGOC_ERROR_GRIDFS.rawValue where code == MONGOC_ERROR_GRIDFS_BUCKET_FILE_NOT_FOUND.rawValue:
            self = .fileNotFound
        default:
            self = .client(domain: domain, code: code, message: message)
        }
    }

    public var description: String {
        switch self {
        case .duplicateKey(let m): "duplicate key: \(m)"
        case .unavailable(let m): "MongoDB unavailable: \(m)"
        case .server(let c, let m): "MongoDB error \(c): \(m)"
        case .client(let d, let c, let m): "MongoDB driver error \(d).\(c): \(m)"
        case .fileNotFound: "GridFS file not found"
        case .invalidDocument(let m): "invalid document: \(m)"
        }
    }
}
