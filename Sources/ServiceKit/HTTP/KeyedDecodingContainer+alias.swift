extension KeyedDecodingContainer {
    /// The string under `key`, else under `alias` (the other seed designs' name); a missing
    /// field is reported under `key`, the reference system's name.
    public func decode(_ key: Key, alias: Key) throws -> String {
        if let value = try decodeIfPresent(key, alias: alias) { return value }
        return try decode(String.self, forKey: key)
    }

    /// The string under `key`, else under `alias`, if either is there. Both are read when
    /// both are sent: a wrong type (an operator object, say) under either name is an error,
    /// never ignored because the other name was fine.
    public func decodeIfPresent(_ key: Key, alias: Key) throws -> String? {
        let primary = try decodeIfPresent(String.self, forKey: key)
        let secondary = try decodeIfPresent(String.self, forKey: alias)
        return primary ?? secondary
    }
}
