extension KeyedDecodingContainer {
    /// The string under `key`, else under `alias` (the other seed designs' name); a missing
    /// field is reported under `key`, the reference system's name.
    public func decode(_ key: Key, alias: Key) throws -> String {
        if let value = try decodeIfPresent(String.self, forKey: key) { return value }
        if contains(alias) { return try decode(String.self, forKey: alias) }
        return try decode(String.self, forKey: key)
    }
}
