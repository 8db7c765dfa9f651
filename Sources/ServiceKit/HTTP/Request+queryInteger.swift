import Hummingbird

extension Request {
    /// The query parameter `name` as a whole number in `range` (`fallback` when absent), or
    /// 400 `invalid_<name>` saying what it must be.
    public func queryInteger(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let raw = uri.queryParameters[name[...]] else { return fallback }
        guard let value = Int(String(raw)), range.contains(value) else {
            throw APIError.badRequest("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)", code: "invalid_\(name)")
        }
        return value
    }
}
