import BSON
import Hummingbird

extension ServiceContext {
    /// The path parameter `name` as an id (24 hex digits), or 400 `invalid_id` saying what it names.
    public func idParameter(_ name: String, naming what: String) throws -> ObjectId {
        guard let raw = parameters.get(name), let id = ObjectId(raw) else {
            throw APIError.badRequest("\(name) must be \(what) (24 hex digits)", code: "invalid_id")
        }
        return id
    }
}
